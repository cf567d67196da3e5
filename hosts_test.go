package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/settings"
)

// TestSetupGitAndCredentialAgreeOnTheHost writes git's configuration with
// setup-git for each way of naming a GitHub, then runs the helper it wrote,
// as git would, for the URL git's configuration keys it by: the helper must
// answer for that host (issue 8: with the API URL in the environment,
// setup-git configured github.com while the helper served only the GHES
// host; with a loopback http API, it wrote an https section git never
// matches).
func TestSetupGitAndCredentialAgreeOnTheHost(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	w := newCredWorld(t)
	emu := w.api.URL // http://127.0.0.1:PORT
	for _, tc := range []struct {
		name    string
		env     map[string]string
		flags   []string
		wantURL string
	}{
		{"github.com", nil, nil, "https://github.com"},
		{"GHES by environment", map[string]string{settings.EnvAPIURL: "https://ghe.example/api/v3"}, nil, "https://ghe.example"},
		{"GHES web URL by environment", map[string]string{settings.EnvGitHubURL: "https://ghe.example"}, nil, "https://ghe.example"},
		{"GHES by flag", nil, []string{"--api-url", "https://ghe.example/api/v3"}, "https://ghe.example"},
		{"GHES by host", nil, []string{"--host", "ghe.example"}, "https://ghe.example"},
		{"GHE.com by flag", nil, []string{"--api-url", "https://api.octo.ghe.com"}, "https://octo.ghe.com"},
		{"loopback http by flag", nil, []string{"--api-url", emu}, emu},
		{"loopback http by environment", map[string]string{settings.EnvAPIURL: emu}, nil, emu},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{settings.EnvCacheDir: filepath.Join(dir, "cache")}
			for _, kv := range credGitEnv(dir) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			run := func(stdin string, args ...string) (string, string, error) {
				cw := *w
				cw.env = env
				return cw.run(t, stdin, args...)
			}
			file := filepath.Join(dir, "gitconfig")
			args := append([]string{"setup-git", "--file", file, "--client-id", emulator.WorldClientID, "--private-key-file", w.keyFile}, tc.flags...)
			if _, stderr, err := run("", args...); err != nil {
				t.Fatalf("setup-git: %v (%s)", err, stderr)
			}
			out := credMustGit(t, credGitEnv(dir), dir, "config", "--file", file, "--get-regexp", `^credential\..*\.helper$`)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			key, helper, _ := strings.Cut(lines[len(lines)-1], " ")
			if want := "credential." + tc.wantURL + ".helper"; key != want {
				t.Fatalf("setup-git wrote %s, want %s", key, want)
			}
			u, _ := url.Parse(tc.wantURL)
			words := shellSplit(t, strings.TrimPrefix(helper, "!"))
			// No repository in the request and no --owner: a helper that
			// takes the host as its own says so, before any request.
			_, stderr, err := run("protocol="+u.Scheme+"\nhost="+u.Host+"\n\n", append(words[1:], "get")...)
			if err != nil || !strings.Contains(stderr, "useHttpPath") {
				t.Errorf("the helper %q does not answer for %s: %v, %q", helper, tc.wantURL, err, stderr)
			}
			if tc.wantURL != emu {
				return
			}
			out, stderr, err = run("protocol="+u.Scheme+"\nhost="+u.Host+"\npath=octo-org/alpha.git\n\n", append(words[1:], "get")...)
			if err != nil || !strings.Contains(out, "password=ghs_") {
				t.Errorf("get from the emulator = %q, %v (%s)", out, err, stderr)
			}
		})
	}
}

// shellSplit splits what gitcred.HelperCommand quoted back into words.
func shellSplit(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case quoted && ch == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(ch)
		case ch == '\'':
			quoted, inWord = true, true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
