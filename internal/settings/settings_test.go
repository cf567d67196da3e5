package settings

import (
	"errors"
	"testing"

	"github.com/org/app-token/internal/cliflag"
)

func TestGHHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ github, api, wantGitHub, wantAPI, host string }{
		{"", "", "https://github.com", "https://api.github.com", "github.com"},
		{"github.com", "", "https://github.com", "https://api.github.com", "github.com"},
		{"https://GHE.example/", "", "https://GHE.example", "https://GHE.example/api/v3", "ghe.example"},
		{"https://ghe.example", "https://ghe.example/api/v3/", "https://ghe.example", "https://ghe.example/api/v3", "ghe.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080"},
	} {
		f := Settings{GitHubURL: tc.github, APIURL: tc.api}
		got, err := f.GHHost()
		if err != nil || got.WebURL() != tc.wantGitHub || got.APIURL() != tc.wantAPI || got.GitHost() != tc.host {
			t.Errorf("GHHost(%q, %q) = %+v, %v", tc.github, tc.api, got, err)
		}
	}
	for _, bad := range []string{"http://ghe.example", "ftp://x", "https://u:p@github.com", "https://github.com/?x=1", "https://"} {
		if _, err := (&Settings{GitHubURL: bad}).GHHost(); !errors.As(err, new(*cliflag.UsageError)) {
			t.Errorf("GHHost(%q) = %v, want a usage error", bad, err)
		}
	}
}
