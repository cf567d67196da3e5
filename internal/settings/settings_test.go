package settings

import (
	"errors"
	"runtime"
	"strings"
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

func TestConfigDir(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if d, _ := ConfigDir(env(map[string]string{EnvConfigDir: "/x"})); d != "/x" {
		t.Errorf("APP_TOKEN_CONFIG_DIR: %s", d)
	}
	if runtime.GOOS == "linux" {
		if d, _ := ConfigDir(env(map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/h"})); d != "/xdg/app-token" {
			t.Errorf("XDG_CONFIG_HOME: %s", d)
		}
		if d, _ := ConfigDir(env(map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/h"})); d != "/h/.config/app-token" {
			t.Errorf("HOME: %s", d)
		}
		if _, err := ConfigDir(env(nil)); err == nil || !strings.Contains(err.Error(), EnvConfigDir) {
			t.Errorf("no folder: %v", err)
		}
	}
}
