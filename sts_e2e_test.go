package main

// End-to-end tests of the keyless path over real HTTP: the emulator (GitHub
// and the runner's OIDC endpoint), `app-token serve` started through run on
// a loopback port, and its clients: the action (in process and through its
// node launcher), `token --sts-url` and the credential helper under git.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// stsPolicy trusts octo-org/alpha's main branch on any loopback emulator.
const stsPolicy = `issuer_pattern: 'http://127\.0\.0\.1:[0-9]+/_services/token'
subject: repo:octo-org/alpha:ref:refs/heads/main
claim_pattern:
  workflow_ref: 'octo-org/alpha/\.github/workflows/ci\.yml@refs/heads/main'
permissions:
  contents: write
  issues: write
`

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// stsWorld is the emulator with a repository policy, and `app-token serve`
// in front of it.
type stsWorld struct {
	*actWorld
	sts  string // the exchange's URL
	logs *lockedBuffer
}

func newSTSWorld(t *testing.T, opts ...emulator.Option) *stsWorld {
	t.Helper()
	return newSTSWorldArgs(t, nil, opts...)
}

// newSTSWorldArgs is newSTSWorld with more flags for serve.
func newSTSWorldArgs(t *testing.T, serveArgs []string, opts ...emulator.Option) *stsWorld {
	t.Helper()
	w := &stsWorld{actWorld: newActWorld(t, opts...)}
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", []byte(stsPolicy))
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, []byte(testKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_PRIVATE_KEY_FILE": keyFile}
	// --url is the audience, so the port is chosen before serve listens;
	// another process may take it in between, hence the retries.
	for attempt := 1; ; attempt++ {
		url, stop, err := startServe(t, env, append([]string{"--api-url", w.url}, serveArgs...)...)
		if err == nil {
			w.sts, w.logs = url, stop
			return w
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve: %v", err)
		}
	}
}

// startServe runs `app-token serve` through run on a free loopback port
// until the test ends, then stops it as SIGTERM does (run's context) and
// checks that it drained and returned nil.
func startServe(t *testing.T, env map[string]string, args ...string) (string, *lockedBuffer, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "http://" + addr
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() {
		c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), &bytes.Buffer{}, logs)
		done <- c.run(ctx, append([]string{"serve", "--listen", addr, "--url", url}, args...))
	}()
	for {
		select {
		case err := <-done:
			cancel()
			return "", nil, fmt.Errorf("%v; logs: %s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after SIGTERM, want nil", err)
		}
		if !strings.Contains(logs.String(), `"msg":"stopped","drained":true`) {
			t.Errorf("serve did not log a clean drain:\n%s", logs)
		}
	})
	return url, logs, nil
}

// jobEnv is a main step's environment for a keyless step: the runner's
// OIDC variables for a job of octo-org/alpha on main, no key or App.
func (w *stsWorld) jobEnv(job emulator.Job, inputs map[string]string) map[string]string {
	all := map[string]string{"client-id": "", "private-key": "", "sts-url": w.sts, "identity": "ci"}
	for k, v := range inputs {
		all[k] = v
	}
	env := w.env(all)
	env["ACTIONS_ID_TOKEN_REQUEST_URL"] = emulator.IDTokenRequestURL(w.url)
	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = w.emu.AddJob(job)
	return env
}

// assertNoSecretsLogged checks that the server's logs hold none of the
// issued tokens.
func (w *stsWorld) assertNoSecretsLogged(t *testing.T) {
	t.Helper()
	logs := w.logs.String()
	for _, tok := range w.emu.Tokens() {
		if strings.Contains(logs, tok.Value) {
			t.Errorf("the exchange's logs hold a token")
		}
	}
}

func TestKeylessActionInProcess(t *testing.T) {
	t.Parallel()
	w := newSTSWorld(t)
	env := w.jobEnv(emulator.Job{}, nil)
	stdout, _, err := runEnv(t, env, "action")
	if err != nil {
		t.Fatalf("action: %v\n%s", err, stdout)
	}
	outputs := w.outputs(t)
	token := outputs["token"]
	info, ok := w.emu.TokenInfo(token)
	if !ok {
		t.Fatalf("the output token was not issued by the emulator; outputs %v", keys(outputs))
	}
	if info.Permissions["contents"] != "write" || info.Permissions["issues"] != "write" || len(info.Permissions) != 2 {
		t.Errorf("token permissions %v, want the policy's", info.Permissions)
	}
	if len(info.Repositories) != 1 || info.Repositories[0] != "alpha" {
		t.Errorf("token repositories %v, want [alpha]", info.Repositories)
	}
	if outputs["installation-id"] != "101" || outputs["expires-at"] == "" {
		t.Errorf("outputs %v", outputs)
	}
	assertMaskedFirst(t, stdout, token)
	// The ID token is masked before anything else names it.
	masks := strings.Split(stdout, "\n")
	if len(masks) < 2 || !strings.HasPrefix(masks[0], "::add-mask::emulator-idreq-") || !strings.HasPrefix(masks[1], "::add-mask::ey") {
		t.Errorf("the step's log does not start by masking the request token and the ID token:\n%.300s", stdout)
	}

	state := w.state(t)
	for k, v := range state {
		env["STATE_"+k] = v
	}
	postOut, _, err := runEnv(t, env, "action-post")
	if err != nil {
		t.Fatalf("action-post: %v", err)
	}
	if info, _ := w.emu.TokenInfo(token); !info.Revoked {
		t.Errorf("the post step did not revoke the token:\n%s", postOut)
	}
	w.assertNoSecretsLogged(t)
	if !strings.Contains(w.logs.String(), `"msg":"exchange"`) || !strings.Contains(w.logs.String(), `"outcome":"granted"`) {
		t.Errorf("no audit line for the exchange:\n%s", w.logs)
	}
}

// TestKeylessActionUnderNode runs the action's launcher with node, as the
// runner does, with the runner's OIDC variables and no key: the real
// binary asks the emulator for the job's ID token, trades it at `app-token
// serve`, masks and outputs the token, and the post step revokes it.
func TestKeylessActionUnderNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the action's launchers are JavaScript and need node (20 or later)")
	}
	w := newSTSWorld(t)
	toolCache := t.TempDir()
	env := w.jobEnv(emulator.Job{}, nil)
	var list []string
	for _, kv := range runnerEnv(w.actWorld, toolCache, nil) {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "INPUT_") {
			continue
		}
		list = append(list, kv)
	}
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	mainCmd := exec.Command(node, runsEntry(t, "main"))
	mainCmd.Env = list
	out, err := mainCmd.Output()
	if err != nil {
		t.Fatalf("main step: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderrOf(err))
	}
	outputs := w.outputs(t)
	token := outputs["token"]
	if info, ok := w.emu.TokenInfo(token); !ok || info.Permissions["issues"] != "write" {
		t.Fatalf("output token not issued as the policy says; outputs %v", keys(outputs))
	}
	assertMaskedFirst(t, string(out), token)

	postCmd := exec.Command(node, runsEntry(t, "post"))
	postCmd.Env = list
	for k, v := range w.state(t) {
		postCmd.Env = append(postCmd.Env, "STATE_"+k+"="+v)
	}
	if out, err := postCmd.Output(); err != nil {
		t.Fatalf("post step: %v\n%s\n%s", err, out, stderrOf(err))
	}
	if info, _ := w.emu.TokenInfo(token); !info.Revoked {
		t.Error("the post step did not revoke the token")
	}

	// A job without id-token: write: one ::error:: saying to add it, exit 1
	// (as every bad input of the action), no outputs.
	os.WriteFile(filepath.Join(w.dir, "output"), nil, 0o600)
	bad := exec.Command(node, runsEntry(t, "main"))
	for _, kv := range list {
		if !strings.HasPrefix(kv, "ACTIONS_ID_TOKEN_REQUEST_") {
			bad.Env = append(bad.Env, kv)
		}
	}
	out, err = bad.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError {
		t.Errorf("main step without id-token: write: err = %v, want exit code %d", err, exitError)
	}
	if n := strings.Count(string(out), "::error::"); n != 1 || !strings.Contains(string(out), "permissions: id-token: write") {
		t.Errorf("main step without id-token: write wrote %d ::error:: lines:\n%s", n, out)
	}
	if len(w.outputs(t)) != 0 {
		t.Error("outputs written by a failing step")
	}
}

// TestKeylessActionRefusals: each mistake is one ::error:: line with its
// reason, its exit code, no outputs and no token left alive.
func TestKeylessActionRefusals(t *testing.T) {
	t.Parallel()
	w := newSTSWorld(t)
	for _, tc := range []struct {
		name   string
		job    emulator.Job
		inputs map[string]string
		noOIDC bool
		code   int
		want   string
	}{
		{name: "no id-token permission", noOIDC: true, code: exitError, want: "add `permissions: id-token: write`"},
		{name: "unknown identity", inputs: map[string]string{"identity": "deploy"}, code: exitError, want: "no trust policy"},
		{name: "policy refuses the subject", job: emulator.Job{Ref: "refs/heads/dev"}, code: exitError, want: `subject: the token's subject "repo:octo-org/alpha:ref:refs/heads/dev"`},
		{name: "permission input with sts-url", inputs: map[string]string{"permission-contents": "read"}, code: exitError, want: "permission-contents: not with sts-url: the trust policy decides"},
		{name: "private key with sts-url", inputs: map[string]string{"private-key": testKeyPEM()}, code: exitError, want: "private-key: not with sts-url"},
		{name: "signer with sts-url", inputs: map[string]string{"private-key-signer": "awskms://alias/app"}, code: exitError, want: "private-key-signer: not with sts-url"},
		{name: "no identity", inputs: map[string]string{"identity": ""}, code: exitError, want: "identity: missing"},
		{name: "two repositories", inputs: map[string]string{"repositories": "alpha,beta"}, code: exitError, want: "a token exchange's scope is one repository"},
		{name: "bad sts-url", inputs: map[string]string{"sts-url": "ftp://sts"}, code: exitError, want: "sts-url: "},
		{name: "identity without sts-url", inputs: map[string]string{"sts-url": "", "client-id": emulator.WorldClientID, "private-key": testKeyPEM()}, code: exitError, want: "identity: only with sts-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.emu.Tokens())
			env := w.jobEnv(tc.job, tc.inputs)
			if tc.noOIDC {
				delete(env, "ACTIONS_ID_TOKEN_REQUEST_URL")
				delete(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
			}
			stdout, _, err := runEnv(t, env, "action")
			if code := exitCode(err); code != tc.code {
				t.Errorf("exit code %d (%v), want %d", code, err, tc.code)
			}
			if n := strings.Count(stdout, "::error::"); n != 1 || !strings.Contains(stdout, tc.want) {
				t.Errorf("%d ::error:: lines, want one holding %q:\n%s", n, tc.want, stdout)
			}
			if o := w.outputs(t); len(o) != 0 {
				t.Errorf("outputs written: %v", keys(o))
			}
			for _, tok := range w.emu.Tokens()[before:] {
				if !tok.Revoked && tok.Repositories != nil && tok.Permissions["contents"] == "write" {
					t.Errorf("a token for the step is alive after it failed")
				}
			}
		})
	}
	w.assertNoSecretsLogged(t)
}

func TestKeylessTokenCommand(t *testing.T) {
	t.Parallel()
	w := newSTSWorld(t)
	// Outside a workflow: the ID token from a file.
	id := w.idToken(t, emulator.Job{})
	file := filepath.Join(t.TempDir(), "id-token")
	os.WriteFile(file, []byte(id+"\n"), 0o600)
	out, stderr, err := runEnv(t, map[string]string{"GITHUB_REPOSITORY": "octo-org/alpha"},
		"token", "--sts-url", w.sts, "--identity", "ci", "--id-token-file", file, "--json")
	if err != nil {
		t.Fatalf("token --sts-url: %v (%s)", err, stderr)
	}
	if !strings.Contains(out, `"installation_id": 101`) || !strings.Contains(out, `"issues": "write"`) {
		t.Errorf("token --json = %s", out)
	}
	if strings.Contains(stderr, id) {
		t.Error("stderr holds the ID token")
	}
	// In a workflow: the runner's ID token; settings from the environment.
	env := map[string]string{
		"APP_TOKEN_STS_URL": w.sts, "APP_TOKEN_STS_IDENTITY": "ci",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   emulator.IDTokenRequestURL(w.url),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.emu.AddJob(emulator.Job{}),
	}
	out, stderr, err = runEnv(t, env, "token", "--repositories", "octo-org/alpha")
	if err != nil {
		t.Fatalf("token in a workflow: %v (%s)", err, stderr)
	}
	if _, ok := w.emu.TokenInfo(strings.TrimSpace(out)); !ok {
		t.Errorf("token printed %q, not an emulator token", out)
	}

	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"--identity", "ci", "--repositories", "octo-org/alpha"}, nil, exitUsage, "pass --id-token-file"},
		{[]string{"--repositories", "octo-org/alpha", "--id-token-file", file}, nil, exitUsage, "--sts-url needs --identity"},
		{[]string{"--identity", "ci", "--owner", "octo-org", "--permission", "contents=read", "--id-token-file", file}, nil, exitUsage, "--permission: not with --sts-url"},
		{[]string{"--identity", "ci", "--repositories", "octo-org/alpha", "--private-key-file", file}, nil, exitUsage, "--private-key-file: not with --sts-url"},
		{[]string{"--identity", "ci", "--repositories", "octo-org/alpha", "--signer", "file:" + file}, nil, exitUsage, "--signer: not with --sts-url"},
		{[]string{"--identity", "ci", "--repositories", "alpha,beta", "--owner", "octo-org", "--id-token-file", file}, nil, exitUsage, "one repository"},
		{[]string{"--identity", "ci", "--repositories", "octo-org/alpha", "--id-token-file", filepath.Join(t.TempDir(), "none")}, nil, exitError, "--id-token-file"},
		{[]string{"--identity", "deploy", "--repositories", "octo-org/alpha", "--id-token-file", file}, nil, exitError, "no trust policy"},
	} {
		_, stderr, err := runEnv(t, tc.env, append([]string{"token", "--sts-url", w.sts}, tc.args...)...)
		if code := exitCode(err); code != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("token %q: exit %d, %v; want %d and %q (stderr %q)", tc.args, code, err, tc.code, tc.want, stderr)
		} else if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), id) {
			t.Errorf("token %q: the error is not one line without the ID token: %q", tc.args, err)
		}
	}
	// An ID token for another audience: the exchange refuses it (401),
	// which is an authentication failure.
	now := time.Now().Unix()
	other, err := w.emu.SignIDToken(map[string]any{"iss": emulator.OIDCIssuer(w.url), "aud": "https://elsewhere.example",
		"sub": "repo:octo-org/alpha:ref:refs/heads/main", "iat": now, "nbf": now, "exp": now + 300})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, []byte(other), 0o600)
	_, _, err = runEnv(t, nil, "token", "--sts-url", w.sts, "--identity", "ci", "--repositories", "octo-org/alpha", "--id-token-file", file)
	if exitCode(err) != exitAuth || !strings.Contains(fmt.Sprint(err), "HTTP 401") {
		t.Errorf("ID token for another audience: exit %d, %v; want %d and the exchange's 401", exitCode(err), err, exitAuth)
	}
	// A garbled ID token file is refused without quoting it.
	os.WriteFile(file, []byte("not-a-jwt secret-ish"), 0o600)
	_, _, err = runEnv(t, nil, "token", "--sts-url", w.sts, "--identity", "ci", "--repositories", "octo-org/alpha", "--id-token-file", file)
	if err == nil || strings.Contains(err.Error(), "secret-ish") || !strings.Contains(err.Error(), "not a JWT") {
		t.Errorf("garbled ID token file: %v", err)
	}
	w.assertNoSecretsLogged(t)
}

// idToken asks the emulator's runner endpoint for job's ID token for the
// exchange.
func (w *stsWorld) idToken(t *testing.T, job emulator.Job) string {
	t.Helper()
	req, _ := http.NewRequest("GET", emulator.IDTokenRequestURL(w.url)+"&audience="+w.sts, nil)
	req.Header.Set("Authorization", "Bearer "+w.emu.AddJob(job))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Value == "" {
		t.Fatalf("ID token: HTTP %d, %v", resp.StatusCode, err)
	}
	return out.Value
}

// TestKeylessGit runs real git against the emulator's git server with the
// built binary as its credential helper, getting every token from the
// exchange: first as the action's setup-git configures it, then as
// `setup-git --sts-url` does. git gets one token per scope from the
// exchange, cached across git processes, and the job's token dies with the
// post step.
func TestKeylessGit(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := credBuild(t, t.TempDir())
	w := newSTSWorld(t, emulator.WithGit(t.TempDir()))
	// beta trusts alpha's CI too.
	w.emu.PutFile("octo-org", "beta", ".github/chainguard/ci.sts.yaml", []byte(stsPolicy))
	gitEnv := credGitEnv(w.dir,
		"APP_TOKEN_CACHE_DIR="+filepath.Join(w.dir, "cache"),
		"ACTIONS_ID_TOKEN_REQUEST_URL="+emulator.IDTokenRequestURL(w.url),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+w.emu.AddJob(emulator.Job{}))
	exchanges := func() int { return strings.Count(w.logs.String(), `"msg":"exchange"`) }

	// The action with setup-git: true.
	env := w.jobEnv(emulator.Job{}, map[string]string{"setup-git": "true"})
	env["RUNNER_TEMP"] = t.TempDir()
	for _, kv := range gitEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var stdout bytes.Buffer
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stdout)
	c.executable = func() (string, error) { return bin, nil }
	if err := c.run(t.Context(), []string{"action"}); err != nil {
		t.Fatalf("action: %v\n%s", err, stdout.String())
	}
	helper := credMustGit(t, gitEnv, w.dir, "config", "--global", "--get-all", "credential."+w.url+".helper")
	if !strings.Contains(helper, " credential --sts-url "+w.sts+" --identity ci ") || strings.Contains(helper, "--token-file") {
		t.Errorf("git's helper = %q, want one asking the exchange", helper)
	}
	if exchanges() != 1 {
		t.Fatalf("%d exchanges for the main step, want 1", exchanges())
	}
	work := t.TempDir()
	credMustGit(t, gitEnv, work, "clone", "--quiet", w.url+"/octo-org/alpha.git")
	alpha := filepath.Join(work, "alpha")
	credMustGit(t, gitEnv, alpha, "fetch", "--quiet")
	os.WriteFile(filepath.Join(alpha, "change"), []byte("x\n"), 0o644)
	credMustGit(t, gitEnv, alpha, "add", "change")
	credMustGit(t, gitEnv, alpha, "commit", "--quiet", "-m", "change")
	credMustGit(t, gitEnv, alpha, "push", "--quiet", "origin", "HEAD")
	if n := exchanges(); n != 2 {
		t.Errorf("%d exchanges after a clone, a fetch and a push, want 2 (the step's, one for git)", n)
	}
	// Another repository is another scope: its own policy, one exchange.
	credMustGit(t, gitEnv, work, "clone", "--quiet", w.url+"/octo-org/beta.git")
	if n := exchanges(); n != 3 {
		t.Errorf("%d exchanges after beta's clone, want 3", n)
	}
	// A repository without a policy: git fails with the exchange's reason.
	if _, err := credRunGit(t, gitEnv, work, "", "clone", "--quiet", w.url+"/octo-org/gamma.git"); err == nil {
		t.Error("clone of a repository without a trust policy succeeded")
	} else if !strings.Contains(err.Error(), "no token for octo-org/gamma from the token exchange") {
		t.Errorf("git's stderr does not carry the helper's reason: %v", err)
	}

	post := map[string]string{}
	for k, v := range env {
		post[k] = v
	}
	for k, v := range w.state(t) {
		post["STATE_"+k] = v
	}
	if _, _, err := runEnv(t, post, "action-post"); err != nil {
		t.Fatal(err)
	}
	if info, _ := w.emu.TokenInfo(w.outputs(t)["token"]); !info.Revoked {
		t.Error("the post step did not revoke the step's token")
	}
	if list := credMustGit(t, gitEnv, w.dir, "config", "--global", "--list"); strings.Contains(list, "credential.") {
		t.Errorf("the post step left git configured:\n%s", list)
	}

	// setup-git --sts-url by hand, and a fresh cache: one exchange again.
	gitEnv = append(gitEnv, "APP_TOKEN_CACHE_DIR="+filepath.Join(w.dir, "cache2"))
	cmd := exec.Command(bin, "setup-git", "--host", w.url, "--api-url", w.url, "--sts-url", w.sts, "--identity", "ci")
	cmd.Env = gitEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup-git: %v\n%s", err, out)
	} else if strings.Contains(string(out), "note:") {
		t.Errorf("setup-git --sts-url notes a missing key or App:\n%s", out)
	}
	before := exchanges()
	other := t.TempDir()
	credMustGit(t, gitEnv, other, "clone", "--quiet", w.url+"/octo-org/alpha.git")
	if _, err := os.Stat(filepath.Join(other, "alpha", "change")); err != nil {
		t.Error("the pushed commit is not on the server")
	}
	credMustGit(t, gitEnv, filepath.Join(other, "alpha"), "fetch", "--quiet")
	if n := exchanges() - before; n != 1 {
		t.Errorf("%d exchanges for a clone and a fetch, want 1", n)
	}
	w.assertNoSecretsLogged(t)
}

func TestServeUsage(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	os.WriteFile(keyFile, []byte(testKeyPEM()), 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	app := []string{"--client-id", emulator.WorldClientID, "--private-key-file", keyFile}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{app, exitUsage, "no --url"},
		{[]string{"--url", "https://sts.example.com"}, exitUsage, "no app given"},
		{append([]string{"--url", "https://sts.example.com", "--issuer", "ftp://x"}, app...), exitUsage, `the issuer "ftp://x"`},
		{[]string{"--url", "https://sts.example.com", "--client-id", "Iv1", "--private-key-file", filepath.Join(t.TempDir(), "none")}, exitError, "read --private-key-file"},
		{append([]string{"--url", "https://sts.example.com", "--listen", busy.Addr().String()}, app...), exitError, "listen on " + busy.Addr().String()},
		{append([]string{"--url", "https://sts.example.com", "stray"}, app...), exitUsage, `unexpected argument "stray"`},
	} {
		_, _, err := runEnv(t, nil, append([]string{"serve"}, tc.args...)...)
		if code := exitCode(err); code != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("serve %q: exit %d, %v; want %d and one line holding %q", tc.args, code, err, tc.code, tc.want)
		}
	}
	if got := defaultListen(""); got != ":8080" {
		t.Errorf("defaultListen() = %q", got)
	}
	if got := defaultListen("9090"); got != ":9090" {
		t.Errorf("defaultListen(9090) = %q", got)
	}
}

// TestServeDebugLogsNoSecrets: with --debug the exchange logs each GitHub
// request at level DEBUG, and no token, ID token or JWT.
func TestServeDebugLogsNoSecrets(t *testing.T) {
	t.Parallel()
	w := newSTSWorldArgs(t, []string{"--debug"})
	id := w.idToken(t, emulator.Job{})
	file := filepath.Join(t.TempDir(), "id-token")
	os.WriteFile(file, []byte(id), 0o600)
	out, _, err := runEnv(t, nil, "token", "--sts-url", w.sts, "--identity", "ci", "--repositories", "octo-org/alpha", "--id-token-file", file)
	if err != nil {
		t.Fatal(err)
	}
	logs := w.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "access_tokens") {
		t.Errorf("no DEBUG lines of GitHub requests:\n%s", logs)
	}
	for _, secret := range []string{strings.TrimSpace(out), id, "Bearer ", "eyJ"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the debug logs hold a secret (%.8s...)", secret)
		}
	}
	w.assertNoSecretsLogged(t)
}

// TestKeylessActionOctoSTSAnswer: an exchange that answers only
// {"token"} (octo-sts) still gives the step its token; installation-id and
// expires-at stay empty, and the post step revokes the token.
func TestKeylessActionOctoSTSAnswer(t *testing.T) {
	t.Parallel()
	var target string
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), nil)
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("proxy: %v", err)
			http.Error(rw, "proxy", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var full map[string]any
		json.NewDecoder(resp.Body).Decode(&full)
		if resp.StatusCode != http.StatusOK {
			rw.WriteHeader(resp.StatusCode)
			json.NewEncoder(rw).Encode(full)
			return
		}
		json.NewEncoder(rw).Encode(map[string]any{"token": full["token"]})
	}))
	t.Cleanup(proxy.Close)
	w := newSTSWorldArgs(t, []string{"--audience", proxy.URL})
	target = w.sts
	env := w.jobEnv(emulator.Job{}, map[string]string{"sts-url": proxy.URL})
	stdout, _, err := runEnv(t, env, "action")
	if err != nil {
		t.Fatalf("action: %v\n%s", err, stdout)
	}
	outputs := w.outputs(t)
	token := outputs["token"]
	if _, ok := w.emu.TokenInfo(token); !ok {
		t.Fatalf("no token output: %v", keys(outputs))
	}
	if outputs["installation-id"] != "" || outputs["expires-at"] != "" {
		t.Errorf("installation-id %q, expires-at %q: want both empty when the exchange does not say", outputs["installation-id"], outputs["expires-at"])
	}
	assertMaskedFirst(t, stdout, token)
	for k, v := range w.state(t) {
		env["STATE_"+k] = v
	}
	if _, _, err := runEnv(t, env, "action-post"); err != nil {
		t.Fatal(err)
	}
	if info, _ := w.emu.TokenInfo(token); !info.Revoked {
		t.Error("the post step did not revoke a token of unknown expiry")
	}
}
