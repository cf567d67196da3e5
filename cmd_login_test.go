package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/settings"
	"github.com/org/app-token/internal/store"
)

func init() { loginScryptLogN = 10 } // see loginScryptLogN

const (
	loginSecret   = "emulator-client-secret"
	loginStoreKey = "correct horse battery staple"
)

// loginClock is shared by the emulator and the CLI: waiting advances it at
// once, so the device flow's polls keep GitHub's intervals without
// sleeping.
type loginClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
	// onWait runs before the n-th wait (1-based), if set.
	onWait func(n int)
}

func (c *loginClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *loginClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *loginClock) Wait(ctx context.Context, d time.Duration) error {
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

// loginStream is a stderr that tests can read while the command runs.
type loginStream struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
	part  string
}

func newLoginStream() *loginStream { return &loginStream{lines: make(chan string, 1000)} }

func (s *loginStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	s.part += string(p)
	for {
		line, rest, ok := strings.Cut(s.part, "\n")
		if !ok {
			break
		}
		s.part = rest
		select {
		case s.lines <- line:
		default:
		}
	}
	return len(p), nil
}

func (s *loginStream) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// next returns the first line to come that contains substr.
func (s *loginStream) next(t *testing.T, substr string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-s.lines:
			if strings.Contains(line, substr) {
				return line
			}
		case <-timeout:
			t.Fatalf("no line with %q in:\n%s", substr, s.String())
		}
	}
}

type loginWorld struct {
	em    *emulator.Server
	srv   *httptest.Server
	clock *loginClock
	dir   string
	env   map[string]string
}

func newLoginWorld(t *testing.T) *loginWorld {
	t.Helper()
	clock := &loginClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	em := emulator.NewWorld(testKey(), emulator.WithClock(clock.Now))
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := em.Unexpected(); len(u) > 0 {
			t.Errorf("requests the emulator does not know: %v", u)
		}
	})
	failOnViolations(t, em)
	dir := t.TempDir()
	return &loginWorld{em: em, srv: srv, clock: clock, dir: dir, env: map[string]string{
		"HOME":                dir,
		"XDG_CONFIG_HOME":     filepath.Join(dir, "xdg"),
		settings.EnvConfigDir: filepath.Join(dir, "config"),
		settings.EnvStore:     "file",
		settings.EnvStoreKey:  loginStoreKey,
		settings.EnvGitHubURL: srv.URL,
		settings.EnvAPIURL:    srv.URL + "/api/v3",
	}}
}

func (w *loginWorld) host() string { return strings.TrimPrefix(w.srv.URL, "http://") }

func (w *loginWorld) cli(stdout, stderr io.Writer) *cli {
	env := map[string]string{}
	for k, v := range w.env {
		env[k] = v
	}
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), stdout, stderr)
	c.now = w.clock.Now
	c.wait = w.clock.Wait
	return c
}

// run runs app-token with args and returns what it wrote.
func (w *loginWorld) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return w.runCtx(t.Context(), args...)
}

func (w *loginWorld) runCtx(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = w.cli(&out, &errb).run(ctx, args)
	if err != nil && err.Error() != "" {
		errb.WriteString("app-token: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), err
}

// login signs octocat in with the device flow and returns the token.
func (w *loginWorld) login(t *testing.T, args ...string) string {
	t.Helper()
	w.em.OnDevice(emulator.DeviceBehaviour{Decision: emulator.DeviceApprove})
	if _, stderr, err := w.run(t, append([]string{"login", "--client-id", emulator.WorldClientID}, args...)...); err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	return w.newestToken(t).Value
}

func (w *loginWorld) newestToken(t *testing.T) emulator.UserToken {
	t.Helper()
	var newest emulator.UserToken
	for _, tok := range w.em.UserTokens() {
		if tok.ExpiresAt.After(newest.ExpiresAt) || newest.Value == "" {
			newest = tok
		}
	}
	if newest.Value == "" {
		t.Fatal("the emulator issued no user token")
	}
	return newest
}

func (w *loginWorld) store(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Mode: "file", Dir: w.env[settings.EnvConfigDir], Passphrase: w.env[settings.EnvStoreKey], ScryptLogN: loginScryptLogN})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wantExit(t *testing.T, err error, code int, substrs ...string) {
	t.Helper()
	if got := exitCode(err); got != code {
		t.Errorf("exit code %d (%v), want %d", got, err, code)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	for _, s := range substrs {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
}

// noSecrets fails if any of the emulator's tokens, or the client secret,
// appears in out.
func (w *loginWorld) noSecrets(t *testing.T, where, out string) {
	t.Helper()
	secrets := []string{loginSecret, loginStoreKey}
	for _, tok := range w.em.UserTokens() {
		secrets = append(secrets, tok.Value, tok.RefreshToken)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s leaks a secret:\n%s", where, out)
		}
	}
}

func TestLoginDeviceFlowUserTokenStatusLogout(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.em.OnDevice(emulator.DeviceBehaviour{Pending: 2, Decision: emulator.DeviceApprove})
	stdout, stderr, err := w.run(t, "login", "--client-id", emulator.WorldClientID,
		"--github-url", w.srv.URL, "--api-url", w.srv.URL+"/api/v3")
	if err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	dc := w.em.DeviceCodes()[0]
	for _, want := range []string{dc.UserCode, w.srv.URL + "/login/device", "Waiting for you to approve", "expires in 15m",
		"Signed in to " + w.host() + " as octocat.", "encrypted file", "refreshes it when used"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("login's stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("login wrote to stdout: %q", stdout)
	}
	if dc.Polls != 3 {
		t.Errorf("%d polls, want 3", dc.Polls)
	}
	w.noSecrets(t, "login", stdout+stderr)
	tok := w.newestToken(t)

	// The token file holds no secret in clear.
	data, err := os.ReadFile(filepath.Join(w.env[settings.EnvConfigDir], "users", strings.ReplaceAll(w.host(), ":", "_")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	w.noSecrets(t, "the token file", string(data))

	stdout, stderr, err = w.run(t, "user-token", "--github-url", w.srv.URL)
	if err != nil || stdout != tok.Value+"\n" {
		t.Fatalf("user-token = %q, %v\n%s", stdout, err, stderr)
	}
	w.noSecrets(t, "user-token's stderr", stderr)

	stdout, stderr, err = w.run(t, "status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stdout+stderr)
	}
	for _, want := range []string{w.host(), "octocat", emulator.WorldClientID, "device flow", "encrypted file",
		"valid (GET " + w.srv.URL + "/api/v3/user answered for octocat)", "2026-04-01 17:00 UTC (in 8h0m)", "automatic until 2026-10-0"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	w.noSecrets(t, "status", stdout+stderr)

	_, stderr, err = w.run(t, "logout")
	if err != nil || !strings.Contains(stderr, "Signed out of "+w.host()+" (octocat)") {
		t.Fatalf("logout: %v\n%s", err, stderr)
	}
	_, _, err = w.run(t, "status")
	wantExit(t, err, exitAuth, "not signed in to "+w.host(), "app-token login")
	_, _, err = w.run(t, "user-token")
	wantExit(t, err, exitAuth, "not signed in")
	if _, stderr, err := w.run(t, "logout"); err != nil || !strings.Contains(stderr, "nothing to forget") {
		t.Errorf("second logout: %v %s", err, stderr)
	}
}

func TestLoginFlagsWinOverEnvironment(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.env[settings.EnvClientID] = "Iv1.wrong"
	w.env[settings.EnvGitHubURL] = "https://github.invalid"
	w.em.OnDevice(emulator.DeviceBehaviour{Decision: emulator.DeviceApprove})
	_, stderr, err := w.run(t, "login", "--client-id", emulator.WorldClientID, "--github-url", w.srv.URL)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	// The environment alone is used when no flag is given.
	w.env[settings.EnvClientID] = emulator.WorldClientID
	w.env[settings.EnvGitHubURL] = w.srv.URL
	w.env[settings.EnvAPIURL] = w.srv.URL + "/api/v3"
	if _, stderr, err := w.run(t, "login"); err != nil {
		t.Fatalf("login from the environment: %v\n%s", err, stderr)
	}
}

func TestLoginSlowDown(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.em.OnDevice(emulator.DeviceBehaviour{Pending: 3, Decision: emulator.DeviceApprove, SlowDownAt: []int{2}})
	_, stderr, err := w.run(t, "login", "--client-id", emulator.WorldClientID)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "poll less often: now every 10s") {
		t.Errorf("stderr does not report the slow_down:\n%s", stderr)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}
	if got := w.clock.waits; len(got) != len(want) || got[2] != want[2] || got[4] != want[4] {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		setup    func(*loginWorld)
		args     []string
		code     int
		contains []string
	}{
		{"denied", func(w *loginWorld) {
			w.em.OnDevice(emulator.DeviceBehaviour{Pending: 1, Decision: emulator.DeviceDeny})
		},
			nil, exitAuth, []string{"cancelled in the browser", "access_denied", "app-token login again"}},
		{"expired", func(w *loginWorld) {
			w.em.OnDevice(emulator.DeviceBehaviour{Pending: 1, Decision: emulator.DeviceExpire})
		},
			nil, exitAuth, []string{"code expired", "app-token login again"}},
		{"expires_in passed", func(w *loginWorld) { w.em.SetOAuth(emulator.OAuthSettings{DeviceExpiresIn: 20 * time.Second}) },
			nil, exitAuth, []string{"code expired"}},
		{"device flow disabled", func(w *loginWorld) { w.em.SetOAuth(emulator.OAuthSettings{DeviceFlowDisabled: true}) },
			nil, exitAuth, []string{"Enable Device Flow", "--web"}},
		{"unknown client", nil, []string{"--client-id", "Iv1.nope"}, exitAuth, []string{`client ID "Iv1.nope"`, "--client-id", settings.EnvClientID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newLoginWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			args := tc.args
			if args == nil {
				args = []string{"--client-id", emulator.WorldClientID}
			}
			_, stderr, err := w.run(t, append([]string{"login"}, args...)...)
			wantExit(t, err, tc.code, tc.contains...)
			w.noSecrets(t, "stderr", stderr)
			if _, err := w.store(t).Load(t.Context(), w.host(), ""); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("something was stored: %v", err)
			}
		})
	}
}

func TestLoginUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		contains []string
	}{
		{"no client ID", nil, []string{"login"}, []string{"--client-id", settings.EnvClientID}},
		{"both flows", nil, []string{"login", "--client-id", "x", "--device", "--web"}, []string{"--device and --web"}},
		{"web without secret", nil, []string{"login", "--client-id", "x", "--web"}, []string{"client secret", "--client-secret", settings.EnvClientSecret}},
		{"plain http", nil, []string{"login", "--client-id", "x", "--github-url", "http://ghe.example"}, []string{"--github-url", "use https"}},
		{"bad api url", nil, []string{"login", "--client-id", "x", "--api-url", "ftp://x"}, []string{"--api-url", settings.EnvAPIURL}},
		{"bad store mode", map[string]string{settings.EnvStore: "vault"}, []string{"login", "--client-id", "x"}, []string{settings.EnvStore, `"vault"`}},
		{"no passphrase", map[string]string{settings.EnvStoreKey: ""}, []string{"login", "--client-id", "x"}, []string{settings.EnvStoreKey, "--insecure-storage"}},
		{"argument", nil, []string{"status", "extra"}, []string{"no arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newLoginWorld(t)
			for k, v := range tc.env {
				w.env[k] = v
			}
			_, _, err := w.run(t, tc.args...)
			wantExit(t, err, exitUsage, tc.contains...)
			if n := len(w.em.Requests()); n != 0 {
				t.Errorf("%d requests reached GitHub before the usage error", n)
			}
		})
	}
}

func TestLoginHelp(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	for _, cmd := range []string{"login", "status", "user-token", "logout"} {
		_, stderr, err := w.run(t, cmd, "-h")
		if err != nil || !strings.Contains(stderr, "Usage: app-token "+cmd) || !strings.Contains(stderr, "-github-url") {
			t.Errorf("%s -h: %v\n%s", cmd, err, stderr)
		}
	}
}

// webLogin starts "login --web" and returns the authorize URL it printed
// and a channel with its result.
func (w *loginWorld) webLogin(t *testing.T, args ...string) (authURL string, done chan error, stderr *loginStream) {
	t.Helper()
	stderr = newLoginStream()
	done = make(chan error, 1)
	go func() {
		err := w.cli(io.Discard, stderr).run(t.Context(), append([]string{"login", "--web", "--no-browser", "--client-id", emulator.WorldClientID}, args...))
		done <- err
	}()
	line := stderr.next(t, "/login/oauth/authorize?")
	return strings.TrimSpace(line), done, stderr
}

func TestLoginWebFlowEndToEnd(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	authURL, done, stderr := w.webLogin(t, "--client-secret", loginSecret)
	// The browser: follow the authorize URL, which lands on the loopback
	// callback.
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "close this tab") {
		t.Errorf("callback page: %d %s", resp.StatusCode, page)
	}
	if err := <-done; err != nil {
		t.Fatalf("login --web: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "Signed in to "+w.host()+" as octocat") {
		t.Errorf("stderr:\n%s", stderr)
	}
	w.noSecrets(t, "stderr", stderr.String())
	tok := w.newestToken(t)
	if tok.Flow != "web" {
		t.Errorf("flow = %s", tok.Flow)
	}
	// Refreshing a web-flow token needs the client secret: the stored one
	// serves.
	w.clock.Advance(9 * time.Hour)
	stdout, stderr2, err := w.run(t, "user-token")
	if err != nil || stdout == tok.Value+"\n" || w.em.TokenRequests("refresh_token") != 1 {
		t.Errorf("user-token after 9 h = %q, %v\n%s", stdout, err, stderr2)
	}
}

func TestLoginWebFlowWrongState(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	authURL, done, stderr := w.webLogin(t, "--client-secret", loginSecret)
	u, _ := url.Parse(authURL)
	redirect := u.Query().Get("redirect_uri")
	// A stray callback (another page, a scanner, an attacker) is refused
	// and reported, and does not end the sign-in.
	resp, err := http.Get(redirect + "?code=stolen&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with the wrong state: HTTP %d", resp.StatusCode)
	}
	stderr.next(t, "Warning:")
	select {
	case err := <-done:
		t.Fatalf("a stray callback ended the sign-in: %v", err)
	default:
	}
	// The real browser's callback then completes it.
	resp, err = http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("login --web after a stray callback: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "state") || strings.Contains(stderr.String(), "stolen") {
		t.Errorf("the warning should name the state mismatch and never echo the code:\n%s", stderr)
	}
	if n := w.em.TokenRequests("authorization_code"); n != 1 {
		t.Errorf("%d code exchanges, want 1 (the forged code must never be exchanged)", n)
	}
}

func TestLoginWebFlowErrorCallback(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.em.OnAuthorize(emulator.AuthorizeBehaviour{Deny: true})
	authURL, done, _ := w.webLogin(t, "--client-secret", loginSecret)
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantExit(t, <-done, exitAuth, "cancelled in the browser", "access_denied")
}

func TestUserTokenRefreshesAndRotates(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	first := w.login(t)
	before, err := w.store(t).Load(t.Context(), w.host(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Two minutes before expiry the token is "about to expire".
	w.clock.Advance(8*time.Hour - 2*time.Minute)
	stdout, stderr, err := w.run(t, "user-token")
	if err != nil {
		t.Fatalf("user-token: %v\n%s", err, stderr)
	}
	second := strings.TrimSpace(stdout)
	if second == first || w.em.TokenRequests("refresh_token") != 1 {
		t.Fatalf("user-token did not refresh: %q", second)
	}
	after, err := w.store(t).Load(t.Context(), w.host(), "")
	if err != nil || after.AccessToken != second || after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Errorf("the rotated tokens were not stored: %v, %v", after, err)
	}
	// Fresh now: no second refresh.
	if stdout, _, err := w.run(t, "user-token"); err != nil || strings.TrimSpace(stdout) != second || w.em.TokenRequests("refresh_token") != 1 {
		t.Errorf("second user-token = %q, %v", stdout, err)
	}
	// The credential helper's entry point serves the same token.
	tok, exp, err := w.cli(io.Discard, io.Discard).signedInToken(t.Context(), w.srv.URL, "")
	if err != nil || tok != second || !exp.Equal(after.ExpiresAt) {
		t.Errorf("signedInToken = %q, %v, %v", tok, exp, err)
	}
}

func TestUserTokenParallelRefreshSpendsOneRefreshToken(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	w.clock.Advance(9 * time.Hour)
	const n = 6
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _, errs[i] = w.run(t, "user-token")
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || outs[i] != outs[0] {
			t.Errorf("user-token %d = %q, %v (first: %q)", i, outs[i], errs[i], outs[0])
		}
	}
	if got := w.em.TokenRequests("refresh_token"); got != 1 {
		t.Errorf("refresh grants = %d, want exactly 1", got)
	}
}

func TestUserTokenDeadRefreshToken(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	e, err := w.store(t).Load(t.Context(), w.host(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Someone else spends the refresh token.
	resp, err := http.PostForm(w.srv.URL+"/login/oauth/access_token", url.Values{
		"client_id": {emulator.WorldClientID}, "grant_type": {"refresh_token"}, "refresh_token": {e.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.clock.Advance(9 * time.Hour)
	stdout, stderr, err := w.run(t, "user-token")
	wantExit(t, err, exitAuth, "sign in again with app-token login")
	t.Logf("user-token said: %s", stderr)
	if stdout != "" {
		t.Errorf("stdout = %q", stdout)
	}
	w.noSecrets(t, "stderr", stderr)
	_, _, err = w.cli(io.Discard, io.Discard).signedInToken(t.Context(), w.srv.URL, "")
	wantExit(t, err, exitAuth, "sign in again")
	// status cannot know the refresh token is dead without spending it: it
	// says the access token expired.
	if stdout, _, _ = w.run(t, "status"); !strings.Contains(stdout, "expired") {
		t.Errorf("status:\n%s", stdout)
	}
}

func TestStatusCorruptStore(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	path := filepath.Join(w.env[settings.EnvConfigDir], "users", strings.ReplaceAll(w.host(), ":", "_")+".json")
	if err := os.WriteFile(path, []byte(`{"format":"app-token user tokens","version":1,`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := w.run(t, "status")
	wantExit(t, err, exitAuth, "unreadable", path, "nobody counts as signed in", "app-token login")
	_, _, err = w.run(t, "user-token")
	wantExit(t, err, exitAuth, "unreadable")
	_, _, err = w.cli(io.Discard, io.Discard).signedInToken(t.Context(), w.srv.URL, "")
	wantExit(t, err, exitAuth, "unreadable")
	// The next sign-in rewrites it.
	w.login(t)
	if _, _, err := w.run(t, "status"); err != nil {
		t.Errorf("status after signing in again: %v", err)
	}
	// Wrong passphrase: a clear word, no panic.
	w.env[settings.EnvStoreKey] = "another passphrase"
	_, _, err = w.run(t, "user-token")
	wantExit(t, err, exitAuth, settings.EnvStoreKey, "passphrase")
	// logout deletes what it cannot read.
	if _, stderr, err := w.run(t, "logout"); err != nil || !strings.Contains(stderr, "Deleted the unreadable tokens") {
		t.Errorf("logout of an unreadable store: %v %s", err, stderr)
	}
}

func TestLoginInsecureStorage(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.env[settings.EnvStoreKey] = ""
	w.em.OnDevice(emulator.DeviceBehaviour{Decision: emulator.DeviceApprove})
	_, stderr, err := w.run(t, "login", "--client-id", emulator.WorldClientID, "--insecure-storage")
	if err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "plaintext file") || !strings.Contains(stderr, "Warning") {
		t.Errorf("login does not warn about plaintext:\n%s", stderr)
	}
	stdout, _, err := w.run(t, "status")
	if err != nil || !strings.Contains(stdout, "plaintext") || !strings.Contains(stdout, "insecure") {
		t.Errorf("status does not say the storage is insecure: %v\n%s", err, stdout)
	}
	// A refresh rewrites the plaintext file without the flag.
	w.clock.Advance(9 * time.Hour)
	if _, stderr, err := w.run(t, "user-token"); err != nil {
		t.Errorf("user-token: %v\n%s", err, stderr)
	}
}

func TestLogoutRevoke(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	tok := w.login(t)
	_, _, err := w.run(t, "logout", "--revoke")
	wantExit(t, err, exitUsage, "--client-secret", settings.EnvClientSecret)
	if _, err := w.store(t).Load(t.Context(), w.host(), ""); err != nil {
		t.Fatalf("a failed revocation dropped the tokens: %v", err)
	}
	_, stderr, err := w.run(t, "logout", "--revoke", "--client-secret", loginSecret)
	if err != nil || !strings.Contains(stderr, "Revoked the access token") {
		t.Fatalf("logout --revoke: %v\n%s", err, stderr)
	}
	if info, _ := w.em.UserTokenInfo(tok); !info.Revoked {
		t.Error("the token is not revoked")
	}
	w.noSecrets(t, "stderr", stderr)
}

func TestStatusTokenRefusedByGitHub(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	tok := w.login(t)
	req, _ := http.NewRequest("DELETE", w.srv.URL+"/applications/"+emulator.WorldClientID+"/token", strings.NewReader(`{"access_token":"`+tok+`"}`))
	req.SetBasicAuth(emulator.WorldClientID, loginSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stdout, _, err := w.run(t, "status")
	wantExit(t, err, exitAuth)
	if !strings.Contains(stdout, "REFUSED") || !strings.Contains(stdout, "sign in again") {
		t.Errorf("status:\n%s", stdout)
	}
}

func TestUserTokenPicksAmongClients(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	// A second sign-in to the same host with another client.
	e, _ := w.store(t).Load(t.Context(), w.host(), "")
	e.ClientID, e.AccessToken, e.Location = "Iv1.other", "ghu_other", store.Location{}
	if _, err := w.store(t).Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	_, _, err := w.run(t, "user-token")
	wantExit(t, err, exitUsage, "--client-id", settings.EnvClientID)
	if stdout, _, err := w.run(t, "user-token", "--client-id", "Iv1.other"); err != nil || stdout != "ghu_other\n" {
		t.Errorf("user-token --client-id = %q, %v", stdout, err)
	}
	w.env[settings.EnvClientID] = "Iv1.other"
	if stdout, _, err := w.run(t, "user-token"); err != nil || stdout != "ghu_other\n" {
		t.Errorf("user-token with %s = %q, %v", settings.EnvClientID, stdout, err)
	}
	_, _, err = w.run(t, "user-token", "--client-id", "Iv1.third")
	wantExit(t, err, exitAuth, "not signed in")
}

func TestLoginHostsAreSeparate(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	_, _, err := w.run(t, "user-token", "--github-url", "https://ghe.example")
	wantExit(t, err, exitAuth, "not signed in to ghe.example", "--github-url https://ghe.example")
	_, _, err = w.cli(io.Discard, io.Discard).signedInToken(t.Context(), "https://github.com", "")
	wantExit(t, err, exitAuth, "not signed in to github.com")
}

// TestLoginEndToEndBinary runs the real binary against the emulator on the
// real clock, with a 1 s polling interval.
func TestLoginEndToEndBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "app-token")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	em := emulator.NewWorld(testKey())
	failOnViolations(t, em)
	em.SetOAuth(emulator.OAuthSettings{DeviceInterval: time.Second})
	em.OnDevice(emulator.DeviceBehaviour{Pending: 1, Decision: emulator.DeviceApprove})
	srv := httptest.NewServer(em)
	defer srv.Close()
	env := []string{
		"HOME=" + dir, settings.EnvConfigDir + "=" + filepath.Join(dir, "config"), settings.EnvStore + "=file", settings.EnvStoreKey + "=" + loginStoreKey,
		settings.EnvGitHubURL + "=" + srv.URL, settings.EnvAPIURL + "=" + srv.URL, settings.EnvClientID + "=" + emulator.WorldClientID,
		"PATH=" + os.Getenv("PATH"), "SYSTEMROOT=" + os.Getenv("SYSTEMROOT"),
	}
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	start := time.Now()
	if _, stderr, code := run("login"); code != 0 || !strings.Contains(stderr, "Signed in to") {
		t.Fatalf("login exited %d:\n%s", code, stderr)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("login took %s: it did not wait the 1 s interval before each of its two polls", d)
	}
	var tok string
	for _, ut := range em.UserTokens() {
		tok = ut.Value
	}
	if stdout, stderr, code := run("user-token"); code != 0 || stdout != tok+"\n" {
		t.Errorf("user-token exited %d: %q\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := run("status"); code != 0 || !strings.Contains(stdout, "valid") {
		t.Errorf("status exited %d:\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := run("logout", "--revoke", "--client-secret", loginSecret); code != 0 || !strings.Contains(stderr, "Revoked") {
		t.Errorf("logout exited %d:\n%s", code, stderr)
	}
	if _, stderr, code := run("user-token"); code != exitAuth || !strings.Contains(stderr, "not signed in") {
		t.Errorf("user-token after logout exited %d:\n%s", code, stderr)
	}
}
