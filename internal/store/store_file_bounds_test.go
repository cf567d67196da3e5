package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// envelopeOf reads the token file's scrypt cost and salt.
func envelopeOf(t *testing.T, path string) (logN int, salt string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Scrypt == nil {
		t.Fatalf("%s: %v", path, err)
	}
	return env.Scrypt.LogN, env.Salt
}

// New files cost 2^15 unless told otherwise; costs from 2^10 to 2^16 are
// accepted, others refused when the Store is opened.
func TestScryptCostOption(t *testing.T) {
	t.Parallel()
	s, err := Open(Options{Mode: "file", Dir: t.TempDir(), Passphrase: "p"})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := s.Save(t.Context(), entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if logN, _ := envelopeOf(t, loc.Path); logN != 15 {
		t.Errorf("default cost 2^%d, want 2^15", logN)
	}
	for _, logN := range []int{10, 16} {
		if _, err := Open(Options{Mode: "file", Dir: t.TempDir(), ScryptLogN: logN}); err != nil {
			t.Errorf("cost 2^%d: %v", logN, err)
		}
	}
	for _, logN := range []int{9, 17, -1} {
		if _, err := Open(Options{Mode: "file", Dir: t.TempDir(), ScryptLogN: logN}); err == nil || !strings.Contains(err.Error(), "scrypt cost") {
			t.Errorf("cost 2^%d: %v", logN, err)
		}
	}
}

// Rewriting a file (a refresh) keeps its salt, so that no second scrypt
// run is needed, with a fresh nonce each time; a Store with another cost
// rewrites it with a new salt at its own cost.
func TestRewriteKeepsTheSaltOfTheSameCost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	loc, err := s.Save(t.Context(), entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	_, salt1 := envelopeOf(t, loc.Path)
	first, _ := os.ReadFile(loc.Path)
	if _, err := s.Save(t.Context(), entry("github.com", "c2")); err != nil {
		t.Fatal(err)
	}
	_, salt2 := envelopeOf(t, loc.Path)
	second, _ := os.ReadFile(loc.Path)
	if salt1 != salt2 {
		t.Error("a rewrite by the same Store drew a new salt")
	}
	if bytes.Equal(first, second) {
		t.Error("a rewrite reused the whole file")
	}
	costlier := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p", ScryptLogN: minLogN + 1})
	if _, err := costlier.Load(t.Context(), "github.com", "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := costlier.Save(t.Context(), entry("github.com", "c3")); err != nil {
		t.Fatal(err)
	}
	logN, salt3 := envelopeOf(t, loc.Path)
	if logN != minLogN+1 || salt3 == salt1 {
		t.Errorf("rewrite at another cost: cost 2^%d, same salt %v; want 2^%d and a new salt", logN, salt3 == salt1, minLogN+1)
	}
}

// A token file of up to 1 MiB is read; a larger one is refused as too
// large (and not read past its first MiB).
func TestTokenFileSizeLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	loc, err := s.Save(t.Context(), entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(loc.Path)
	_, salt := envelopeOf(t, loc.Path)
	// JSON allows trailing white space: pad the file to exactly 1 MiB.
	padded := append(data, bytes.Repeat([]byte(" "), maxFileSize-len(data))...)
	if err := os.WriteFile(loc.Path, padded, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), "github.com", "c1"); err != nil {
		t.Errorf("a 1 MiB file: %v", err)
	}
	if _, err := s.Save(t.Context(), entry("github.com", "c2")); err != nil {
		t.Fatal(err)
	}
	if _, again := envelopeOf(t, loc.Path); again != salt {
		t.Error("rewriting a 1 MiB file drew a new salt")
	}
	data, _ = os.ReadFile(loc.Path)
	if err := os.WriteFile(loc.Path, append(data, bytes.Repeat([]byte(" "), maxFileSize+1-len(data))...), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := s.Load(t.Context(), "github.com", "c1"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "file too large") {
		t.Errorf("a file of 1 MiB + 1 byte: %v, want it refused as too large", err)
	}
}

// Deleting one of two sign-ins of a host keeps the other and says where
// the deleted one was.
func TestDeleteOneOfTwo(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"file", "keyring"} {
		s := open(t, Options{Mode: mode, Dir: t.TempDir(), Passphrase: "p", Keyring: &mapKeyring{}})
		for _, id := range []string{"c1", "c2"} {
			if _, err := s.Save(t.Context(), entry("github.com", id)); err != nil {
				t.Fatal(err)
			}
		}
		gone, err := s.Delete(t.Context(), "github.com", "c1")
		if err != nil || gone.ClientID != "c1" || gone.Location.Kind != Kind(mode) {
			t.Errorf("%s: Delete = %+v, %v", mode, gone, err)
		}
		if kept, err := s.Load(t.Context(), "github.com", "c2"); err != nil || kept.ClientID != "c2" {
			t.Errorf("%s: the other sign-in: %+v, %v", mode, kept, err)
		}
		if _, err := s.Load(t.Context(), "github.com", "c1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: the deleted sign-in: %v", mode, err)
		}
	}
}

// Where an entry is, as the CLI says it.
func TestLocationText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    Location
		want string
	}{
		{Location{Kind: KindKeyring, Path: "app-token/github.com", Encrypted: true}, "the OS keychain (item app-token/github.com)"},
		{Location{Kind: KindFile, Path: "/x/github.com.json", Encrypted: true}, "encrypted file /x/github.com.json"},
		{Location{Kind: KindFile, Path: "/x/github.com.json"}, "plaintext file /x/github.com.json (insecure storage)"},
		{Location{}, "nowhere"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.l, got, tc.want)
		}
	}
}

// A keychain that refuses to store is an error of Save in keyring mode,
// naming the keychain.
func TestKeyringRefusingToStore(t *testing.T) {
	t.Parallel()
	kr := &mapKeyring{fail: errors.New("org.freedesktop.Secret.Error.IsLocked")}
	s := open(t, Options{Mode: "keyring", Dir: t.TempDir(), Keyring: kr})
	if _, err := s.Save(t.Context(), entry("github.com", "c1")); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("Save = %v, want ErrKeyringUnavailable", err)
	}
}

// Signing out with a broken keychain: in auto mode the file is still
// searched and the sign-in there deleted; in keyring mode the keychain's
// failure is the answer.
func TestDeleteWithABrokenKeychain(t *testing.T) {
	t.Parallel()
	kr := &mapKeyring{fail: errors.New("dbus: no session bus")}
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Keyring: kr, Passphrase: "p"})
	if _, err := s.Save(t.Context(), entry("github.com", "c1")); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.Delete(t.Context(), "github.com", "c1"); err != nil || gone.Location.Kind != KindFile {
		t.Errorf("auto mode: Delete = %+v, %v; want the file's sign-in", gone, err)
	}
	strict := open(t, Options{Mode: "keyring", Dir: dir, Keyring: kr})
	if _, err := strict.Delete(t.Context(), "github.com", "c1"); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("keyring mode: Delete = %v, want ErrKeyringUnavailable", err)
	}
}
