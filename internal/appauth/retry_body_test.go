package appauth

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// A retried token request sends its body again: the token is still
// narrowed to the repositories and permissions asked for.
func TestRetriedRequestKeepsItsBody(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Method: "POST", Path: "/app/installations/", Status: 502})
	w := &waits{}
	tok, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: emulator.WorldOrg, Repositories: []string{"beta"}, Permissions: map[string]string{"contents": "read"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.d) != 1 || !slices.Equal(tok.Repositories, []string{"beta"}) || tok.Permissions["contents"] != "read" || len(tok.Permissions) != 1 {
		t.Errorf("after one retry: waits %v, repositories %q, permissions %v", w.d, tok.Repositories, tok.Permissions)
	}
}

// Every status from 500 up is retried; each retry is in the debug lines
// with its number out of the most there can be.
func TestServerErrorsAreRetriedAndLogged(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 504} {
		emu, srv := world(t)
		emu.Inject(emulator.Fault{Path: "/users/", Status: status, Times: 2})
		var lines []string
		a := newApp(t, srv.URL, WithRetries(2), WithDebug(func(f string, args ...any) { lines = append(lines, fmt.Sprintf(f, args...)) }))
		if _, err := a.InstallationForOwner(t.Context(), emulator.WorldOrg); err != nil {
			t.Errorf("%d twice: %v", status, err)
			continue
		}
		log := strings.Join(lines, "\n")
		for _, want := range []string{"GET /users/octo-org/installation: " + strconv.Itoa(status), "(attempt 2 of 3)", "(attempt 3 of 3)"} {
			if !strings.Contains(log, want) {
				t.Errorf("%d: debug lines lack %q:\n%s", status, want, log)
			}
		}
	}
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Path: "/users/", Status: 499})
	w := &waits{}
	if _, err := newApp(t, srv.URL, WithWait(w.wait)).InstallationForOwner(t.Context(), emulator.WorldOrg); err == nil || len(w.d) != 0 {
		t.Errorf("499: %v, waits %v; want the error and no retry", err, w.d)
	}
}

// Every retry sends the body again, not only the first.
func TestEveryRetryKeepsTheBody(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Method: "POST", Path: "/app/installations/", Status: 502, Times: 3})
	w := &waits{}
	tok, err := newApp(t, srv.URL, WithWait(w.wait)).Mint(t.Context(), Request{Owner: emulator.WorldOrg, Repositories: []string{"beta"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.d) != 3 || !slices.Equal(tok.Repositories, []string{"beta"}) {
		t.Errorf("after three retries: waits %v, repositories %q", w.d, tok.Repositories)
	}
}

// The debug line of a request gives its time in milliseconds: a request
// answered after 20 ms reads 20.x ms, not nanoseconds or seconds.
func TestDebugLineTimesTheRequestInMilliseconds(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	var lines []string
	a := newApp(t, srv.URL, WithDebug(func(f string, args ...any) { lines = append(lines, fmt.Sprintf(f, args...)) }))
	if _, err := a.Installations(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ms float64
	if len(lines) == 0 {
		t.Fatal("no debug line")
	}
	if _, err := fmt.Sscanf(lines[0][strings.LastIndex(lines[0], " in ")+4:], "%fms", &ms); err != nil || ms < 20 || ms > 60_000 {
		t.Errorf("debug line %q: %v ms (%v), want 20 ms to a minute", lines[0], ms, err)
	}
}

// closeTracker records whether each response body it handed out was
// closed.
type closeTracker struct {
	mu     sync.Mutex
	next   http.RoundTripper
	bodies []*trackedBody
}

type trackedBody struct {
	io.ReadCloser
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return b.ReadCloser.Close() }

func (c *closeTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		c.mu.Lock()
		b := &trackedBody{ReadCloser: resp.Body}
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
		resp.Body = b
	}
	return resp, err
}

// A retry first closes the failed answer's body (after reading it, so
// that its connection goes back to the pool): no attempt leaks one.
func TestRetryClosesTheFailedAnswer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			http.Error(w, `{"message":"Server Error"}`, http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	tr := &closeTracker{next: srv.Client().Transport}
	if _, err := newApp(t, srv.URL, WithHTTPClient(&http.Client{Transport: tr})).Installations(t.Context()); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.bodies) != 2 {
		t.Fatalf("%d answers, want 2 (a 502, then the retry's)", len(tr.bodies))
	}
	for i, b := range tr.bodies {
		if !b.closed {
			t.Errorf("answer %d's body was not closed", i+1)
		}
	}
}
