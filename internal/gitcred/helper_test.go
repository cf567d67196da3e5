package gitcred

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
)

// fakeApp is a Minter over a map of owner → installation ID, counting calls.
type fakeApp struct {
	installs map[string]int64
	lookups  atomic.Int32
	mints    atomic.Int32
	// gone marks installation IDs that answer 404 when minting.
	gone map[int64]bool
	// slow delays each mint, so that concurrent callers overlap.
	slow time.Duration
}

func (f *fakeApp) InstallationForRepo(ctx context.Context, owner, repo string) (*appauth.Installation, error) {
	return f.InstallationForOwner(ctx, owner)
}

func (f *fakeApp) InstallationForOwner(_ context.Context, owner string) (*appauth.Installation, error) {
	f.lookups.Add(1)
	id, ok := f.installs[strings.ToLower(owner)]
	if !ok {
		return nil, &appauth.APIError{Status: http.StatusNotFound, Advice: "the app is not installed on " + owner}
	}
	return &appauth.Installation{ID: id, Account: owner, AppSlug: "octo-app"}, nil
}

func (f *fakeApp) CreateToken(_ context.Context, inst *appauth.Installation, repos []string, perms map[string]string) (*appauth.Token, error) {
	n := f.mints.Add(1)
	time.Sleep(f.slow)
	if f.gone[inst.ID] {
		return nil, &appauth.APIError{Status: http.StatusNotFound}
	}
	return &appauth.Token{
		Value: appauth.Secret(fmt.Sprintf("ghs_%d_%d", inst.ID, n)), ExpiresAt: time.Now().Add(time.Hour),
		InstallationID: inst.ID, Owner: inst.Account, Repositories: repos, Permissions: perms,
	}, nil
}

func newFakeHelper(t *testing.T, app *fakeApp) (*Helper, *atomic.Int32) {
	t.Helper()
	var built atomic.Int32
	return &Helper{
		Cache:  openTestCache(t, nil),
		APIURL: "https://api.github.com",
		AppID:  "Iv23test",
		App: func() (Minter, error) {
			built.Add(1)
			return app, nil
		},
	}, &built
}

func TestHelperWarmGetBuildsNoApp(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, built := newFakeHelper(t, app)
	tok, cached, err := h.Get(t.Context(), "octo-org", "alpha")
	if err != nil || cached {
		t.Fatalf("cold Get = %v, cached %v", err, cached)
	}
	for _, repo := range []string{"alpha", "beta", "gamma", ""} {
		again, cached, err := h.Get(t.Context(), "Octo-Org", repo)
		if err != nil || !cached || again.Value != tok.Value {
			t.Fatalf("warm Get(%q) = %v, cached %v, same token %v", repo, err, cached, again != nil && again.Value == tok.Value)
		}
	}
	if built.Load() != 1 || app.lookups.Load() != 1 || app.mints.Load() != 1 {
		t.Errorf("App built %d times, %d lookups, %d mints; want 1 each", built.Load(), app.lookups.Load(), app.mints.Load())
	}
}

func TestHelperConcurrentGetsMintOnce(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}, slow: 20 * time.Millisecond}
	h, _ := newFakeHelper(t, app)
	var wg sync.WaitGroup
	values := make([]string, 16)
	for i := range values {
		wg.Go(func() {
			// Each goroutine opens the cache itself, as separate processes
			// would: flock locks belong to open files, so they exclude
			// each other within one process too.
			c, err := Open(h.Cache.Dir(), testSecret, nil)
			if err != nil {
				t.Error(err)
				return
			}
			hh := *h
			hh.Cache = c
			tok, _, err := hh.Get(t.Context(), "octo-org", "alpha")
			if err != nil {
				t.Error(err)
				return
			}
			values[i] = tok.Value.Reveal()
		})
	}
	wg.Wait()
	if n := app.mints.Load(); n != 1 {
		t.Errorf("16 concurrent Gets minted %d tokens, want 1", n)
	}
	if n := app.lookups.Load(); n != 1 {
		t.Errorf("16 concurrent Gets looked up %d times, want 1", n)
	}
	for _, v := range values {
		if v != values[0] {
			t.Fatalf("Gets returned different tokens: %q", values)
		}
	}
}

func TestHelperBusyLockBoundsTheWait(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	h.LockTimeout = 100 * time.Millisecond
	// Another holder that never lets go (a hung process: a dead one's
	// lock is released by the system, as safefile's tests show).
	unlock, err := h.Cache.Lock(t.Context(), h.APIURL, h.AppID, "octo-org", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	if _, _, err := h.Get(t.Context(), "octo-org", "alpha"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Get waited %s for a busy lock, want about %s", d, h.LockTimeout)
	}
	if app.mints.Load() != 1 {
		t.Errorf("mints = %d, want 1", app.mints.Load())
	}
}

func TestHelperCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	unlock, err := h.Cache.Lock(t.Context(), h.APIURL, h.AppID, "octo-org", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := h.Get(ctx, "octo-org", "alpha"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get = %v, want the context's deadline", err)
	}
	if app.mints.Load() != 0 {
		t.Error("minted after the context ended")
	}
}

func TestHelperStaleInstallationIsLookedUpAgain(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 202}, gone: map[int64]bool{101: true}}
	h, _ := newFakeHelper(t, app)
	h.Cache.PutInstallation(h.APIURL, h.AppID, "octo-org", Installation{ID: 101, Account: "octo-org"})
	tok, _, err := h.Get(t.Context(), "octo-org", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if tok.InstallationID != 202 {
		t.Errorf("token from installation %d, want the reinstalled 202", tok.InstallationID)
	}
	if in, _ := h.Cache.Installation(h.APIURL, h.AppID, "octo-org"); in.ID != 202 {
		t.Errorf("cached installation = %d, want 202", in.ID)
	}
}

func TestHelperOldLookupIsRefreshedWhenMinting(t *testing.T) {
	t.Parallel()
	now := time.Now()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	h.Now = func() time.Time { return now }
	h.Cache.PutInstallation(h.APIURL, h.AppID, "octo-org", Installation{ID: 101, Account: "octo-org"})
	now = now.Add(LookupTTL + time.Minute)
	if _, _, err := h.Get(t.Context(), "octo-org", ""); err != nil {
		t.Fatal(err)
	}
	if app.lookups.Load() != 1 {
		t.Errorf("lookups = %d, want 1 (the cached one is too old)", app.lookups.Load())
	}
}

func TestHelperErrorsPassThroughAndNothingIsCached(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{}}
	h, _ := newFakeHelper(t, app)
	_, _, err := h.Get(t.Context(), "lonely-org", "x")
	var ae *appauth.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("Get = %v, want the 404", err)
	}
	if _, ok := h.Cache.Installation(h.APIURL, h.AppID, "lonely-org"); ok {
		t.Error("a failed lookup was cached")
	}
	h.App = func() (Minter, error) { return nil, errors.New("bad key") }
	if _, _, err := h.Get(t.Context(), "octo-org", "x"); err == nil || err.Error() != "bad key" {
		t.Errorf("Get with a failing App = %v", err)
	}
}

func TestHelperWithoutCacheMintsEachTime(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	h.Cache = nil
	for range 2 {
		if _, cached, err := h.Get(t.Context(), "octo-org", "alpha"); err != nil || cached {
			t.Fatalf("Get = %v, cached %v", err, cached)
		}
	}
	if app.mints.Load() != 2 {
		t.Errorf("mints = %d, want 2", app.mints.Load())
	}
	if h.Erase(t.Context(), "octo-org", "ghs_x") {
		t.Error("Erase without a cache reported a drop")
	}
}

func TestHelperEraseThenGetMintsFresh(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	first, _, err := h.Get(t.Context(), "octo-org", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if h.Erase(t.Context(), "octo-org", "ghs_not_ours") {
		t.Error("Erase dropped the token for a password we did not issue")
	}
	if h.Erase(t.Context(), "other-org", first.Value.Reveal()) {
		t.Error("Erase for an unknown owner reported a drop")
	}
	if !h.Erase(t.Context(), "octo-org", first.Value.Reveal()) {
		t.Fatal("Erase did not drop the token git says failed")
	}
	second, cached, err := h.Get(t.Context(), "octo-org", "beta")
	if err != nil || cached || second.Value == first.Value {
		t.Fatalf("Get after Erase = %v, cached %v, same token %v", err, cached, second != nil && second.Value == first.Value)
	}
	if app.lookups.Load() != 1 {
		t.Errorf("lookups = %d: erasing a token must keep the installation lookup", app.lookups.Load())
	}
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

// TestHelperAgainstEmulator runs the real appauth.App against the emulator
// over HTTP and counts requests: a cold Get makes two, a warm one none.
func TestHelperAgainstEmulator(t *testing.T) {
	t.Parallel()
	em := emulator.NewWorld(testKey())
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	app, err := appauth.New(emulator.WorldClientID, testKey(), appauth.WithBaseURL(srv.URL), appauth.WithHTTPClient(srv.Client()),
		appauth.WithWait(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(filepath.Join(t.TempDir(), "cache"), []byte("key text"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &Helper{Cache: c, APIURL: srv.URL, AppID: emulator.WorldClientID, App: func() (Minter, error) { return app, nil }}

	tok, _, err := h.Get(t.Context(), emulator.WorldOrg, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(em.Requests()); n != 2 {
		t.Errorf("cold Get made %d requests, want 2 (lookup, mint)", n)
	}
	for _, repo := range []string{"alpha", "beta", "gamma"} {
		if !em.Authorize(tok.Value.Reveal(), emulator.WorldOrg, repo) {
			t.Errorf("the token does not reach %s", repo)
		}
		if _, _, err := h.Get(t.Context(), emulator.WorldOrg, repo); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(em.Requests()); n != 2 {
		t.Errorf("warm Gets made %d more requests, want 0", n-2)
	}

	_, _, err = h.Get(t.Context(), "lonely-org", "nothing")
	var ae *appauth.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("Get for an owner without an installation = %v, want a 404 APIError", err)
	}

	narrow := *h
	narrow.Repositories = []string{"beta"}
	narrow.Permissions = map[string]string{"contents": "read"}
	nt, _, err := narrow.Get(t.Context(), emulator.WorldOrg, "beta")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := em.TokenInfo(nt.Value.Reveal())
	if nt.Value == tok.Value || len(info.Repositories) != 1 || info.Permissions["contents"] != "read" {
		t.Errorf("narrowed token = %+v", info)
	}
	for _, u := range em.Unexpected() {
		t.Errorf("unexpected request %s", u)
	}
	if v := em.Violations(); len(v) > 0 {
		t.Errorf("emulator answers broke GitHub's description: %q", v)
	}
}
