package store

import (
	"errors"
	"os"
	"path/filepath"
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
	// Even with the record gone, the kept tokens are found.
	if err := os.Remove(filepath.Join(dir, "users", "github.com.json")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "github.com", "Iv1.a"); err != nil || got.RefreshToken != "ghr_rotated" {
		t.Errorf("Load of the pending file alone = %q, %v", got.RefreshToken, err)
	}
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
