package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A refresh reserves room before it spends the refresh token; tokens kept
// there (the record itself could not be written) are what Load returns
// until the next Save takes them in, and Delete forgets them with the
// record.
func TestReservedTokensOutliveAFailedSave(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	e := entry("github.com", "Iv1.a")
	if _, err := s.Save(ctx, e); err != nil {
		t.Fatal(err)
	}
	loaded, err := s.Load(ctx, "github.com", "Iv1.a")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Reserve(ctx, loaded)
	if err != nil {
		t.Fatal(err)
	}
	pending := filepath.Join(dir, "users", "github.com.pending.json")
	if _, err := os.Stat(pending); err != nil {
		t.Fatalf("Reserve wrote no pending file: %v", err)
	}
	rotated := loaded
	rotated.AccessToken, rotated.RefreshToken = "ghu_rotated", "ghr_rotated"
	rotated.RefreshedAt = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	if _, err := res.Keep(rotated); err != nil {
		t.Fatal(err)
	}
	res.Release() // kept: the pending file stays
	got, err := s.Load(ctx, "github.com", "Iv1.a")
	if err != nil || got.RefreshToken != "ghr_rotated" {
		t.Fatalf("Load after Keep = %q, %v; want the kept tokens", got.RefreshToken, err)
	}
	// Delete forgets the record and the kept tokens together.
	if _, err := s.Delete(ctx, "github.com", "Iv1.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pending); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Delete left the pending tokens: %v", err)
	}
	if _, err := s.Load(ctx, "github.com", "Iv1.a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete = %v, want ErrNotFound", err)
	}
}

// A reservation released unused leaves nothing behind, and a plain sign-in
// (no pending file ever written) deletes cleanly.
func TestReleasedReservationAndPlainDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	if _, err := s.Save(ctx, entry("github.com", "Iv1.a")); err != nil {
		t.Fatal(err)
	}
	loaded, _ := s.Load(ctx, "github.com", "Iv1.a")
	res, err := s.Reserve(ctx, loaded)
	if err != nil {
		t.Fatal(err)
	}
	res.Release()
	if _, err := os.Stat(filepath.Join(dir, "users", "github.com.pending.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Release left the pending file: %v", err)
	}
	if _, err := s.Delete(ctx, "github.com", "Iv1.a"); err != nil {
		t.Errorf("Delete without a pending file = %v", err)
	}
}

// Keep writes in place: the pending file keeps the size Reserve gave it,
// so that a full disk cannot refuse the rotated tokens. Tokens that no
// longer fit are refused, not truncated.
func TestKeepWritesInTheReservedRoom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"encrypted", Options{Mode: "file", Passphrase: "p"}},
		{"plaintext", Options{Mode: "file", AllowPlaintext: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := t.TempDir()
			tc.o.Dir = dir
			s := open(t, tc.o)
			if _, err := s.Save(ctx, entry("github.com", "Iv1.a")); err != nil {
				t.Fatal(err)
			}
			loaded, _ := s.Load(ctx, "github.com", "Iv1.a")
			res, err := s.Reserve(ctx, loaded)
			if err != nil {
				t.Fatal(err)
			}
			pending := filepath.Join(dir, "users", "github.com.pending.json")
			before, err := os.Stat(pending)
			if err != nil {
				t.Fatal(err)
			}
			rotated := loaded
			rotated.RefreshToken = "ghr_rotated"
			rotated.RefreshedAt = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			loc, err := res.Keep(rotated)
			if err != nil {
				t.Fatal(err)
			}
			encrypted := tc.o.Passphrase != ""
			if loc.Path != pending || loc.Encrypted != encrypted {
				t.Errorf("Keep's location = %+v, want %s, encrypted %v", loc, pending, encrypted)
			}
			if after, _ := os.Stat(pending); after.Size() != before.Size() {
				t.Errorf("pending file %d bytes after Keep, %d reserved", after.Size(), before.Size())
			}
			// With the record gone, the kept tokens are found, and said to
			// be where they are.
			if err := os.Remove(filepath.Join(dir, "users", "github.com.json")); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(ctx, "github.com", "Iv1.a")
			if err != nil || got.RefreshToken != "ghr_rotated" || got.Location.Path != pending || got.Location.Encrypted != encrypted {
				t.Errorf("Load of the pending file alone = %q at %+v, %v", got.RefreshToken, got.Location, err)
			}
			// The room is the reserved record's size, 4 KiB and a newline: a
			// record that much larger (in plaintext, exactly the room) no
			// longer fits, and is refused.
			bigger := loaded
			bigger.AccessToken += strings.Repeat("x", reservePad+1)
			if _, err := res.Keep(bigger); err == nil || !strings.Contains(err.Error(), "too small") {
				t.Errorf("Keep of a record larger than the room = %v, want it refused", err)
			}
			if got, _ := s.Load(ctx, "github.com", "Iv1.a"); got.RefreshToken != "ghr_rotated" {
				t.Errorf("a refused Keep changed the kept tokens: %q", got.RefreshToken)
			}
		})
	}
}

// A sign-in kept in plaintext (--insecure-storage) can be refreshed by a
// later process that has neither a passphrase nor the flag: the file stays
// as its owner chose.
func TestPlaintextSignInCanBeReservedWithoutTheFlag(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	if _, err := open(t, Options{Mode: "file", Dir: dir, AllowPlaintext: true}).Save(ctx, entry("github.com", "Iv1.a")); err != nil {
		t.Fatal(err)
	}
	later := open(t, Options{Mode: "file", Dir: dir})
	loaded, err := later.Load(ctx, "github.com", "Iv1.a")
	if err != nil {
		t.Fatal(err)
	}
	res, err := later.Reserve(ctx, loaded)
	if err != nil {
		t.Fatalf("Reserve of a plaintext sign-in = %v", err)
	}
	res.Release()
	// A new sign-in in that store is another matter: it needs a passphrase.
	if _, err := later.Reserve(ctx, entry("ghe.example", "Iv1.a")); !errors.Is(err, ErrNeedPassphrase) {
		t.Errorf("Reserve of a new sign-in without a passphrase = %v, want ErrNeedPassphrase", err)
	}
}
