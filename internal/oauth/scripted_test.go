package oauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// answer is one scripted HTTP answer.
type answer struct {
	status int    // 0 is 200
	ctype  string // "" is application/json
	body   string
}

// request is what a scripted server saw.
type request struct {
	path   string
	at     time.Time // on the fake clock
	form   url.Values
	header http.Header
}

// scripted is a fake GitHub host whose endpoints give the answers a test
// scripts, in order: the answers the emulator never gives (a slow_down
// without an interval, an HTML error page, an answer without a field). It
// records every request and when, on the fake clock, it arrived.
type scripted struct {
	t       *testing.T
	srv     *httptest.Server
	clock   *fakeClock
	mu      sync.Mutex
	answers map[string][]answer
	reqs    []request
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{t: t, clock: &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}, answers: map[string][]answer{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for path, left := range s.answers {
			if len(left) > 0 {
				t.Errorf("%d scripted answers to %s were never asked for", len(left), path)
			}
		}
	})
	return s
}

// on queues answers to requests for path.
func (s *scripted) on(path string, as ...answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[path] = append(s.answers[path], as...)
}

func (s *scripted) serve(rw http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	s.reqs = append(s.reqs, request{path: r.URL.Path, at: s.clock.Now(), form: r.PostForm, header: r.Header.Clone()})
	queue := s.answers[r.URL.Path]
	if len(queue) == 0 {
		s.mu.Unlock()
		s.t.Errorf("unscripted request %s %s", r.Method, r.URL.Path)
		http.Error(rw, "unscripted", http.StatusTeapot)
		return
	}
	a := queue[0]
	s.answers[r.URL.Path] = queue[1:]
	s.mu.Unlock()
	ctype := a.ctype
	if ctype == "" {
		ctype = "application/json"
	}
	rw.Header().Set("Content-Type", ctype)
	if a.status != 0 {
		rw.WriteHeader(a.status)
	}
	rw.Write([]byte(a.body))
}

// requests returns the requests seen for path.
func (s *scripted) requests(path string) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.reqs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

func (s *scripted) client(t *testing.T, conf Config) *Client {
	t.Helper()
	if conf.ClientID == "" {
		conf.ClientID = "Iv1.scripted"
	}
	conf.GitHubURL, conf.APIURL = s.srv.URL, s.srv.URL+"/api/v3"
	c, err := New(conf, WithHTTPClient(s.srv.Client()), WithClock(s.clock.Now), WithWait(s.clock.Wait))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	deviceCodePath = "/login/device/code"
	tokenPath      = "/login/oauth/access_token"
)
