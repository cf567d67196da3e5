package oauth

import (
	"testing"
	"time"
)

// New takes http and https URLs, GitHub's own, a GHES host's or the
// emulator's, with or without a trailing slash.
func TestNewTakesHTTPAndHTTPSURLs(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "Iv1.x", GitHubURL: "https://ghe.example.com/", APIURL: "https://ghe.example.com/api/v3/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.endpoint().TokenURL != "https://ghe.example.com/login/oauth/access_token" || c.api != "https://ghe.example.com/api/v3" {
		t.Errorf("token URL %q, API %q", c.endpoint().TokenURL, c.api)
	}
	if _, err := New(Config{ClientID: "Iv1.x", GitHubURL: "http://127.0.0.1:8080", APIURL: "http://127.0.0.1:8080/api/v3"}); err != nil {
		t.Errorf("http: %v", err)
	}
}

// Without WithHTTPClient, requests go through a client of its own with a
// 30 s timeout, never http.DefaultClient (which waits forever).
func TestDefaultHTTPClientTimesOut(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "Iv1.x", GitHubURL: "https://github.com", APIURL: "https://api.github.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.http.Timeout != 30*time.Second {
		t.Errorf("timeout = %v, want 30s", c.http.Timeout)
	}
}
