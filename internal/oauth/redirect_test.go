package oauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// thief records every request that reaches it.
type thief struct {
	mu   sync.Mutex
	seen []string
}

func (th *thief) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	th.mu.Lock()
	th.seen = append(th.seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" body="+string(b))
	th.mu.Unlock()
	w.WriteHeader(http.StatusTeapot)
}

func (th *thief) requests() []string {
	th.mu.Lock()
	defer th.mu.Unlock()
	return append([]string(nil), th.seen...)
}

// redirectingClient is a Client for w whose web host and API answer the
// requests matching hit with a 307 to target plus the request's path; the
// others reach the emulator (with a /renamed prefix dropped).
func (w *world) redirectingClient(t *testing.T, target func() string, hit func(*http.Request) bool) (*Client, *httptest.Server) {
	t.Helper()
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if hit(r) {
			rw.Header().Set("Location", target()+r.URL.Path)
			rw.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/renamed")
		w.em.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)
	c, err := New(Config{ClientID: emulator.WorldClientID, ClientSecret: clientSecret, GitHubURL: front.URL, APIURL: front.URL + "/api/v3"},
		WithHTTPClient(&http.Client{}), WithClock(w.clock.Now), WithWait(w.clock.Wait))
	if err != nil {
		t.Fatal(err)
	}
	return c, front
}

func TestNoSecretFollowsARedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	th := &thief{}
	other := httptest.NewServer(th)
	defer other.Close()
	otherPort := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name   string
		target string
		path   string
		call   func(c *Client, tok *Token) error
	}{
		{"refresh (client secret, refresh token in the body)", other.URL, "/login/oauth/access_token", func(c *Client, tok *Token) error {
			_, err := c.Refresh(t.Context(), tok.RefreshToken)
			return err
		}},
		{"device code", other.URL, "/login/device/code", func(c *Client, _ *Token) error {
			_, err := c.DeviceCode(t.Context())
			return err
		}},
		{"logout --revoke (Basic, access token in the body), another port", otherPort, "/token", func(c *Client, tok *Token) error {
			return c.Revoke(t.Context(), tok.AccessToken)
		}},
		{"GET /user (Bearer), another port", otherPort, "/user", func(c *Client, tok *Token) error {
			_, err := c.User(t.Context(), tok.AccessToken)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := w.deviceSignIn(t, w.client(t, clientSecret))
			c, _ := w.redirectingClient(t, func() string { return tc.target }, func(r *http.Request) bool {
				return strings.HasSuffix(r.URL.Path, tc.path)
			})
			before := len(th.requests())
			err := tc.call(c, tok)
			if got := th.requests()[before:]; len(got) > 0 {
				t.Fatalf("the other origin got %q", got)
			}
			if err == nil || !strings.Contains(err.Error(), "redirect") {
				t.Errorf("err = %v, want a refused redirect", err)
			}
			for _, s := range []string{tok.AccessToken, tok.RefreshToken, clientSecret} {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("error holds a secret: %v", err)
				}
			}
		})
	}
}

func TestOAuthFollowsSameOriginRedirects(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var front *httptest.Server
	c, front := w.redirectingClient(t, func() string { return front.URL + "/renamed" }, func(r *http.Request) bool {
		return !strings.HasPrefix(r.URL.Path, "/renamed") && (strings.HasSuffix(r.URL.Path, "/access_token") || strings.HasSuffix(r.URL.Path, "/token"))
	})
	tok := w.deviceSignIn(t, w.client(t, clientSecret))
	next, err := c.Refresh(t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh through a same-origin 307: %v", err)
	}
	if err := c.Revoke(t.Context(), next.AccessToken); err != nil {
		t.Fatalf("revoke through a same-origin 307: %v", err)
	}
	if info, _ := w.em.UserTokenInfo(next.AccessToken); !info.Revoked {
		t.Error("token not revoked")
	}
}
