package sts

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// An http:// exchange URL (behind a TLS-terminating proxy, or local) and
// the default issuer, GitHub's https one, are accepted.
func TestNewAcceptsHTTPURLAndDefaultIssuer(t *testing.T) {
	t.Parallel()
	s, err := New(Config{ClientID: emulator.WorldClientID, Signer: testKey(), URL: "http://127.0.0.1:8080/"})
	if err != nil {
		t.Fatalf("New with an http URL and the default issuer: %v", err)
	}
	if !strings.EqualFold(strings.Join(s.cfg.Issuers, ","), DefaultIssuer) {
		t.Errorf("issuers = %v, want %s", s.cfg.Issuers, DefaultIssuer)
	}
}

// Without an HTTP client, or with one without a transport, the exchange
// still reaches GitHub and the issuer.
func TestDefaultHTTPClientReachesGitHub(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]*http.Client{"no client": nil, "no transport": {Timeout: time.Minute}} {
		w := newWorld(t, func(cfg *Config) { cfg.HTTPClient = c })
		if a := w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, stsURL)); a.status != 200 {
			t.Errorf("%s: HTTP %d %s", name, a.status, a.raw)
		}
		// Config.HTTPClient's documented default: a 30 s timeout (a hung
		// GitHub would take 30 s to show it).
		if c == nil && w.sts.client.Timeout != 30*time.Second {
			t.Errorf("the default client's timeout is %s, want 30s", w.sts.client.Timeout)
		}
	}
}

// The default rate limit: a burst of 50 exchanges per subject, then 10 a
// second.
func TestDefaultRateLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	frozen := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	w := newWorld(t, func(c *Config) { c.RateLimit, c.RateBurst, c.Now = 0, 0, frozen })
	id := w.idToken(t, emulator.Job{}, stsURL)
	// Refused exchanges (no such policy) take from the bucket too, and
	// cost GitHub little.
	const q = "scope=octo-org/alpha&identity=nope"
	for i := range DefaultRateBurst {
		if a := w.exchange(t, "GET", q, id); a.status == 429 {
			t.Fatalf("exchange %d of the burst was limited: %s", i+1, a.raw)
		}
	}
	refused(t, w.exchange(t, "GET", q, id), 429, "at most 10 a second")
	mu.Lock()
	now = now.Add(100 * time.Millisecond)
	mu.Unlock()
	if a := w.exchange(t, "GET", q, id); a.status == 429 {
		t.Errorf("100 ms later (10 a second) still limited: %s", a.raw)
	}
	refused(t, w.exchange(t, "GET", q, id), 429, "too many exchanges")
}

// gate holds requests to GitHub's access_tokens endpoint while armed.
type gate struct {
	next    http.RoundTripper
	mu      sync.Mutex
	armed   bool
	hit     chan struct{}
	release chan struct{}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	hold := g.armed && strings.HasSuffix(r.URL.Path, "/access_tokens")
	if hold {
		g.armed = false
	}
	g.mu.Unlock()
	if hold {
		close(g.hit)
		<-g.release
	}
	return g.next.RoundTrip(r)
}

// On cancel, Serve lets an exchange in flight finish (default drain 10 s),
// says it drained, and returns nil.
func TestServeDrainsInFlightByDefault(t *testing.T) {
	t.Parallel()
	g := &gate{hit: make(chan struct{}), release: make(chan struct{})}
	w := newWorld(t, func(c *Config) {
		g.next = c.HTTPClient.Transport
		c.HTTPClient = &http.Client{Transport: g}
		c.ShutdownTimeout = 0
	})
	id := w.idToken(t, emulator.Job{}, stsURL)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.sts.Serve(ctx, ln) }()
	// Warm the caches, then hold the next mint.
	base := "http://" + ln.Addr().String()
	if st := w.exchangeAt(t, base, id); st != 200 {
		t.Fatalf("exchange: HTTP %d", st)
	}
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	answer := make(chan int, 1)
	go func() { answer <- w.exchangeAt(t, base, id) }()
	<-g.hit
	cancel()
	time.Sleep(100 * time.Millisecond) // let the shutdown begin
	close(g.release)
	if st := <-answer; st != 200 {
		t.Errorf("the exchange in flight at shutdown: HTTP %d", st)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if !strings.Contains(w.logs.String(), `"msg":"stopped","drained":true`) {
		t.Errorf("no drained stop in the log: %s", w.logs.String())
	}
}

// ListenAndServe on an address in use fails, naming it.
func TestListenAndServeBusyAddress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = w.sts.ListenAndServe(t.Context(), ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Errorf("ListenAndServe on a busy address: %v", err)
	}
}

// HTTPServer bounds slow clients as its documentation says: headers in
// 5 s, a request in 10 s, an answer in 60 s, idle connections 2 minutes,
// headers of an ID token and then some.
func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	srv := w.sts.HTTPServer("127.0.0.1:0")
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 10*time.Second ||
		srv.WriteTimeout != time.Minute || srv.IdleTimeout != 2*time.Minute {
		t.Errorf("timeouts: header %s, read %s, write %s, idle %s; want 5s, 10s, 1m, 2m",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.MaxHeaderBytes <= maxIDToken || srv.Handler == nil || srv.Addr != "127.0.0.1:0" {
		t.Errorf("server = %+v", srv)
	}
}
