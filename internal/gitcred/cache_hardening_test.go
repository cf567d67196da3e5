//go:build unix

package gitcred

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenRefusesAnotherUsersFolder: a cache folder another user made in
// advance is refused with a message (issue 9, finding 7). Making a folder of
// another user's takes root, which CI runs as.
func TestOpenRefusesAnotherUsersFolder(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("making a folder owned by another user needs root (CI runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, testSecret, nil)
	if err == nil || !strings.Contains(err.Error(), "belongs to another user (uid 65534, not 0): remove it, or choose a folder of your own") {
		t.Fatalf("Open = %v, want a refusal naming the owner", err)
	}
}

// TestCacheFIFOAndLinksAreMisses: a FIFO or a symbolic link put in place
// of a cache file is a miss at once: reading never blocks on it.
func TestCacheFIFOAndLinksAreMisses(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	s := Scope{APIURL: "https://api.github.com", App: "1", InstallationID: 101}
	api, app, owner := "https://api.github.com", "1", "octo-org"
	if err := c.PutToken(s, testToken("ghs_real", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := c.PutInstallation(api, app, owner, Installation{ID: 101, Account: owner}); err != nil {
		t.Fatal(err)
	}
	tokFile := c.file("tok-", s.id())
	instFile := c.file("inst-", lookupID(api, app, owner))
	// A valid file of the cache's own, reached through a link, is still
	// refused: a link is never followed.
	good := filepath.Join(t.TempDir(), "elsewhere")
	b, _ := os.ReadFile(tokFile)
	os.WriteFile(good, b, 0o600)
	for _, put := range []func(string) error{
		func(p string) error { return syscall.Mkfifo(p, 0o600) },
		func(p string) error { return os.Symlink(good, p) },
	} {
		for _, f := range []string{tokFile, instFile, instFile + ".json"} {
			os.Remove(f)
			if err := put(f); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan bool)
		go func() {
			_, tokOK := c.Token(s)
			_, instOK := c.Installation(api, app, owner)
			done <- tokOK || instOK
		}()
		select {
		case hit := <-done:
			if hit {
				t.Error("a FIFO or link answered as a cache entry")
			}
		case <-time.After(10 * time.Second):
			// Unblock the reader before failing, so the test ends.
			for _, f := range []string{tokFile, instFile, instFile + ".json"} {
				if w, err := os.OpenFile(f, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
			}
			t.Fatal("reading a FIFO in the cache hung")
		}
		// The next write replaces it.
		if err := c.PutToken(s, testToken("ghs_new", time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Token(s); !ok || got.Value != "ghs_new" {
			t.Errorf("after a write, Token = %v, %v", got, ok)
		}
	}
	// The lock file is refused too, rather than waited on.
	lock := c.file("lock-", lookupID(api, app, owner))
	os.Remove(lock)
	syscall.Mkfifo(lock, 0o600)
	if _, err := c.Lock(t.Context(), api, app, owner, time.Second); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Lock on a FIFO = %v", err)
	}
}

// TestEditedLookupDoesNotOpen: a lookup file edited (or written in clear,
// as before lookups were sealed) to name another installation is a miss,
// so the helper looks the owner up again rather than minting there.
func TestEditedLookupDoesNotOpen(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101, "octocat": 202}}
	h, _ := newFakeHelper(t, app)
	id := lookupID(h.APIURL, h.AppID, "octo-org")
	forged, _ := json.Marshal(Installation{ID: 202, Account: "octocat", CheckedAt: time.Now().UTC()})
	for _, f := range []string{h.Cache.file("inst-", id), h.Cache.file("inst-", id) + ".json"} {
		if err := os.WriteFile(f, forged, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if in, ok := h.Cache.Installation(h.APIURL, h.AppID, "octo-org"); ok {
		t.Fatalf("the forged lookup was read: %+v", in)
	}
	tok, _, err := h.Get(t.Context(), "octo-org", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if tok.InstallationID != 101 || app.lookups.Load() != 1 {
		t.Errorf("minted for installation %d after %d lookups, want 101 after 1", tok.InstallationID, app.lookups.Load())
	}
	// A sealed lookup copied over another owner's name does not open either.
	if err := h.Cache.PutInstallation(h.APIURL, h.AppID, "octocat", Installation{ID: 202, Account: "octocat"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(h.Cache.file("inst-", lookupID(h.APIURL, h.AppID, "octocat")))
	os.WriteFile(h.Cache.file("inst-", id), b, 0o600)
	if in, ok := h.Cache.Installation(h.APIURL, h.AppID, "octo-org"); ok {
		t.Errorf("another owner's lookup opened as octo-org's: %+v", in)
	}
}
