package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/store"
)

// storePath is where a file store in dir keeps e's record.
func storePath(dir string, e store.Entry) string {
	return filepath.Join(dir, "users", strings.ReplaceAll(e.Host, ":", "_")+".json")
}

// TestFullDiskDuringRefreshLosesNothing: when the record cannot be written
// after GitHub rotated the tokens, the new tokens are kept in the room
// reserved before the refresh, and found by the next Load (issue 9,
// finding 8). The "full disk" is a folder put in the record's place while
// GitHub answers, which makes the final rename fail.
func TestFullDiskDuringRefreshLosesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	st := newStore(t, dir)
	tok := w.deviceSignIn(t, w.client(t, ""))
	e := w.entry(tok)
	if _, err := st.Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	record := storePath(dir, e)
	if _, err := os.Stat(record); err != nil {
		t.Fatal(err)
	}
	blocker := func(r *http.Request) {
		if r.URL.Path == "/login/oauth/access_token" {
			os.Remove(record)
			os.MkdirAll(filepath.Join(record, "full"), 0o700)
		}
	}
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		blocker(r)
		w.em.ServeHTTP(rw, r)
	}))
	defer front.Close()
	c, err := New(Config{ClientID: e.ClientID, GitHubURL: front.URL, APIURL: front.URL + "/api/v3"},
		WithHTTPClient(&http.Client{}), WithClock(w.clock.Now), WithWait(w.clock.Wait))
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(8 * time.Hour)
	got, refreshed, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if err != nil || !refreshed || got.RefreshToken == tok.RefreshToken {
		t.Fatalf("Fresh with a full disk = %v, %v, %v; want the new tokens, kept", got, refreshed, err)
	}
	// Space is back: the next run finds the new tokens.
	os.RemoveAll(record)
	again := newStore(t, dir)
	loaded, err := again.Load(t.Context(), e.Host, e.ClientID)
	if err != nil || loaded.RefreshToken != got.RefreshToken || loaded.AccessToken != got.AccessToken {
		t.Fatalf("the next Load = %v, %v; want the kept tokens", loaded, err)
	}
	if u, err := c.User(t.Context(), loaded.AccessToken); err != nil || u.Login == "" {
		t.Errorf("the kept access token does not work: %v", err)
	}
	// The next write takes them into the record and drops the pending file.
	if _, err := again.Save(t.Context(), loaded); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(record); err != nil {
		t.Errorf("record not written: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "users", "*.pending.json")); len(left) > 0 {
		t.Errorf("pending files left: %v", left)
	}
}

// TestUnwritableStoreSpendsNoRefreshToken: a store that cannot be written
// is found out before the refresh token is spent.
func TestUnwritableStoreSpendsNoRefreshToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	dir := t.TempDir()
	st := newStore(t, dir)
	c := w.client(t, "")
	tok := w.deviceSignIn(t, c)
	e := w.entry(tok)
	if _, err := st.Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	// The reservation cannot be written, as on a full disk: its name is
	// taken by a folder that is not empty, so the final rename fails, even
	// for root.
	if err := os.MkdirAll(filepath.Join(strings.TrimSuffix(storePath(dir, e), ".json")+".pending.json", "full"), 0o700); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(8 * time.Hour)
	_, _, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if err == nil || !strings.Contains(err.Error(), "the token store cannot be written, so the sign-in was not refreshed") {
		t.Fatalf("Fresh = %v, want it refused before refreshing", err)
	}
	if errors.Is(err, ErrSignInAgain) {
		t.Error("the sign-in counts as lost")
	}
	if n := w.em.TokenRequests("refresh_token"); n != 0 {
		t.Errorf("%d refresh grants sent, want 0", n)
	}
	if info, _ := w.em.UserTokenInfo(tok.AccessToken); info.RefreshUsed {
		t.Error("the refresh token was spent")
	}
}

// TestSecretNeverGoesToAStoredURLOfAnotherHost: a plaintext store edited to
// send the refresh elsewhere is refused before any request (issue 9,
// finding 10).
func TestSecretNeverGoesToAStoredURLOfAnotherHost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	th := &thief{}
	other := httptest.NewServer(th)
	defer other.Close()
	dir := t.TempDir()
	st, err := store.Open(store.Options{Mode: "file", Dir: dir, AllowPlaintext: true, ScryptLogN: 10})
	if err != nil {
		t.Fatal(err)
	}
	c := w.client(t, clientSecret)
	tok := w.deviceSignIn(t, c)
	e := w.entry(tok)
	e.ClientSecret = clientSecret
	if _, err := st.Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	path := storePath(dir, e)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), `"github_url": "`+w.srv.URL+`"`, `"github_url": "`+other.URL+`"`, 1)), 0o600)
	loaded, err := st.Load(t.Context(), e.Host, e.ClientID)
	if err == nil {
		// What the caller would do with it: refresh against its URLs.
		lc, _ := New(Config{ClientID: loaded.ClientID, ClientSecret: loaded.ClientSecret, GitHubURL: loaded.GitHubURL, APIURL: loaded.APIURL},
			WithHTTPClient(&http.Client{}), WithClock(w.clock.Now), WithWait(w.clock.Wait))
		w.clock.Advance(8 * time.Hour)
		lc.Fresh(t.Context(), st, loaded, RefreshMargin)
	}
	if got := th.requests(); len(got) > 0 {
		t.Fatalf("the other host got %q", got)
	}
	var ce *store.CorruptError
	if !errors.As(err, &ce) {
		t.Errorf("Load of the edited store = %v, want a CorruptError", err)
	}
}
