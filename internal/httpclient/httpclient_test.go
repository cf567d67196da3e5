package httpclient

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestProxiesComeFromGetenv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"https_proxy": "http://proxy.example:3128", "NO_PROXY": "ghe.internal"}
	c := New(func(k string) string { return env[k] })
	proxy := c.Transport.(*http.Transport).Proxy
	for target, want := range map[string]string{
		"https://api.github.com/app":  "http://proxy.example:3128",
		"https://ghe.internal/api/v3": "", // NO_PROXY
		"http://127.0.0.1:8080/":      "", // loopback is never proxied
	} {
		u, _ := url.Parse(target)
		got, err := proxy(&http.Request{URL: u})
		if err != nil || (got == nil) != (want == "") || got != nil && got.String() != want {
			t.Errorf("proxy for %s = %v, %v; want %q", target, got, err, want)
		}
	}
	if c.Timeout != Timeout {
		t.Errorf("Timeout = %v, want %v", c.Timeout, Timeout)
	}
}

func TestDebugPrintsNoQueryHeaderOrBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("body-secret"))
	}))
	defer srv.Close()
	var log bytes.Buffer
	clock := time.Unix(0, 0)
	now := func() time.Time { clock = clock.Add(1500 * time.Microsecond); return clock }
	c := WithDebug(srv.Client(), &log, now)
	req, _ := http.NewRequest("POST", srv.URL+"/app/installations?code=query-secret", strings.NewReader("request-secret"))
	req.Header.Set("Authorization", "Bearer header-secret")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := log.String(), "debug: POST /app/installations: 418 in 1.5ms\n"; got != want {
		t.Errorf("debug line = %q, want %q", got, want)
	}
	log.Reset()
	srv.Close()
	if _, err := c.Get(srv.URL + "/gone?token=query-secret"); err == nil {
		t.Fatal("a closed server answered")
	}
	if got := log.String(); !strings.HasPrefix(got, "debug: GET /gone: failed after ") || strings.Contains(got, "secret") {
		t.Errorf("failure line = %q", got)
	}
}

func TestForServerRaisesIdleConnectionsOnACopy(t *testing.T) {
	t.Parallel()
	c := New(func(string) string { return "" })
	s := ForServer(c)
	if got := s.Transport.(*http.Transport).MaxIdleConnsPerHost; got != serverIdleConns {
		t.Errorf("server MaxIdleConnsPerHost = %d, want %d", got, serverIdleConns)
	}
	if got := c.Transport.(*http.Transport).MaxIdleConnsPerHost; got != 0 {
		t.Errorf("the original client changed: MaxIdleConnsPerHost = %d", got)
	}
}
