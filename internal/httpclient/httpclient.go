// Package httpclient builds the one HTTP client a process uses: proxies
// from the environment (read through a getenv, so tests can set them),
// bounded waits, and on request a debug log of each request that never
// shows a header or body.
package httpclient

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Timeout bounds every request: a credential helper must never hang git.
const Timeout = 30 * time.Second

// New returns the client every command uses: proxies come from HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY (and their lower-case forms) as getenv reads
// them, and nothing waits longer than Timeout.
func New(getenv func(string) string) *http.Client {
	proxy := proxyFunc(getenv)
	t := &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) { return proxy(r.URL) },
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: Timeout,
		ExpectContinueTimeout: 1 * time.Second,
	}
	return &http.Client{Transport: t, Timeout: Timeout}
}

// proxyFunc is http.ProxyFromEnvironment reading through getenv instead of
// the process environment (which it caches once for the whole process).
func proxyFunc(getenv func(string) string) func(*url.URL) (*url.URL, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := &httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}
	return cfg.ProxyFunc()
}

// serverIdleConns is how many idle connections to one host (GitHub's API)
// a server keeps: net/http's default of 2 makes every concurrent request
// beyond the second open a new TLS connection.
const serverIdleConns = 128

// ForServer returns a copy of c with room for a server's concurrency.
func ForServer(c *http.Client) *http.Client {
	hc := *c
	if t, ok := hc.Transport.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConns = 0 // no limit across hosts; per host below
		t.MaxIdleConnsPerHost = serverIdleConns
		hc.Transport = t
	}
	return &hc
}

// WithDebug returns a copy of c that prints each request on w: method,
// path (never the query), status and time; never a header or body, so
// never a secret.
func WithDebug(c *http.Client, w io.Writer, now func() time.Time) *http.Client {
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	h := *c
	h.Transport = &debugTransport{next: next, now: now, w: w}
	return &h
}

type debugTransport struct {
	next http.RoundTripper
	now  func() time.Time
	w    io.Writer
}

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.next.RoundTrip(req)
	took := millis(t.now().Sub(start))
	if err != nil {
		// err may quote the URL; the path alone says enough.
		fmt.Fprintf(t.w, "debug: %s %s: failed after %s\n", req.Method, req.URL.Path, took)
		return nil, err
	}
	fmt.Fprintf(t.w, "debug: %s %s: %d in %s\n", req.Method, req.URL.Path, resp.StatusCode, took)
	return resp, nil
}

// millis prints d in milliseconds with one decimal (0.4ms, 120.0ms): a
// loopback request takes less than the millisecond time.Duration rounds to.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
