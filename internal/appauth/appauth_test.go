package appauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/org/app-token/internal/emulator"
)

// testKey is generated once per test binary: no key is committed.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

// world serves a fresh emulator world for one test.
func world(t *testing.T, opts ...emulator.Option) (*emulator.Server, *httptest.Server) {
	t.Helper()
	emu := emulator.NewWorld(testKey(), opts...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := emu.Unexpected(); len(u) > 0 {
			t.Errorf("requests the emulator does not know: %v", u)
		}
	})
	return emu, srv
}

// waits records the waits a retrying App asked for, taking no time.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func newApp(t *testing.T, url string, opts ...Option) *App {
	t.Helper()
	all := append([]Option{WithBaseURL(url), WithHTTPClient(&http.Client{Timeout: 10 * time.Second}), WithWait((&waits{}).wait)}, opts...)
	a, err := New(emulator.WorldClientID, testKey(), all...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func count(reqs []emulator.Request, method, suffix string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestJWTClaims(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 750_000_000, time.UTC)
	a, err := New("Iv23liTEST", testKey(), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	s, exp, err := a.JWT()
	if err != nil {
		t.Fatal(err)
	}
	claims := &jwt.RegisteredClaims{}
	_, err = jwt.ParseWithClaims(s, claims, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("JWT does not verify: %v", err)
	}
	wantIat := now.Add(-60 * time.Second).Truncate(time.Second)
	if !claims.IssuedAt.Time.Equal(wantIat) {
		t.Errorf("iat = %v, want now-60s in whole seconds = %v", claims.IssuedAt.Time, wantIat)
	}
	if got := claims.ExpiresAt.Time.Sub(claims.IssuedAt.Time); got != 10*time.Minute {
		t.Errorf("exp - iat = %v, want 10m", got)
	}
	if !exp.Equal(claims.ExpiresAt.Time) {
		t.Errorf("returned expiry %v != exp claim %v", exp, claims.ExpiresAt.Time)
	}
	if claims.Issuer != "Iv23liTEST" {
		t.Errorf("iss = %q", claims.Issuer)
	}
	// Whole seconds on the wire: GitHub refuses a fractional iat.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(s, ".")[1])
	if strings.Contains(string(payload), ".") {
		t.Errorf("claims have a fractional number: %s", payload)
	}
}

func TestMintResolution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		req      Request
		wantReqs []string // method and path suffix, in order
		wantRepo []string
		wantInst int64
	}{
		{"repository", Request{Owner: "octo-org", Repositories: []string{"alpha"}},
			[]string{"GET /repos/octo-org/alpha/installation", "POST /app/installations/101/access_tokens"}, []string{"alpha"}, 101},
		{"owner only", Request{Owner: "octo-org"},
			[]string{"GET /users/octo-org/installation", "POST /app/installations/101/access_tokens"}, nil, 101},
		{"user owner", Request{Owner: "octocat"},
			[]string{"GET /users/octocat/installation", "POST /app/installations/102/access_tokens"}, nil, 102},
		{"owner and repositories", Request{Owner: "octo-org", Repositories: []string{"beta", "gamma"}},
			[]string{"GET /repos/octo-org/beta/installation", "POST /app/installations/101/access_tokens"}, []string{"beta", "gamma"}, 101},
		{"installation id", Request{InstallationID: 101},
			[]string{"POST /app/installations/101/access_tokens"}, nil, 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, srv := world(t)
			tok, err := newApp(t, srv.URL).Mint(t.Context(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range emu.Requests() {
				got = append(got, r.Method+" "+r.Path)
			}
			if !slices.Equal(got, tc.wantReqs) {
				t.Errorf("requests = %q, want %q", got, tc.wantReqs)
			}
			info, ok := emu.TokenInfo(tok.Value.Reveal())
			if !ok {
				t.Fatal("the emulator never issued the returned token")
			}
			if !slices.Equal(info.Repositories, tc.wantRepo) || !slices.Equal(tok.Repositories, tc.wantRepo) {
				t.Errorf("token repositories: emulator %q, returned %q; want %q", info.Repositories, tok.Repositories, tc.wantRepo)
			}
			if tok.InstallationID != tc.wantInst || info.InstallationID != tc.wantInst {
				t.Errorf("installation = %d, want %d", tok.InstallationID, tc.wantInst)
			}
			if !tok.ExpiresAt.Equal(info.ExpiresAt) {
				t.Errorf("expires_at = %v, GitHub said %v", tok.ExpiresAt, info.ExpiresAt)
			}
			if tc.req.InstallationID == 0 && tok.AppSlug != emulator.WorldAppSlug {
				t.Errorf("app slug = %q", tok.AppSlug)
			}
		})
	}
}

func TestMintNarrowsPermissions(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	tok, err := newApp(t, srv.URL).Mint(t.Context(), Request{Owner: "octo-org", Permissions: map[string]string{"pull_requests": "write", "contents": "read"}})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := emu.TokenInfo(tok.Value.Reveal())
	want := map[string]string{"pull_requests": "write", "contents": "read"}
	if fmt.Sprint(info.Permissions) != fmt.Sprint(want) || fmt.Sprint(tok.Permissions) != fmt.Sprint(want) {
		t.Errorf("permissions: emulator %v, token %v; want %v", info.Permissions, tok.Permissions, want)
	}
}

func TestMintAdvice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  Request
		want []string
	}{
		{"not installed on repository", Request{Owner: "octo-org", Repositories: []string{"nope"}},
			[]string{"the app is not installed on octo-org/nope", "set owner", "404"}},
		{"no installation on owner", Request{Owner: "lonely-org"},
			[]string{`not installed on the account "lonely-org"`, "check owner"}},
		{"repository outside installation", Request{Owner: "octocat", Repositories: []string{"hello-world", "secret"}},
			[]string{"cannot reach every repository", "hello-world, secret", "fix repositories"}},
		{"permission not granted", Request{Owner: "octocat", Permissions: map[string]string{"contents": "write"}},
			[]string{"was not granted contents: write (it has read; lower permission-contents)"}},
		{"unknown installation", Request{InstallationID: 999},
			[]string{"no installation 999", "check installation-id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := world(t)
			_, err := newApp(t, srv.URL).Mint(t.Context(), tc.req)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestWrongKeyAndUnknownApp(t *testing.T) {
	t.Parallel()
	_, srv := world(t)
	other, err := rsa.GenerateKey(randReader{}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := New(emulator.WorldClientID, other, WithBaseURL(srv.URL), WithWait((&waits{}).wait))
	_, err = a.Mint(t.Context(), Request{Owner: "octo-org"})
	var ae *APIError
	if !errors.As(err, &ae) || !ae.IsAuth() || !strings.Contains(err.Error(), "check that private-key belongs") {
		t.Errorf("wrong key: err = %v", err)
	}
	b, _ := New("Iv23liUNKNOWN", testKey(), WithBaseURL(srv.URL), WithWait((&waits{}).wait))
	_, err = b.Mint(t.Context(), Request{Owner: "octo-org"})
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), `GitHub knows no app "Iv23liUNKNOWN": check client-id`) {
		t.Errorf("unknown app: err = %v", err)
	}
}

// randReader is a deterministic, fast source for a throwaway small key.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return len(p), nil
}

func TestClockSkewIsCorrectedOnce(t *testing.T) {
	t.Parallel()
	for _, shift := range []time.Duration{-15 * time.Minute, -3 * time.Minute, 3 * time.Minute, 15 * time.Minute, 2 * time.Hour} {
		t.Run(shift.String(), func(t *testing.T) {
			t.Parallel()
			emu, srv := world(t)
			emu.Shift(shift)
			var lines []string
			var mu sync.Mutex
			a := newApp(t, srv.URL, WithDebug(func(f string, args ...any) {
				mu.Lock()
				lines = append(lines, fmt.Sprintf(f, args...))
				mu.Unlock()
			}))
			if _, err := a.Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
				t.Fatalf("with GitHub's clock %v off: %v", shift, err)
			}
			// A second token reuses the learned offset: no more 401s.
			if _, err := a.Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
				t.Fatal(err)
			}
			n401 := 0
			for _, r := range emu.Requests() {
				if r.Status == http.StatusUnauthorized {
					n401++
				}
			}
			// GitHub's clock behind ours by less than the 60 s backdate, or
			// ahead by less than the JWT's 9 minutes: no correction is
			// needed. Beyond, exactly one.
			want := 1
			if shift > -60*time.Second && shift < 9*time.Minute {
				want = 0
			}
			if n401 != want {
				t.Errorf("%d refused requests, want %d; debug: %q", n401, want, lines)
			}
			if d := a.clockSkew() - shift; want == 1 && (d < -2*time.Second || d > 2*time.Second) {
				t.Errorf("learned skew %v, emulator shifted %v", a.clockSkew(), shift)
			}
		})
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Path: "/users/", Status: 502, Times: 1})
	// A dropped connection on a POST: net/http retries only idempotent
	// requests by itself, so this one is ours to retry.
	emu.Inject(emulator.Fault{Method: "POST", Path: "/app/installations/", Drop: true, Times: 1})
	emu.Inject(emulator.Fault{Method: "POST", Path: "/app/installations/", Status: 503, Times: 1})
	w := &waits{}
	a := newApp(t, srv.URL, WithWait(w.wait))
	tok, err := a.Mint(t.Context(), Request{Owner: "octo-org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.TokenInfo(tok.Value.Reveal()); !ok {
		t.Error("returned token was not issued")
	}
	if len(w.d) != 3 {
		t.Fatalf("waited %d times (%v), want 3", len(w.d), w.d)
	}
	// Exponential with ±50% jitter: retry n waits within [base·2ⁿ/2, base·2ⁿ·1.5).
	for i, attempt := range []int{0, 0, 1} {
		d := w.d[i]
		lo, hi := (backoffBase<<attempt)/2, (backoffBase<<attempt)*3/2
		if d < lo || d >= hi {
			t.Errorf("wait %d = %v, want in [%v, %v)", i, d, lo, hi)
		}
	}
}

func TestRetriesStopAfterThree(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Path: "/users/", Status: 500, Times: 10})
	w := &waits{}
	_, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: "octo-org"})
	if err == nil {
		t.Fatal("Mint succeeded through 10 failures")
	}
	if got := count(emu.Requests(), "GET", "/users/octo-org/installation"); got != 4 {
		t.Errorf("%d attempts, want 4 (1 + 3 retries)", got)
	}
	if !strings.Contains(err.Error(), "500") {
		t.Errorf("error %q does not say what GitHub answered", err)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	w := &waits{}
	_, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: "lonely-org"})
	if err == nil || len(w.d) != 0 || len(emu.Requests()) != 1 {
		t.Errorf("404: err=%v waits=%v requests=%d; want one request, no retry", err, w.d, len(emu.Requests()))
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("short Retry-After is waited out", func(t *testing.T) {
		t.Parallel()
		emu, srv := world(t)
		emu.Inject(emulator.Fault{Path: "/users/", Status: 429, Header: http.Header{"Retry-After": {"7"}}})
		w := &waits{}
		if _, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
			t.Fatal(err)
		}
		if len(w.d) != 1 || w.d[0] < 6*time.Second || w.d[0] > 7*time.Second {
			t.Errorf("waits = %v, want one of about 7s", w.d)
		}
	})
	t.Run("secondary limit on 403", func(t *testing.T) {
		t.Parallel()
		emu, srv := world(t)
		emu.Inject(emulator.Fault{Path: "/users/", Status: 403, Message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", Header: http.Header{"Retry-After": {"2"}}})
		w := &waits{}
		if _, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
			t.Fatal(err)
		}
		if len(w.d) != 1 {
			t.Errorf("waits = %v, want one", w.d)
		}
	})
	t.Run("long reset fails with when to retry", func(t *testing.T) {
		t.Parallel()
		emu, srv := world(t)
		reset := time.Now().Add(40 * time.Minute).Unix()
		emu.Inject(emulator.Fault{Path: "/users/", Status: 403, Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(reset)}}})
		w := &waits{}
		_, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: "octo-org"})
		var rl *RateLimitError
		if !errors.As(err, &rl) || len(w.d) != 0 {
			t.Fatalf("err = %v, waits %v; want RateLimitError and no wait", err, w.d)
		}
		if d := time.Until(rl.Until); d < 39*time.Minute || d > 41*time.Minute {
			t.Errorf("until in %v, want about 40m", d)
		}
		if !strings.Contains(err.Error(), "retry after that") {
			t.Errorf("error %q does not say when to retry", err)
		}
	})
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	a := newApp(t, srv.URL)
	tok, err := a.Mint(t.Context(), Request{Owner: "octo-org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(t.Context(), tok.Value.Reveal()); err != nil {
		t.Fatal(err)
	}
	if info, _ := emu.TokenInfo(tok.Value.Reveal()); !info.Revoked {
		t.Error("token not revoked")
	}
	err = a.Revoke(t.Context(), tok.Value.Reveal())
	if err == nil || strings.Contains(err.Error(), tok.Value.Reveal()) {
		t.Errorf("second revoke: err = %v (must fail, without the token)", err)
	}
}

func TestInstallationsFollowsPages(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	for i := range 150 {
		emu.AddInstallation(&emulator.Installation{ID: int64(5000 + i), AppID: emulator.WorldAppID, Account: fmt.Sprintf("org-%d", i), AccountType: "Organization", RepositorySelection: "all"})
	}
	got, err := newApp(t, srv.URL).Installations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 152 {
		t.Errorf("%d installations, want 152", len(got))
	}
	if n := count(emu.Requests(), "GET", "/app/installations"); n != 2 {
		t.Errorf("%d pages fetched, want 2", n)
	}
}

func TestGHESPathPrefix(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	if _, err := newApp(t, srv.URL+"/api/v3").Mint(t.Context(), Request{Owner: "octo-org", Repositories: []string{"alpha"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range emu.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") {
			t.Errorf("request %s %s left the /api/v3 root", r.Method, r.Path)
		}
	}
}

func TestSecretsStayOutOfErrorsAndDebug(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	var mu sync.Mutex
	var debug strings.Builder
	a := newApp(t, srv.URL, WithDebug(func(f string, args ...any) {
		mu.Lock()
		fmt.Fprintf(&debug, f+"\n", args...)
		mu.Unlock()
	}))
	tok, err := a.Mint(t.Context(), Request{Owner: "octo-org"})
	if err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{Path: "/installation/token", Status: 500, Times: 10})
	revErr := a.Revoke(t.Context(), tok.Value.Reveal())
	jwtStr, _, _ := a.JWT()
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))
	all := debug.String() + fmt.Sprint(revErr) + fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok.Value)
	for name, secret := range map[string]string{"token": tok.Value.Reveal(), "JWT header": strings.Split(jwtStr, ".")[0] + "." + strings.Split(jwtStr, ".")[1][:10], "key": strings.Split(keyPEM, "\n")[1]} {
		if strings.Contains(all, secret) {
			t.Errorf("the %s leaked into errors, debug or formatting", name)
		}
	}
	if !strings.Contains(debug.String(), "GET /users/octo-org/installation: 200") {
		t.Errorf("debug lines lack method, path and status:\n%s", debug.String())
	}
}

// TestJWTReusedWithinRequests checks that one token's two requests share a
// JWT, and that a clock correction forces a new one.
func TestJWTReusedWithinRequests(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	var mu sync.Mutex
	seen := map[string]int{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")]++
		mu.Unlock()
		u := srv.URL + r.URL.RequestURI()
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Errorf("forward: %v", err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	now := time.Now()
	a := newApp(t, proxy.URL, WithClock(func() time.Time { return now }))
	if _, err := a.Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Errorf("%d distinct JWTs for one token's 2 requests, want 1", len(seen))
	}
	// Nine minutes later, on both clocks, the JWT has under a minute left.
	now = now.Add(9 * time.Minute)
	emu.Shift(9 * time.Minute)
	if _, err := a.Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Errorf("%d distinct JWTs after the first expired, want 2", len(seen))
	}
}
