package ghhost

import (
	"errors"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		web, api                  string
		wantWeb, wantAPI, wantGit string
		gitURL                    string
		loopback                  bool
	}{
		{"", "", "https://github.com", "https://api.github.com", "github.com", "https://github.com", false},
		{"github.com", "", "https://github.com", "https://api.github.com", "github.com", "https://github.com", false},
		{"", "https://api.github.com/", "https://github.com", "https://api.github.com", "github.com", "https://github.com", false},
		// GHES: https://HOST and https://HOST/api/v3, either way round.
		{"https://GHE.example/", "", "https://GHE.example", "https://GHE.example/api/v3", "ghe.example", "https://ghe.example", false},
		{"", "https://ghe.example/api/v3", "https://ghe.example", "https://ghe.example/api/v3", "ghe.example", "https://ghe.example", false},
		{"ghe.example:8443", "", "https://ghe.example:8443", "https://ghe.example:8443/api/v3", "ghe.example:8443", "https://ghe.example:8443", false},
		{"https://ghe.example", "https://ghe.example/api/v3/", "https://ghe.example", "https://ghe.example/api/v3", "ghe.example", "https://ghe.example", false},
		// GHE.com tenancies.
		{"octo.ghe.com", "", "https://octo.ghe.com", "https://api.octo.ghe.com", "octo.ghe.com", "https://octo.ghe.com", false},
		{"", "https://api.octo.ghe.com", "https://octo.ghe.com", "https://api.octo.ghe.com", "octo.ghe.com", "https://octo.ghe.com", false},
		// An API behind a path of its own serves its host.
		{"", "https://proxy.example/github", "https://proxy.example", "https://proxy.example/github", "proxy.example", "https://proxy.example", false},
		// Loopback emulators over plain http: git's host keeps the port and the scheme stays http.
		{"", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"", "http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3", "127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://localhost:9", "", "http://localhost:9", "http://localhost:9/api/v3", "localhost:9", "http://localhost:9", true},
		{"http://[::1]:9", "http://[::1]:9", "http://[::1]:9", "http://[::1]:9", "[::1]:9", "http://[::1]:9", true},
	} {
		h, err := New(tc.web, tc.api)
		if err != nil {
			t.Errorf("New(%q, %q): %v", tc.web, tc.api, err)
			continue
		}
		if h.WebURL() != tc.wantWeb || h.APIURL() != tc.wantAPI || h.GitHost() != tc.wantGit || h.GitURL() != tc.gitURL || h.Loopback() != tc.loopback {
			t.Errorf("New(%q, %q) = web %q api %q git %q gitURL %q loopback %v; want %q %q %q %q %v", tc.web, tc.api,
				h.WebURL(), h.APIURL(), h.GitHost(), h.GitURL(), h.Loopback(), tc.wantWeb, tc.wantAPI, tc.wantGit, tc.gitURL, tc.loopback)
		}
	}
	if d := Default(); d.WebURL() != DefaultWebURL || d.APIURL() != DefaultAPIURL || !d.IsGitHubCom() {
		t.Errorf("Default() = %q %q", d.WebURL(), d.APIURL())
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		web, api string
		wantWeb  bool
		plain    bool
	}{
		{"http://ghe.example", "", true, true},
		{"", "http://ghe.example/api/v3", false, true},
		{"", "http://10.0.0.1/api/v3", false, true},
		{"", "http://127.0.0.1.example/api/v3", false, true},
		{"ftp://x", "", true, false},
		{"", "ftp://x", false, false},
		{"", "nope", false, false},
		{"", "api.github.com", false, false}, // an API URL needs its scheme
		{"https://u:p@github.com", "", true, false},
		{"https://github.com/?x=1", "", true, false},
		{"https://github.com/#x", "", true, false},
		{"https://", "", true, false},
		{"https://github.com:", "", true, false},
		{"https://github.com", "https://api.github.com?x", false, false},
	} {
		_, err := New(tc.web, tc.api)
		var he *Error
		if !errors.As(err, &he) || he.Web != tc.wantWeb || errors.Is(err, ErrPlainHTTP) != tc.plain {
			t.Errorf("New(%q, %q) = %v, want an *Error (web %v, plain http %v)", tc.web, tc.api, err, tc.wantWeb, tc.plain)
		}
	}
}

func TestForGit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, api, wantGit, wantAPI, gitURL string }{
		{"github.com", "", "github.com", "https://api.github.com", "https://github.com"},
		{"ghe.example.com", "", "ghe.example.com", "https://ghe.example.com/api/v3", "https://ghe.example.com"},
		{"https://GHE.example.com/", "https://api.elsewhere/x", "ghe.example.com", "https://api.elsewhere/x", "https://ghe.example.com"},
		{"http://127.0.0.1:9", "", "127.0.0.1:9", "http://127.0.0.1:9/api/v3", "http://127.0.0.1:9"},
		{"127.0.0.1:9", "http://127.0.0.1:7", "127.0.0.1:9", "http://127.0.0.1:7", "https://127.0.0.1:9"},
	} {
		h, err := ForGit(tc.host, tc.api)
		if err != nil || h.GitHost() != tc.wantGit || h.APIURL() != tc.wantAPI || h.GitURL() != tc.gitURL {
			t.Errorf("ForGit(%q, %q) = %q %q %q, %v", tc.host, tc.api, h.GitHost(), h.APIURL(), h.GitURL(), err)
		}
	}
	for _, bad := range []string{"https://github.com/octo-org", "http://ghe.example.com", "ssh://github.com", "a b", "user@github.com"} {
		if _, err := ForGit(bad, ""); err == nil {
			t.Errorf("ForGit(%q) = nil error", bad)
		}
	}
}

func TestServes(t *testing.T) {
	t.Parallel()
	gh := Default()
	emu, _ := New("", "http://127.0.0.1:8080")
	for _, tc := range []struct {
		h              Host
		protocol, host string
		ok             bool
	}{
		{gh, "https", "github.com", true},
		{gh, "https", "GitHub.com", true},
		{gh, "http", "github.com", false},
		{gh, "https", "github.com:443", false},
		{gh, "https", "gist.github.com", false},
		{gh, "https", "", false},
		{gh, "ssh", "github.com", false},
		{emu, "http", "127.0.0.1:8080", true},
		{emu, "https", "127.0.0.1:8080", true},
		{emu, "http", "127.0.0.1:8081", false},
		{emu, "http", "127.0.0.1", false},
	} {
		if why := tc.h.Serves(tc.protocol, tc.host); (why == "") != tc.ok {
			t.Errorf("%s Serves(%q, %q) = %q, want ok %v", tc.h.GitHost(), tc.protocol, tc.host, why, tc.ok)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"10.0.0.1": false, "example.com": false, "localhost.example": false, "": false, "0.0.0.0": false,
	} {
		if IsLoopback(h) != want {
			t.Errorf("IsLoopback(%q) = %v", h, !want)
		}
	}
}

func FuzzNew(f *testing.F) {
	for _, s := range []string{"https://github.com", "http://127.0.0.1:1/api/v3", "ghe.example", "https://api.x.ghe.com", "http://[::1]:2"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, web, api string) {
		h, err := New(web, api)
		if err != nil {
			return
		}
		// A parsed host parses again to itself, and never allows plain http off loopback.
		again, err := New(h.WebURL(), h.APIURL())
		if err != nil || again.WebURL() != h.WebURL() || again.APIURL() != h.APIURL() {
			t.Fatalf("New(%q, %q) = %q %q, which does not parse to itself: %v", web, api, h.WebURL(), h.APIURL(), err)
		}
		if api := h.API(); api.Scheme == "http" && !IsLoopback(api.Hostname()) || strings.HasPrefix(h.GitURL(), "http:") && !h.Loopback() {
			t.Fatalf("plain http off loopback: %q %q", h.WebURL(), h.APIURL())
		}
	})
}
