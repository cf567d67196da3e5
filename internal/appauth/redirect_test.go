package appauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// thief records every request that reaches it, with the start of its
// Authorization header.
type thief struct {
	mu   sync.Mutex
	seen []string
}

func (th *thief) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	th.mu.Lock()
	auth := r.Header.Get("Authorization")
	auth = auth[:min(len(auth), 12)] // enough to tell a JWT from a token
	th.seen = append(th.seen, r.Method+" "+r.URL.Path+" auth="+auth)
	th.mu.Unlock()
	w.WriteHeader(http.StatusTeapot)
}

func (th *thief) requests() []string {
	th.mu.Lock()
	defer th.mu.Unlock()
	return append([]string(nil), th.seen...)
}

// redirecting serves emu, except that requests matching hit are answered
// with status and a Location of target plus the request's path.
func redirecting(t *testing.T, emu http.Handler, status int, target func() string, hit func(*http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hit(r) {
			w.Header().Set("Location", target()+r.URL.Path)
			w.WriteHeader(status)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/renamed")
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNoCredentialFollowsARedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	emu, _ := world(t)
	th := &thief{}
	other := httptest.NewServer(th)
	defer other.Close()
	// Another port of the same host is another origin too.
	otherPort := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name   string
		status int
		target string
		hit    func(*http.Request) bool
		call   func(t *testing.T, url string, token string) error
	}{
		{"token mint (App JWT)", http.StatusTemporaryRedirect, other.URL, func(r *http.Request) bool {
			return strings.HasSuffix(r.URL.Path, "/access_tokens")
		}, func(t *testing.T, url, _ string) error {
			_, err := newApp(t, url).Mint(t.Context(), Request{Owner: "octo-org"})
			return err
		}},
		{"installation lookup (App JWT), 301 to another port", http.StatusMovedPermanently, otherPort, func(r *http.Request) bool {
			return strings.HasSuffix(r.URL.Path, "/installation")
		}, func(t *testing.T, url, _ string) error {
			_, err := newApp(t, url).Mint(t.Context(), Request{Owner: "octo-org"})
			return err
		}},
		{"revoke (installation token)", http.StatusTemporaryRedirect, other.URL, func(r *http.Request) bool {
			return r.Method == http.MethodDelete
		}, func(t *testing.T, url, token string) error {
			return newApp(t, url).Revoke(t.Context(), token)
		}},
		{"post step's revocation, no App key (installation token)", http.StatusPermanentRedirect, other.URL, func(r *http.Request) bool {
			return r.Method == http.MethodDelete
		}, func(t *testing.T, url, token string) error {
			return Revoke(t.Context(), token, WithBaseURL(url), WithHTTPClient(&http.Client{}), WithWait((&waits{}).wait))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := mintDirect(t, emu)
			front := redirecting(t, emu, tc.status, func() string { return tc.target }, tc.hit)
			before := len(th.requests())
			err := tc.call(t, front.URL, tok)
			if got := th.requests()[before:]; len(got) > 0 {
				t.Fatalf("the other origin got %q", got)
			}
			if err == nil || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("err = %v, want a refused redirect", err)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error holds the token: %v", err)
			}
		})
	}
}

// mintDirect mints an installation token straight from emu, for the
// revocation cases.
func mintDirect(t *testing.T, emu *emulator.Server) string {
	t.Helper()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	tok, err := newApp(t, srv.URL).Mint(t.Context(), Request{Owner: "octo-org"})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value.Reveal()
}

func TestSameOriginRedirectsAreFollowed(t *testing.T) {
	t.Parallel()
	emu, _ := world(t)
	var front *httptest.Server
	front = redirecting(t, emu, http.StatusTemporaryRedirect, func() string { return front.URL + "/renamed" }, func(r *http.Request) bool {
		return !strings.HasPrefix(r.URL.Path, "/renamed") && (strings.HasSuffix(r.URL.Path, "/access_tokens") || r.Method == http.MethodDelete)
	})
	a := newApp(t, front.URL)
	tok, err := a.Mint(t.Context(), Request{Owner: "octo-org"})
	if err != nil {
		t.Fatalf("mint through a same-origin 307: %v", err)
	}
	if err := a.Revoke(t.Context(), tok.Value.Reveal()); err != nil {
		t.Fatalf("revoke through a same-origin 307: %v", err)
	}
	if info, _ := emu.TokenInfo(tok.Value.Reveal()); !info.Revoked {
		t.Error("token not revoked")
	}
}

func TestOriginTransportRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	th := &thief{}
	other := httptest.NewServer(th)
	defer other.Close()
	a := newApp(t, "https://api.github.example/")
	// A caller's own client that follows every redirect still cannot
	// have the App's transport sign a request for another origin.
	c := a.newClient(&tokenTransport{token: "ghs_secret", next: a.transport()})
	req, _ := http.NewRequest(http.MethodGet, other.URL+"/user", nil)
	_, err := c.Client().Transport.RoundTrip(req)
	if err == nil || len(th.requests()) > 0 {
		t.Fatalf("err = %v, other origin got %q", err, th.requests())
	}
	for _, tc := range []struct {
		u    string
		same bool
	}{
		{"https://api.github.example:443/x", true},
		{"HTTPS://API.GITHUB.EXAMPLE/x", true},
		{"http://api.github.example/x", false},
		{"https://api.github.example:8443/x", false},
		{"https://github.example/x", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, tc.u, nil)
		if got := isOrigin(r.URL, a.apiURL); got != tc.same {
			t.Errorf("isOrigin(%s) = %v, want %v", tc.u, got, tc.same)
		}
	}
}

// A call makes at most maxRedirects requests through same-origin
// redirects, as Go's own client does (its CheckRedirect sees the requests
// made so far): the first and 9 redirected ones; the 10th redirect is an
// error.
func TestRedirectLoopStopsAfterTenRedirects(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := 0
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Redirect(w, r, srv.URL+"/app/installations", http.StatusFound)
	}))
	defer srv.Close()
	_, err := newApp(t, srv.URL).Installations(t.Context())
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("redirect loop: %v, want it stopped after 10 redirects", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != maxRedirects {
		t.Errorf("the loop was asked %d times, want %d", hits, maxRedirects)
	}
}

// SameOriginRedirects keeps the client's own redirect policy after its
// own check: a same-origin redirect is then the client's to refuse.
func TestSameOriginRedirectsKeepsTheClientsPolicy(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, srv.URL+"/next", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	asked := 0
	own := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { asked++; return errors.New("the client's own refusal") }}
	_, err := SameOriginRedirects(own).Get(srv.URL + "/start")
	if err == nil || !strings.Contains(err.Error(), "the client's own refusal") || asked != 1 {
		t.Errorf("Get = %v (policy asked %d times), want the client's own refusal", err, asked)
	}
	resp, err := SameOriginRedirects(&http.Client{}).Get(srv.URL + "/start")
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Errorf("without a policy of its own: %v, %v; want the redirect followed", resp, err)
	}
}
