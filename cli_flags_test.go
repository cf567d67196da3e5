package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/settings"
)

// TestGoldenFlagErrors: each mistake on the command line is one line that
// names the flag, says what was wrong and what to do; never the usage, never
// the flag's name twice (issue 11, finding 3).
func TestGoldenFlagErrors(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	noKey := map[string]string{"APP_TOKEN_API_URL": w.url}
	var all strings.Builder
	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{env, []string{"token", "--permission", "pull_request=write"}},
		{env, []string{"token", "--permission", "contents"}},
		{env, []string{"token", "--permission", "contents=read", "--permission", "contents=write"}},
		{env, []string{"token", "--permission", "contents=read,contents=read"}},
		{env, []string{"token", "--installation-id", "abc"}},
		{env, []string{"token", "--installation-id", "99999999999999999999"}},
		{env, []string{"token", "--ownr", "octo-org"}},
		{env, []string{"token", "--owner"}},
		{env, []string{"token", "--json=maybe"}},
		{env, []string{"token", "---owner", "x"}},
		{env, []string{"jwt", "--app-id", "abc"}},
		{env, []string{"jwt", "--app-id", "2", "--client-id", emulator.WorldClientID}},
		{map[string]string{"APP_TOKEN_APP_ID": "two", "APP_TOKEN_API_URL": w.url}, []string{"jwt"}},
		{noKey, []string{"jwt", "--app-id", "2"}},
		{noKey, []string{"token", "--client-id", emulator.WorldClientID, "--owner", "octo-org"}},
		{map[string]string{"APP_TOKEN_API_URL": w.url}, []string{"token", "--owner", "octo-org"}},
		{env, []string{"tokn"}},
		{env, []string{"--frobnicate", "token"}},
		{env, []string{"setup-git", "--global=false"}},
		{env, []string{"revoke", "ghs_notreallyatoken0000"}},
		{env, []string{"login", "--web", "--device"}},
		{env, []string{"emulator", "--clock-offset", "5"}},
		{env, []string{"emulator", "--fault", "POST /app=200"}},
		{env, []string{"emulator", "stray"}},
	} {
		out, stderr, err := runEnv(t, tc.env, tc.args...)
		if err == nil {
			t.Errorf("%q: no error", tc.args)
			continue
		}
		msg := err.Error()
		if strings.Contains(stderr, "Usage:") || strings.Contains(msg, "\n") || out != "" {
			t.Errorf("%q: want one line and no usage, got stdout %q stderr %q error %q", tc.args, out, stderr, msg)
		}
		if m := regexp.MustCompile(`-(-?[a-z][a-z-]+)\b.*-(-?[a-z][a-z-]+): `).FindStringSubmatch(msg); m != nil && strings.TrimLeft(m[1], "-") == strings.TrimLeft(m[2], "-") {
			t.Errorf("%q: the flag is named twice: %q", tc.args, msg)
		}
		fmt.Fprintf(&all, "$ app-token %s\n%sapp-token: %s\nexit %d\n\n", strings.Join(tc.args, " "), stderr, msg, exitCode(err))
	}
	golden(t, "flag-errors", all.String())
}

// TestPermissionFlagForms: comma-separated lists and repeats both work
// (finding 3).
func TestPermissionFlagForms(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	out, stderr, err := runEnv(t, env, "token", "--owner", "octo-org", "--permission", "contents=read,issues=write", "--permission", "pull-requests=read")
	if err != nil {
		t.Fatalf("%v (%s)", err, stderr)
	}
	info, _ := w.emu.TokenInfo(strings.TrimSpace(out))
	if want := map[string]string{"contents": "read", "issues": "write", "pull_requests": "read"}; fmt.Sprint(info.Permissions) != fmt.Sprint(want) {
		t.Errorf("permissions = %v, want %v", info.Permissions, want)
	}
}

// TestAppIDAdvice: an unknown --app-id is blamed on --app-id, not on
// --client-id (finding 3).
func TestAppIDAdvice(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	env["APP_TOKEN_CLIENT_ID"] = ""
	_, _, err := runEnv(t, env, "token", "--app-id", "2", "--owner", "octo-org")
	wantExit(t, err, exitAuth, `GitHub knows no app "2": check --app-id`)
	_, _, err = runEnv(t, env, "token", "--app-id", "1", "--owner", "octo-org")
	if err != nil {
		t.Errorf("--app-id 1: %v", err)
	}
}

// TestGlobalDebug: --debug before the command, the flag and
// APP_TOKEN_DEBUG=1 reach every command that talks to GitHub, with
// durations in milliseconds and no secret (finding 4).
func TestGlobalDebug(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	ms := regexp.MustCompile(`debug: POST /app/installations/101/access_tokens: 201 in \d+\.\dms`)
	out, stderr, err := runEnv(t, env, "--debug", "token", "--owner", "octo-org")
	if err != nil || !ms.MatchString(stderr) {
		t.Fatalf("--debug token: %v, stderr %q", err, stderr)
	}
	tok := strings.TrimSpace(out)
	var errb bytes.Buffer
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(tok), &bytes.Buffer{}, &errb)
	if err := c.run(t.Context(), []string{"revoke", "--debug"}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`debug: DELETE /installation/token: 204 in \d+\.\dms`).MatchString(errb.String()) || strings.Contains(errb.String(), tok) {
		t.Errorf("revoke --debug: %q", errb.String())
	}

	lw := newLoginWorld(t)
	lw.env[settings.EnvDebug] = "1"
	lw.login(t)
	_, stderr, err = lw.run(t, "status")
	if err != nil || !regexp.MustCompile(`debug: GET /api/v3/user: 200 in \d+\.\dms`).MatchString(stderr) {
		t.Errorf("status with %s=1: %v %q", settings.EnvDebug, err, stderr)
	}
	lw.noSecrets(t, "status --debug", stderr)
	delete(lw.env, settings.EnvDebug)
	lw.clock.Advance(9 * time.Hour) // the access token expired: user-token refreshes it
	_, stderr, err = lw.run(t, "--debug", "user-token")
	if err != nil || !regexp.MustCompile(`debug: POST /login/oauth/access_token: 200 in \d+\.\dms`).MatchString(stderr) {
		t.Errorf("--debug user-token: %v %q", err, stderr)
	}
	lw.noSecrets(t, "user-token --debug", stderr)
}

// TestRevokeUserToken: a user token is revoked as GitHub documents
// (DELETE /applications/{client_id}/token with the client secret), and an
// argument is refused (finding 2).
func TestRevokeUserToken(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	tok := w.login(t)
	revoke := func(env map[string]string, args ...string) (string, error) {
		e := map[string]string{}
		for k, v := range w.env {
			e[k] = v
		}
		for k, v := range env {
			e[k] = v
		}
		var errb bytes.Buffer
		c := newCLI(func(k string) string { return e[k] }, strings.NewReader(tok+"\n"), &bytes.Buffer{}, &errb)
		err := c.run(t.Context(), append([]string{"revoke"}, args...))
		return errb.String(), err
	}
	_, err := revoke(nil)
	wantExit(t, err, exitUsage, "--client-id and --client-secret")
	_, err = revoke(nil, "--client-id", emulator.WorldClientID, "--client-secret", "wrong")
	wantExit(t, err, exitAuth, "GitHub does not know the token")
	if info, _ := w.em.UserTokenInfo(tok); info.Revoked {
		t.Fatal("revoked with the wrong secret")
	}
	stderr, err := revoke(map[string]string{settings.EnvClientID: emulator.WorldClientID, settings.EnvClientSecret: loginSecret}, "--api-url", w.srv.URL+"/api/v3")
	if err != nil || !strings.Contains(stderr, "Token revoked.") {
		t.Fatalf("revoke: %v %q", err, stderr)
	}
	if info, _ := w.em.UserTokenInfo(tok); !info.Revoked {
		t.Error("the user token is still valid")
	}
	_, err = revoke(nil, tok)
	wantExit(t, err, exitUsage, "not as an argument")
}

// TestSetupGitGlobalAndUnsetTwice (finding 7).
func TestSetupGitGlobalAndUnsetTwice(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	w := newCredWorld(t)
	for _, kv := range credGitEnv(w.dir) {
		k, v, _ := strings.Cut(kv, "=")
		w.env[k] = v
	}
	global := filepath.Join(w.dir, "global.gitconfig")
	w.env["GIT_CONFIG_GLOBAL"] = global
	_, _, err := w.run(t, "", "setup-git", "--global=false", "--client-id", emulator.WorldClientID)
	wantExit(t, err, exitUsage, "--global=false", "--file")
	if _, err := os.Stat(global); err == nil {
		t.Error("--global=false wrote the global configuration")
	}
	file := filepath.Join(w.dir, "other.gitconfig")
	if _, _, err := w.run(t, "", "setup-git", "--global=false", "--file", file, "--client-id", emulator.WorldClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(global); err == nil {
		t.Error("--file wrote the global configuration")
	}
	out, _, err := w.run(t, "", "setup-git", "--file", file, "--unset")
	if err != nil || !strings.HasPrefix(out, "Removed") {
		t.Errorf("first --unset: %v %q", err, out)
	}
	out, _, err = w.run(t, "", "setup-git", "--file", file, "--unset")
	if err != nil || !strings.HasPrefix(out, "Nothing to remove") {
		t.Errorf("second --unset: %v %q", err, out)
	}
}

// TestHelpTexts: flags are shown as --name; commands without flags show no
// [flags]; the sign-in commands describe --client-secret for what they do
// (finding 8). The goldens hold the whole texts.
func TestHelpTexts(t *testing.T) {
	t.Parallel()
	for _, cmd := range commands() {
		_, stderr, _ := runEnv(t, nil, cmd.name, "-h")
		if regexp.MustCompile(`(?m)^  -[a-z]`).MatchString(stderr) {
			t.Errorf("%s -h shows a flag with one dash", cmd.name)
		}
		hasFlags := strings.Contains(stderr, "\nFlags:\n")
		if strings.Contains(stderr, "[flags]") != hasFlags {
			t.Errorf("%s -h: [flags] in the usage line but flags listed: %v", cmd.name, hasFlags)
		}
		if strings.Contains(stderr, "(the default) (default") {
			t.Errorf("%s -h says the default twice", cmd.name)
		}
		for _, f := range []string{"--web", "--revoke"} {
			if m := regexp.MustCompile(`needed by[^\n]*` + f).FindString(stderr); m != "" && !strings.Contains(stderr, "\n  "+f+"\n") {
				t.Errorf("%s -h: %q, but it has no %s", cmd.name, m, f)
			}
		}
	}
}

// TestJSONShapes: token --json and jwt --json share one layout; arrays are
// [] never null; owner and app_slug are filled even when --installation-id
// skipped the lookup (finding 5). The goldens hold the shapes.
func TestJSONShapes(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	out, stderr, err := runEnv(t, env, "token", "--installation-id", "101", "--json")
	if err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	golden(t, "token-json-installation-id", out)
	if strings.Contains(out, "null") || !strings.Contains(out, `"owner": "octo-org"`) || !strings.Contains(out, `"app_slug": "octo-app"`) {
		t.Errorf("token --installation-id --json:\n%s", out)
	}
	out, _, err = runEnv(t, env, "jwt", "--json")
	if err != nil || !strings.HasPrefix(out, "{\n  \"expires_at\": ") {
		t.Errorf("jwt --json is not laid out as token --json: %v\n%s", err, out)
	}
}

// TestLoginInterrupted: Ctrl-C during the device flow exits 130, says that
// nothing was stored, and stores nothing; the wait is shown without
// animation when stderr is no terminal (finding 6).
func TestLoginInterrupted(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w.clock.onWait = func(n int) {
		if n == 2 {
			cancel() // as Ctrl-C cancels main's context
		}
	}
	_, stderr, err := w.runCtx(ctx, "login", "--client-id", emulator.WorldClientID)
	if exitCode(err) != exitInterrupted || !strings.Contains(stderr, "sign-in cancelled: nothing was stored") {
		t.Errorf("exit %d, stderr:\n%s", exitCode(err), stderr)
	}
	for _, want := range []string{"First copy your one-time code:", "Then open:  " + w.srv.URL + "/login/device", "Waiting for you to approve"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("login did not show %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("an animation on a stderr that is no terminal: %q", stderr)
	}
	_, _, err = w.run(t, "status")
	wantExit(t, err, exitAuth, "not signed in")
}

// TestGoldenStatusJSON: status --json, its shape in a golden; no token in
// it (finding 5).
func TestGoldenStatusJSON(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	out, _, err := w.run(t, "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	w.noSecrets(t, "status --json", out)
	golden(t, "status-json", out, w.dir)
}

// TestREADMEExitCodes: the README's exit-code table lists exactly the codes
// exit.go gives (finding 9).
func TestREADMEExitCodes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "### Exit codes\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(section, -1) {
		got = append(got, m[1])
	}
	want := fmt.Sprint([]int{exitOK, exitError, exitUsage, exitAuth, exitInterrupted})
	if fmt.Sprint(got) != want {
		t.Errorf("README exit codes %v, exit.go %s", got, want)
	}
}
