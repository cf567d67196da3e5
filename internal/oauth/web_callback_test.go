package oauth

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The callback page says why GitHub did not sign the person in: the
// description GitHub gave, else the error code.
func TestWebCallbackPageSaysWhy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query url.Values
		code  string
		page  string
	}{
		{url.Values{"error": {"access_denied"}}, "access_denied", "GitHub did not sign you in: access_denied."},
		{url.Values{"error": {"access_denied"}, "error_description": {"You said no."}}, "access_denied", "GitHub did not sign you in: You said no."},
	} {
		w := newWorld(t)
		flow, err := w.client(t, clientSecret).StartWeb(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tc.query.Set("state", flow.state)
		status, body := browse(t, flow.RedirectURL()+"?"+tc.query.Encode())
		if status != http.StatusForbidden || !strings.Contains(body, tc.page) {
			t.Errorf("%v: page %d %s, want %q", tc.query, status, body, tc.page)
		}
		_, err = flow.Wait(t.Context())
		wantCode(t, err, tc.code)
	}
}

// A callback with the right state but neither a code nor an error ends the
// flow with an error, and nothing is exchanged.
func TestWebCallbackWithoutCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	status, body := browse(t, flow.RedirectURL()+"?state="+url.QueryEscape(flow.state))
	if status != http.StatusBadRequest || !strings.Contains(body, "without a code or an error") {
		t.Errorf("page %d %s", status, body)
	}
	if _, err := flow.Wait(t.Context()); err == nil || !strings.Contains(err.Error(), "neither a code nor an error") {
		t.Errorf("Wait = %v", err)
	}
	if n := w.em.TokenRequests("authorization_code"); n != 0 {
		t.Errorf("%d exchanges, want none", n)
	}
}

// The loopback server gives a client 10 s to send its request headers, so
// that a connection that never finishes them cannot hold it.
func TestWebLoopbackServerBoundsHeaderTime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer flow.Close()
	if flow.srv.ReadHeaderTimeout != 10*time.Second {
		t.Errorf("ReadHeaderTimeout = %v, want 10s", flow.srv.ReadHeaderTimeout)
	}
}

// Close stops an unfinished flow's loopback server cleanly.
func TestWebFlowCloseBeforeCallback(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := flow.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := http.Get(flow.RedirectURL()); err == nil {
		t.Error("the loopback server still answers")
	}
}

// Close ends the loopback server within about a second even while a
// connection holds a half-sent request: it does not wait for the 10 s
// header timeout.
func TestWebFlowCloseEndsAHalfSentRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	flow, err := w.client(t, clientSecret).StartWeb(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(flow.RedirectURL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /callback?state=x HTTP/1.1\r\nHost: " + u.Host + "\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is reading the headers
	flow.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
		t.Errorf("read after Close = %v, want the connection closed", err)
	}
}
