package oauth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/store"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

const clientSecret = "emulator-client-secret"

// fakeClock is shared by the emulator and the client: waiting advances it
// at once, so polls keep GitHub's intervals without sleeping.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
	// onWait, if set, runs before each wait (e.g. to cancel).
	onWait func(n int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	n, f := len(c.waits), c.onWait
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

type world struct {
	em    *emulator.Server
	srv   *httptest.Server
	clock *fakeClock
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	em := emulator.NewWorld(testKey(), emulator.WithClock(clock.Now))
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := em.Unexpected(); len(u) > 0 {
			t.Errorf("requests the emulator does not know: %v", u)
		}
	})
	return &world{em: em, srv: srv, clock: clock}
}

func (w *world) client(t *testing.T, secret string) *Client {
	t.Helper()
	c, err := New(Config{ClientID: emulator.WorldClientID, ClientSecret: secret, GitHubURL: w.srv.URL, APIURL: w.srv.URL + "/api/v3"},
		WithHTTPClient(w.srv.Client()), WithClock(w.clock.Now), WithWait(w.clock.Wait))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) deviceSignIn(t *testing.T, c *Client) *Token {
	t.Helper()
	w.em.OnDevice(emulator.DeviceBehaviour{Decision: emulator.DeviceApprove})
	da, err := c.DeviceCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.DeviceToken(t.Context(), da, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func secs(ds ...int) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d) * time.Second
	}
	return out
}

func TestDeviceFlowApprovedAfterSeveralPolls(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.em.OnDevice(emulator.DeviceBehaviour{Pending: 3, Decision: emulator.DeviceApprove})
	c := w.client(t, "")
	start := w.clock.Now()
	da, err := c.DeviceCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if da.VerificationURI != w.srv.URL+"/login/device" || len(da.UserCode) != 9 || da.Interval != 5 || !da.Expiry.Equal(start.Add(15*time.Minute)) {
		t.Errorf("device code = %+v", da)
	}
	tok, err := c.DeviceToken(t.Context(), da, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.clock.Waits(); !slices.Equal(got, secs(5, 5, 5, 5)) {
		t.Errorf("waits = %v, want four of 5 s", got)
	}
	if n := w.em.TokenRequests("urn:ietf:params:oauth:grant-type:device_code"); n != 4 {
		t.Errorf("polls = %d, want 4", n)
	}
	issued := start.Add(20 * time.Second)
	if !tok.ExpiresAt.Equal(issued.Add(8*time.Hour)) || !tok.RefreshExpiresAt.Equal(issued.Add(emulator.RefreshTokenLifetime)) {
		t.Errorf("expiry %v / %v: not counted on the client's clock from %v", tok.ExpiresAt, tok.RefreshExpiresAt, issued)
	}
	info, ok := w.em.UserTokenInfo(tok.AccessToken)
	if !ok || info.RefreshToken != tok.RefreshToken || info.Flow != "device" {
		t.Errorf("emulator knows the token as %+v, %v", info, ok)
	}
	u, err := c.User(t.Context(), tok.AccessToken)
	if err != nil || u.Login != emulator.WorldUser {
		t.Errorf("User = %+v, %v", u, err)
	}
}

func TestDeviceFlowSlowDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Poll 2 is answered slow_down. The emulator enforces each interval on
	// the shared clock: a client that kept polling every 5 s afterwards
	// would meet more slow_downs and more polls.
	w.em.OnDevice(emulator.DeviceBehaviour{Pending: 3, Decision: emulator.DeviceApprove, SlowDownAt: []int{2}})
	c := w.client(t, "")
	da, err := c.DeviceCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var told []time.Duration
	if _, err := c.DeviceToken(t.Context(), da, func(d time.Duration) { told = append(told, d) }); err != nil {
		t.Fatal(err)
	}
	if got := w.clock.Waits(); !slices.Equal(got, secs(5, 5, 10, 10, 10)) {
		t.Errorf("waits = %v, want 5 5 then 10 for every later poll", got)
	}
	if !slices.Equal(told, secs(10)) {
		t.Errorf("onSlowDown heard %v", told)
	}
	if dc := w.em.DeviceCodes()[0]; dc.SlowDowns != 1 {
		t.Errorf("slow_downs = %d, want 1", dc.SlowDowns)
	}
}

func TestDeviceFlowSlowDownHonoursAnnouncedInterval(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.em.OnDevice(emulator.DeviceBehaviour{Pending: 2, Decision: emulator.DeviceApprove, SlowDownAt: []int{1}, SlowDownTo: 30 * time.Second})
	c := w.client(t, "")
	da, err := c.DeviceCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeviceToken(t.Context(), da, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.clock.Waits(); !slices.Equal(got, secs(5, 30, 30, 30)) {
		t.Errorf("waits = %v, want 5 then GitHub's 30", got)
	}
}

func deviceErr(t *testing.T, w *world, c *Client) error {
	t.Helper()
	da, err := c.DeviceCode(t.Context())
	if err != nil {
		return err
	}
	tok, err := c.DeviceToken(t.Context(), da, nil)
	if err == nil {
		t.Fatalf("signed in: %v", tok)
	}
	return err
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != code {
		t.Errorf("error = %v, want OAuth error %s", err, code)
	}
}

func TestDeviceFlowStops(t *testing.T) {
	t.Parallel()
	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.em.OnDevice(emulator.DeviceBehaviour{Pending: 2, Decision: emulator.DeviceDeny})
		wantCode(t, deviceErr(t, w, w.client(t, "")), CodeAccessDenied)
		if n := len(w.clock.Waits()); n != 3 {
			t.Errorf("%d polls, want 3", n)
		}
	})
	t.Run("expired by GitHub", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.em.OnDevice(emulator.DeviceBehaviour{Pending: 1, Decision: emulator.DeviceExpire})
		wantCode(t, deviceErr(t, w, w.client(t, "")), CodeExpiredToken)
	})
	t.Run("expires_in passed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		// Nobody approves; the code lives 30 s. The client polls at 5, 10,
		// 15, 20 and 25 s and stops at 30 s without polling again.
		w.em.SetOAuth(emulator.OAuthSettings{DeviceExpiresIn: 30 * time.Second})
		wantCode(t, deviceErr(t, w, w.client(t, "")), CodeExpiredToken)
		if n := w.em.TokenRequests("urn:ietf:params:oauth:grant-type:device_code"); n != 5 {
			t.Errorf("%d polls, want 5", n)
		}
	})
	t.Run("device flow disabled", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.em.SetOAuth(emulator.OAuthSettings{DeviceFlowDisabled: true})
		wantCode(t, deviceErr(t, w, w.client(t, "")), CodeDeviceFlowDisabled)
	})
	t.Run("unknown client", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		c, _ := New(Config{ClientID: "Iv1.unknown", GitHubURL: w.srv.URL, APIURL: w.srv.URL},
			WithHTTPClient(w.srv.Client()), WithClock(w.clock.Now), WithWait(w.clock.Wait))
		wantCode(t, deviceErr(t, w, c), CodeIncorrectCredentials)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ctx, cancel := context.WithCancel(t.Context())
		w.clock.onWait = func(n int) {
			if n == 3 {
				cancel() // Ctrl-C while waiting for the third poll
			}
		}
		w.em.OnDevice(emulator.DeviceBehaviour{})
		c := w.client(t, "")
		da, err := c.DeviceCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DeviceToken(ctx, da, nil)
		if !IsCanceled(err) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if n := w.em.TokenRequests("urn:ietf:params:oauth:grant-type:device_code"); n != 2 {
			t.Errorf("%d polls, want 2", n)
		}
	})
}

// browse follows url as a browser would (redirects included) and returns
// the final page.
func browse(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestWebFlowEndToEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(t, clientSecret)
	start := w.clock.Now()
	flow, err := c.StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(flow.AuthURL())
	q := au.Query()
	if au.Path != "/login/oauth/authorize" || q.Get("client_id") != emulator.WorldClientID || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 32 || q.Get("redirect_uri") != flow.RedirectURL() {
		t.Errorf("authorize URL = %s", flow.AuthURL())
	}
	if ru, _ := url.Parse(flow.RedirectURL()); ru.Hostname() != "127.0.0.1" || ru.Port() == "" || ru.Port() == "0" {
		t.Errorf("redirect URL = %s, want 127.0.0.1 on a random port", flow.RedirectURL())
	}
	if strings.Contains(flow.AuthURL(), flow.verifier) {
		t.Error("the authorize URL carries the PKCE verifier")
	}
	status, body := browse(t, flow.AuthURL())
	if status != 200 || !strings.Contains(body, "close this tab") {
		t.Errorf("callback page: %d %s", status, body)
	}
	tok, err := flow.Wait(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// x/oauth2's Exchange gets a form-encoded answer (it sends no Accept
	// header); the lifetimes still count on the client's clock.
	if !tok.ExpiresAt.Equal(start.Add(8*time.Hour)) || tok.RefreshToken == "" {
		t.Errorf("token expires %v (want %v), refresh token set: %v", tok.ExpiresAt, start.Add(8*time.Hour), tok.RefreshToken != "")
	}
	if info, ok := w.em.UserTokenInfo(tok.AccessToken); !ok || info.Flow != "web" {
		t.Errorf("emulator: %+v, %v", info, ok)
	}
	// The loopback server is gone.
	if _, err := http.Get(flow.RedirectURL()); err == nil {
		t.Error("the loopback server still answers")
	}
}

// TestWebFlowRefusesWrongState: stray callbacks (wrong state, or a forged
// error or code) are refused, reported as warnings, and do not end the
// sign-in, which the real callback then completes (issue 9, finding 11).
func TestWebFlowRefusesWrongState(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	var warnings []error
	flow, err := w.client(t, clientSecret).StartWeb(t.Context(), WithStrayWarning(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, err)
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"?code=stolen&state=forged", "?state=wrong", "?error=access_denied&state=forged", "?state=" + flow.state} {
		status, body := browse(t, flow.RedirectURL()+q)
		why := "state does not match"
		if q == "?state="+flow.state {
			why = "without a code or an error"
		}
		if status != http.StatusBadRequest || !strings.Contains(body, why) || !strings.Contains(body, "The sign-in goes on.") {
			t.Errorf("%s: page %d %s, want %q", q, status, body, why)
		}
	}
	mu.Lock()
	if len(warnings) != 4 || !errors.Is(warnings[0], ErrStateMismatch) || !strings.Contains(warnings[0].Error(), "still waiting") {
		t.Errorf("warnings = %v", warnings)
	}
	mu.Unlock()
	if n := w.em.TokenRequests("authorization_code"); n != 0 {
		t.Errorf("the forged code was exchanged (%d requests)", n)
	}
	// The real callback still signs in.
	if status, _ := browse(t, flow.AuthURL()); status != http.StatusOK {
		t.Errorf("real callback page %d", status)
	}
	tok, err := flow.Wait(t.Context())
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("Wait = %v, %v", tok, err)
	}
}

// TestWebFlowBoundsStrayWarnings: a page that keeps hitting the callback
// (a reload loop, a scanner) gets a refusal each time, but the person is
// warned of the first maxStrayWarnings only; the sign-in still completes.
func TestWebFlowBoundsStrayWarnings(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var mu sync.Mutex
	warnings := 0
	flow, err := w.client(t, clientSecret).StartWeb(t.Context(), WithStrayWarning(func(error) {
		mu.Lock()
		defer mu.Unlock()
		warnings++
	}))
	if err != nil {
		t.Fatal(err)
	}
	for range maxStrayWarnings + 2 {
		if status, body := browse(t, flow.RedirectURL()+"?state=wrong"); status != http.StatusBadRequest || !strings.Contains(body, "The sign-in goes on.") {
			t.Errorf("stray callback: page %d %s", status, body)
		}
	}
	mu.Lock()
	if warnings != 5 {
		t.Errorf("%d warnings for %d stray callbacks, want 5", warnings, maxStrayWarnings+2)
	}
	mu.Unlock()
	if status, _ := browse(t, flow.AuthURL()); status != http.StatusOK {
		t.Errorf("real callback page %d", status)
	}
	if tok, err := flow.Wait(t.Context()); err != nil || tok.AccessToken == "" {
		t.Fatalf("Wait = %v, %v", tok, err)
	}
}

// TestWebFlowWithoutWarningEndsOnAStray: a caller that passes no
// WithStrayWarning keeps the first-callback-ends-it behaviour.
func TestWebFlowWithoutWarningEndsOnAStray(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if status, body := browse(t, flow.RedirectURL()+"?code=stolen&state=forged"); status != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
		t.Errorf("page: %d %s", status, body)
	}
	if _, err := flow.Wait(t.Context()); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Wait = %v, want ErrStateMismatch", err)
	}
	if n := w.em.TokenRequests("authorization_code"); n != 0 {
		t.Errorf("the forged code was exchanged (%d requests)", n)
	}
}

func TestWebFlowErrorCallback(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.em.OnAuthorize(emulator.AuthorizeBehaviour{Deny: true})
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	status, body := browse(t, flow.AuthURL())
	if status != http.StatusForbidden || !strings.Contains(body, "denied") {
		t.Errorf("page: %d %s", status, body)
	}
	_, err = flow.Wait(t.Context())
	wantCode(t, err, CodeAccessDenied)
}

func TestWebFlowWithoutSecretIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, "").StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := browse(t, flow.AuthURL()); status != http.StatusBadGateway {
		t.Errorf("page status %d", status)
	}
	_, err = flow.Wait(t.Context())
	wantCode(t, err, CodeIncorrectCredentials)
}

func TestWebFlowCancelled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx, cancel := context.WithCancel(t.Context())
	flow, err := w.client(t, clientSecret).StartWeb(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := flow.Wait(ctx); !IsCanceled(err) {
		t.Errorf("Wait = %v", err)
	}
}

func newStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Mode: "file", Dir: dir, Passphrase: "test passphrase", ScryptLogN: 10})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (w *world) entry(tok *Token) store.Entry {
	return store.Entry{
		Host: strings.TrimPrefix(w.srv.URL, "http://"), ClientID: emulator.WorldClientID,
		GitHubURL: w.srv.URL, APIURL: w.srv.URL + "/api/v3", Flow: "device", Login: emulator.WorldUser,
		AccessToken: tok.AccessToken, ExpiresAt: tok.ExpiresAt, RefreshToken: tok.RefreshToken, RefreshExpiresAt: tok.RefreshExpiresAt,
	}
}

func TestFreshRefreshesAndRotates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(t, "")
	tok := w.deviceSignIn(t, c)
	st := newStore(t, t.TempDir())
	e := w.entry(tok)
	if _, err := st.Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	// Still fresh: nothing happens.
	got, refreshed, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if err != nil || refreshed || got.AccessToken != tok.AccessToken {
		t.Fatalf("Fresh of a live token = %v, %v, %v", got, refreshed, err)
	}
	// Four minutes before expiry it is "about to expire".
	w.clock.Advance(8*time.Hour - 4*time.Minute)
	got, refreshed, err = c.Fresh(t.Context(), st, e, RefreshMargin)
	if err != nil || !refreshed {
		t.Fatalf("Fresh = %v, %v, %v", got, refreshed, err)
	}
	if got.AccessToken == tok.AccessToken || got.RefreshToken == tok.RefreshToken || !got.ExpiresAt.Equal(w.clock.Now().Add(8*time.Hour)) {
		t.Errorf("refreshed entry = %v", got)
	}
	saved, err := st.Load(t.Context(), e.Host, e.ClientID)
	if err != nil || saved.RefreshToken != got.RefreshToken || saved.AccessToken != got.AccessToken {
		t.Errorf("the rotated tokens were not saved: %v, %v", saved, err)
	}
	if old, _ := w.em.UserTokenInfo(tok.AccessToken); !old.RefreshUsed {
		t.Error("the old refresh token is not spent")
	}
	if u, err := c.User(t.Context(), got.AccessToken); err != nil || u.Login != emulator.WorldUser {
		t.Errorf("User with the new token = %v, %v", u, err)
	}
	var ae *APIError
	if _, err := c.User(t.Context(), tok.AccessToken); !errors.As(err, &ae) || ae.Status != 401 {
		t.Errorf("User with the old token = %v, want 401", err)
	}
	// An entry loaded before the refresh (another process's stale copy)
	// gets the stored result, without a second refresh.
	again, refreshed, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if err != nil || refreshed || again.AccessToken != got.AccessToken {
		t.Errorf("Fresh with a stale entry = %v, %v, %v", again, refreshed, err)
	}
	if n := w.em.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("refresh grants = %d, want 1", n)
	}
}

func TestParallelRefreshesSpendOneRefreshToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.deviceSignIn(t, w.client(t, ""))
	dir := t.TempDir()
	e := w.entry(tok)
	if _, err := newStore(t, dir).Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(9 * time.Hour)
	// Eight "processes": each its own Client and Store on the shared folder,
	// each holding the expired entry it read before the others refreshed.
	const n = 8
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, err := w.client(t, "").Fresh(t.Context(), newStore(t, dir), e, RefreshMargin)
			results[i], errs[i] = got.AccessToken, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("process %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Errorf("process %d got another token", i)
		}
	}
	if got := w.em.TokenRequests("refresh_token"); got != 1 {
		t.Errorf("refresh grants = %d, want exactly 1", got)
	}
}

func TestFreshAsksToSignInAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(t, "")
	tok := w.deviceSignIn(t, c)
	st := newStore(t, t.TempDir())
	e := w.entry(tok)
	st.Save(t.Context(), e)
	w.clock.Advance(9 * time.Hour)
	// Someone spends the refresh token without saving the result.
	if _, err := c.Refresh(t.Context(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if !errors.Is(err, ErrSignInAgain) || !strings.Contains(err.Error(), "refused the refresh token") {
		t.Errorf("Fresh with a dead refresh token = %v", err)
	}
	if strings.Contains(err.Error(), tok.RefreshToken) || strings.Contains(err.Error(), tok.AccessToken) {
		t.Errorf("error leaks a token: %v", err)
	}

	// An expired refresh token is not even sent.
	before := w.em.TokenRequests("refresh_token")
	e.RefreshExpiresAt = w.clock.Now().Add(-time.Second)
	if _, _, err := c.Fresh(t.Context(), st, e, RefreshMargin); !errors.Is(err, ErrSignInAgain) {
		t.Errorf("Fresh with an expired refresh token = %v", err)
	}
	e.RefreshToken = ""
	if _, _, err := c.Fresh(t.Context(), st, e, RefreshMargin); !errors.Is(err, ErrSignInAgain) {
		t.Errorf("Fresh without a refresh token = %v", err)
	}
	if after := w.em.TokenRequests("refresh_token"); after != before {
		t.Errorf("%d refresh requests sent for tokens known dead", after-before)
	}
}

func TestNonExpiringTokenNeedsNoRefresh(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.em.SetOAuth(emulator.OAuthSettings{NonExpiringTokens: true})
	c := w.client(t, "")
	tok := w.deviceSignIn(t, c)
	if !tok.ExpiresAt.IsZero() || tok.RefreshToken != "" {
		t.Fatalf("token = %+v", tok)
	}
	w.clock.Advance(365 * 24 * time.Hour)
	got, refreshed, err := c.Fresh(t.Context(), newStore(t, t.TempDir()), w.entry(tok), RefreshMargin)
	if err != nil || refreshed || got.AccessToken != tok.AccessToken {
		t.Errorf("Fresh = %v, %v, %v", got, refreshed, err)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.deviceSignIn(t, w.client(t, ""))
	if err := w.client(t, "").Revoke(t.Context(), tok.AccessToken); !errors.Is(err, ErrNoClientSecret) {
		t.Errorf("Revoke without secret = %v", err)
	}
	c := w.client(t, clientSecret)
	if err := c.Revoke(t.Context(), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if info, _ := w.em.UserTokenInfo(tok.AccessToken); !info.Revoked {
		t.Error("token not revoked")
	}
	if err := c.Revoke(t.Context(), tok.AccessToken); !errors.Is(err, ErrTokenUnknown) {
		t.Errorf("second Revoke = %v, want ErrTokenUnknown", err)
	}
}

func TestTokenPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	tok := &Token{AccessToken: "ghu_secret1", RefreshToken: "ghr_secret2"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tok, *tok} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "secret1") || strings.Contains(out, "secret2") {
				t.Errorf("%s prints %s", verb, out)
			}
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, conf := range []Config{
		{GitHubURL: "https://github.com", APIURL: "https://api.github.com"},
		{ClientID: "x", GitHubURL: "github.com", APIURL: "https://api.github.com"},
		{ClientID: "x", GitHubURL: "https://github.com", APIURL: "ftp://api.github.com"},
	} {
		if _, err := New(conf); err == nil {
			t.Errorf("New(%+v) succeeded", conf)
		}
	}
}

// TestWebFlowPagesEscapeWhatTheyShow pins a behaviour the issue 9 review
// found sound: the callback page escapes the server's error text.
func TestWebFlowPagesEscapeWhatTheyShow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	status, body := browse(t, flow.RedirectURL()+"?state="+url.QueryEscape(flow.state)+
		"&error=access_denied&error_description="+url.QueryEscape(`<script>alert(1)</script>`))
	if status != http.StatusForbidden || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("page %d %s", status, body)
	}
	_, err = flow.Wait(t.Context())
	wantCode(t, err, CodeAccessDenied)
}
