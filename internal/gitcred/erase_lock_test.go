package gitcred

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Erase waits (up to 2 s) for a process minting for the same owner: the
// token that process mints meanwhile is not the one git says failed, and is
// kept.
func TestEraseWaitsForAMintInProgress(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	old, _, err := h.Get(t.Context(), "octo-org", "")
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := h.Cache.Lock(t.Context(), h.APIURL, h.AppID, "octo-org", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- h.Erase(t.Context(), "octo-org", old.Value.Reveal()) }()
	time.Sleep(200 * time.Millisecond) // Erase is waiting for the lock
	fresh := testToken("ghs_minted_meanwhile", time.Now().Add(time.Hour))
	if err := h.Cache.PutToken(h.scope(101), fresh); err != nil {
		t.Fatal(err)
	}
	unlock()
	if <-done {
		t.Error("Erase dropped a token; want the one minted meanwhile kept")
	}
	if tok, ok := h.Cache.Token(h.scope(101)); !ok || tok.Value != fresh.Value {
		t.Errorf("cached token after Erase = %v, %v; want the one minted meanwhile", tok, ok)
	}
}

// Erase lets go of the lock: the next Get takes it at once.
func TestEraseReleasesTheLock(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	h.LockTimeout = 300 * time.Millisecond
	var mu sync.Mutex
	var lines []string
	h.Debugf = func(f string, args ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, args...)); mu.Unlock() }
	tok, _, err := h.Get(t.Context(), "octo-org", "")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Erase(t.Context(), "octo-org", tok.Value.Reveal()) {
		t.Fatal("Erase kept the failed token")
	}
	// At once, before anything could reclaim a forgotten lock file.
	unlock, err := h.Cache.Lock(t.Context(), h.APIURL, h.AppID, "octo-org", 0)
	if err != nil {
		t.Fatalf("the lock is still held after Erase: %v", err)
	}
	unlock()
	if _, cached, err := h.Get(t.Context(), "octo-org", ""); err != nil || cached {
		t.Fatalf("Get after Erase = %v, cached %v", err, cached)
	}
	mu.Lock()
	defer mu.Unlock()
	if log := strings.Join(lines, "\n"); strings.Contains(log, "without the lock") {
		t.Errorf("Get after Erase could not take the lock:\n%s", log)
	}
}
