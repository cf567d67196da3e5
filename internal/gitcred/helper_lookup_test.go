package gitcred

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// byRepoApp records whether the installation was looked up by repository
// or by owner.
type byRepoApp struct {
	*fakeApp
	mu  sync.Mutex
	how []string
}

func (a *byRepoApp) InstallationForRepo(ctx context.Context, owner, repo string) (*appauth.Installation, error) {
	a.mu.Lock()
	a.how = append(a.how, "repo "+owner+"/"+repo)
	a.mu.Unlock()
	return a.fakeApp.InstallationForOwner(ctx, owner)
}

func (a *byRepoApp) InstallationForOwner(ctx context.Context, owner string) (*appauth.Installation, error) {
	a.mu.Lock()
	a.how = append(a.how, "owner "+owner)
	a.mu.Unlock()
	return a.fakeApp.InstallationForOwner(ctx, owner)
}

// With a repository (credential.useHttpPath), the installation is looked
// up by it, so that a missing installation is named precisely; without,
// by the owner.
func TestHelperLooksUpByRepositoryWhenGitNamesOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ repo, want string }{{"alpha", "repo octo-org/alpha"}, {"", "owner octo-org"}} {
		app := &byRepoApp{fakeApp: &fakeApp{installs: map[string]int64{"octo-org": 101}}}
		h := &Helper{APIURL: "https://api.github.com", AppID: "Iv23test", App: func() (Minter, error) { return app, nil }}
		if _, _, err := h.Get(t.Context(), "octo-org", tc.repo); err != nil {
			t.Fatal(err)
		}
		if len(app.how) != 1 || app.how[0] != tc.want {
			t.Errorf("repo %q: looked up %q, want %q", tc.repo, app.how, tc.want)
		}
	}
}

// A cached lookup is used for LookupTTL (24 h), that instant included, and
// looked up again after.
func TestHelperLookupTTLBoundary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h := &Helper{Cache: openTestCache(t, clock), Now: clock, APIURL: "https://api.github.com", AppID: "Iv23test", App: func() (Minter, error) { return app, nil }}
	if err := h.Cache.PutInstallation(h.APIURL, h.AppID, "octo-org", Installation{ID: 101, Account: "octo-org"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(24 * time.Hour)
	mu.Unlock()
	// No token is cached: each Get mints, looking the installation up only
	// when the cached lookup is too old.
	if _, _, err := h.Get(t.Context(), "octo-org", ""); err != nil || app.lookups.Load() != 0 {
		t.Errorf("24h old: %v, %d lookups; want the cached one", err, app.lookups.Load())
	}
	if tok, ok := h.Cache.Token(h.scope(101)); !ok || !h.Cache.DropToken(h.scope(101), tok.Value.Reveal()) {
		t.Fatal("the minted token was not cached")
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if _, _, err := h.Get(t.Context(), "octo-org", ""); err != nil || app.lookups.Load() != 1 {
		t.Errorf("24h 1s old: %v, %d lookups; want 1", err, app.lookups.Load())
	}
}

// A cache that cannot be written does not fail git: the token is handed
// out, and the debug lines say the cache could not keep it.
func TestHelperUnwritableCacheStillAnswers(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	var lines []string
	h.Debugf = func(f string, args ...any) { lines = append(lines, fmt.Sprintf(f, args...)) }
	if _, _, err := h.Get(t.Context(), "octo-org", ""); err != nil {
		t.Fatal(err)
	}
	if log := strings.Join(lines, "\n"); strings.Contains(log, "cannot write") {
		t.Errorf("a writable cache logged a failure:\n%s", log)
	}
	// A folder where the next token's file goes: the write fails.
	h.Cache.DropToken(h.scope(101), "ghs_101_1")
	if err := os.Mkdir(h.Cache.file("tok-", h.scope(101).id()), 0o700); err != nil {
		t.Fatal(err)
	}
	lines = nil
	tok, _, err := h.Get(t.Context(), "octo-org", "")
	if err != nil || tok.Value.Reveal() != "ghs_101_2" {
		t.Fatalf("Get with an unwritable cache = %v, %v", tok, err)
	}
	if log := strings.Join(lines, "\n"); !strings.Contains(log, "token cache: cannot write") {
		t.Errorf("debug lines do not say the cache could not be written:\n%s", log)
	}
}

// accountless answers lookups without the account's login, as a minimal
// installation object may.
type accountless struct{ *fakeApp }

func (a accountless) InstallationForOwner(ctx context.Context, owner string) (*appauth.Installation, error) {
	in, err := a.fakeApp.InstallationForOwner(ctx, owner)
	if in != nil {
		in.Account = ""
	}
	return in, err
}

// An installation GitHub answered without its account is recorded under
// the owner git asked about.
func TestHelperNamesAnAccountlessInstallationByOwner(t *testing.T) {
	t.Parallel()
	app := accountless{&fakeApp{installs: map[string]int64{"octo-org": 101}}}
	h, _ := newFakeHelper(t, app.fakeApp)
	h.App = func() (Minter, error) { return app, nil }
	tok, _, err := h.Get(t.Context(), "octo-org", "")
	if err != nil || tok.Owner != "octo-org" {
		t.Fatalf("Get = %+v, %v; want a token of octo-org", tok, err)
	}
	if in, ok := h.Cache.Installation(h.APIURL, h.AppID, "octo-org"); !ok || in.Account != "octo-org" {
		t.Errorf("cached installation = %+v, %v", in, ok)
	}
}

// A lookup the cache cannot keep does not fail git either, and is logged.
func TestHelperUnwritableLookupCacheStillAnswers(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	h, _ := newFakeHelper(t, app)
	var mu sync.Mutex
	var lines []string
	h.Debugf = func(f string, args ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, args...)); mu.Unlock() }
	// A folder where the sealed lookup would go: it cannot be written.
	if err := os.Mkdir(h.Cache.file("inst-", lookupID(h.APIURL, h.AppID, "octo-org")), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Get(t.Context(), "octo-org", ""); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if log := strings.Join(lines, "\n"); !strings.Contains(log, "token cache: cannot write") {
		t.Errorf("debug lines do not say the lookup could not be kept:\n%s", log)
	}
}
