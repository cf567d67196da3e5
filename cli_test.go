package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/org/app-token/internal/emulator"
)

// cliEnv is the environment of a CLI test: the emulator's App, key in a file.
func cliEnv(t *testing.T, w *actWorld) map[string]string {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, []byte(testKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"APP_TOKEN_CLIENT_ID":        emulator.WorldClientID,
		"APP_TOKEN_PRIVATE_KEY_FILE": keyFile,
		"APP_TOKEN_API_URL":          w.url,
	}
}

func TestHelpAndUsage(t *testing.T) {
	t.Parallel()
	out, _, err := runEnv(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range commands() {
		if !strings.Contains(out, "  "+cmd.name+" ") {
			t.Errorf("help lacks %q", cmd.name)
		}
	}
	_, stderr, err := runEnv(t, nil, "frobnicate")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: err=%v stderr=%q", err, stderr)
	}
	for _, cmd := range commands() {
		_, stderr, err := runEnv(t, nil, cmd.name, "-h")
		if err != nil || !strings.Contains(stderr, "Usage: app-token "+cmd.name) {
			t.Errorf("%s -h: err=%v, stderr %.80q", cmd.name, err, stderr)
		}
	}
	_, _, err = runEnv(t, nil, "token", "--no-such-flag")
	if exitCode(err) != exitUsage {
		t.Errorf("bad flag: exit %d, want 2", exitCode(err))
	}
	out, _, _ = runEnv(t, nil, "--version")
	if !strings.HasPrefix(out, "app-token ") {
		t.Errorf("--version = %q", out)
	}
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	out, stderr, err := runEnv(t, env, "token", "--owner", "octo-org", "--repositories", "octo-org/alpha,beta", "--permission", "contents=read", "--permission", "pull-requests=write")
	if err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	tok := strings.TrimSpace(out)
	info, ok := w.emu.TokenInfo(tok)
	if !ok || strings.Join(info.Repositories, ",") != "alpha,beta" || info.Permissions["pull_requests"] != "write" {
		t.Errorf("token %v: %+v", ok, info.Repositories)
	}
	if stderr != "" {
		t.Errorf("stderr = %q", stderr)
	}

	out, _, err = runEnv(t, env, "token", "--installation-id", "102", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Token          string            `json:"token"`
		ExpiresAt      time.Time         `json:"expires_at"`
		InstallationID int64             `json:"installation_id"`
		Permissions    map[string]string `json:"permissions"`
		Repositories   []string          `json:"repositories"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.emu.TokenInfo(j.Token); !ok || j.InstallationID != 102 || j.ExpiresAt.IsZero() || j.Permissions["contents"] != "read" || j.Repositories == nil || len(j.Repositories) != 0 {
		t.Errorf("--json = %s", out)
	}
	// --installation-id: one request for the token, one to name its owner
	// and app for --json.
	if n := len(w.emu.Requests()); n != 4 {
		t.Errorf("%d requests, want 2 + 2", n)
	}
}

func TestTokenCommandErrors(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("0123456789abcdef0123456789abcdef01234567"), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no target", []string{"token"}, nil, exitUsage, "pass --owner, --repositories owner/name or --installation-id"},
		{"no app", []string{"token", "--owner", "x"}, map[string]string{"APP_TOKEN_CLIENT_ID": ""}, exitUsage, "pass --client-id"},
		{"client secret as key", []string{"token", "--owner", "octo-org", "--private-key-file", bad}, nil, exitAuth, "--private-key-file: a 40-character hexadecimal value, which looks like the app's client secret"},
		{"not installed", []string{"token", "--owner", "lonely-org"}, nil, exitError, `not installed on the account "lonely-org": install it there, or check --owner`},
		{"bad permission", []string{"token", "--owner", "o", "--permission", "contents=admin"}, nil, exitUsage, `"admin" is not a valid level for contents`},
		{"bad repositories", []string{"token", "--owner", "octo-org", "--repositories", "x/y"}, nil, exitUsage, `--repositories: "x/y" belongs to "x"`},
		{"wrong app", []string{"token", "--owner", "octo-org", "--client-id", "Iv23liNOPE"}, nil, exitAuth, `GitHub knows no app "Iv23liNOPE": check --client-id`},
		// Installation 102 is octocat's: minting it while reporting octo-org
		// was issue 8's bug.
		{"owner with installation-id", []string{"token", "--owner", "octo-org", "--installation-id", "102"}, nil, exitUsage, "--owner and --installation-id exclude each other"},
		{"plain http API", []string{"token", "--owner", "octo-org", "--api-url", "http://ghe.invalid/api/v3"}, nil, exitUsage, "--api-url (or APP_TOKEN_API_URL): \"http://ghe.invalid/api/v3\": plain http is only for loopback hosts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := maps(env)
			for k, v := range tc.env {
				e[k] = v
			}
			out, stderr, err := runEnv(t, e, tc.args...)
			if exitCode(err) != tc.code {
				t.Errorf("exit %d, want %d (err %v)", exitCode(err), tc.code, err)
			}
			if msg := stderr + errString(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q lacks %q", msg, tc.want)
			}
			if out != "" {
				t.Errorf("stdout = %q on failure", out)
			}
		})
	}
}

// TestSameFailureSameExitCode: a missing installation exits the same from
// token, credential get and the action (issue 8: 1 from token, 4 from
// credential get).
func TestSameFailureSameExitCode(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	_, _, tokenErr := runEnv(t, cliEnv(t, w), "token", "--owner", "lonely-org")
	_, _, actionErr := runEnv(t, w.env(map[string]string{"owner": "lonely-org"}), "action")
	cw := newCredWorld(t)
	_, _, credErr := cw.run(t, credAsk(credGitHost, "lonely-org/x.git"), append(append([]string{"credential"}, cw.helperArgs(credGitHost)...), "get")...)
	for name, err := range map[string]error{"token": tokenErr, "action": actionErr, "credential get": credErr} {
		if err == nil || exitCode(err) != exitError {
			t.Errorf("%s: exit %d (%v), want %d", name, exitCode(err), err, exitError)
		}
	}
	if len(w.emu.Requests()) == 0 || len(cw.em.Requests()) == 0 {
		t.Error("the installations were not looked up")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestJWTCommand(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	out, _, err := runEnv(t, cliEnv(t, w), "jwt")
	if err != nil {
		t.Fatal(err)
	}
	claims := &jwt.RegisteredClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimSpace(out), claims, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(emulator.WorldClientID)); err != nil {
		t.Errorf("printed JWT does not verify: %v", err)
	}
}

func TestInstallationsCommand(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	out, _, err := runEnv(t, cliEnv(t, w), "installations")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^ID\s+ACCOUNT`, `(?m)^101\s+octo-org\s+Organization\s+all: alpha,beta,gamma\s+contents:write,issues:write`, `(?m)^102\s+octocat\s+User\s+hello-world\s`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("table lacks %s:\n%s", re, out)
		}
	}
	// The tokens minted to list the repositories are revoked.
	for _, tok := range w.emu.Tokens() {
		if !tok.Revoked || tok.Permissions["metadata"] != "read" || len(tok.Permissions) != 1 {
			t.Errorf("installations left a token behind, or took more than metadata: read: %+v", tok.Permissions)
		}
	}
	out, _, err = runEnv(t, cliEnv(t, w), "installations", "--json")
	var list []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Errorf("--json: %v %s", err, out)
	}
}

func TestRevokeCommand(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	out, _, err := runEnv(t, env, "token", "--owner", "octo-org")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(out), &stdout, &stderr)
	if err := c.run(t.Context(), []string{"revoke"}); err != nil {
		t.Fatal(err)
	}
	if info, _ := w.emu.TokenInfo(strings.TrimSpace(out)); !info.Revoked {
		t.Error("not revoked")
	}
	if strings.Contains(stdout.String()+stderr.String(), strings.TrimSpace(out)) {
		t.Error("revoke printed the token")
	}
	_, _, err = runEnv(t, env, "revoke")
	if exitCode(err) != exitUsage {
		t.Errorf("empty stdin: exit %d", exitCode(err))
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	out, stderr, err := runEnv(t, nil, "demo")
	if err != nil {
		t.Fatalf("demo failed: %v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{"1. Main step", "token            *** (masked", "API requests for the token: 2",
		"200: the token reaches octo-org/alpha, octo-org/beta", "Token revoked.", "answers 401"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if regexp.MustCompile(`ghs_[A-Za-z0-9_]{8}`).MatchString(out) || strings.Contains(out, "PRIVATE KEY-----\n") {
		t.Error("demo printed a token or the key")
	}
}

// syncBuffer is a bytes.Buffer safe to read while another goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEmulatorCommand: app-token emulator's files set up every command
// that talks to GitHub, token to credential; its banner says what to do
// (golden), it logs each request without secrets, it answers / with what it
// is, and without --dir it removes its key on exit (issue 11, finding 1).
func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, log, url, stop := startEmulator(t, "--dir", dir, "--clock-offset", "90s", "--fault", "GET /app/installations=503")
	env := readEnvFile(t, filepath.Join(dir, "emulator.env"))
	env["HOME"], env["XDG_CONFIG_HOME"] = dir, filepath.Join(dir, "xdg")

	tok, stderr, err := runEnv(t, env, "token", "--owner", "octo-org")
	if err != nil || len(strings.TrimSpace(tok)) < 40 {
		t.Errorf("token: %v %s", err, stderr)
	}
	if env["GITHUB_SERVER_URL"] != url {
		t.Errorf("the env file's GITHUB_SERVER_URL = %q, want %q", env["GITHUB_SERVER_URL"], url)
	}
	// It serves the enterprise installation, and git for the token's
	// repositories, kept under --dir.
	if _, stderr, err := runEnv(t, env, "token", "--enterprise", "octo-enterprise"); err != nil {
		t.Errorf("token --enterprise against the served emulator: %v %s", err, stderr)
	}
	if _, err := exec.LookPath("git"); err == nil {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/octo-org/alpha.git/info/refs?service=git-upload-pack", nil)
		req.SetBasicAuth("x-access-token", strings.TrimSpace(tok))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-git-upload-pack-advertisement" {
			t.Errorf("git's info/refs answered %d %q, want 200 and git's advertisement", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, err := os.Stat(filepath.Join(dir, "git", "octo-org", "alpha.git", "HEAD")); err != nil {
			t.Errorf("no bare repository under --dir: %v", err)
		}
	}
	// The injected 503 is retried (runEnv's waits are instant).
	if list, stderr, err := runEnv(t, env, "installations"); err != nil || !strings.Contains(list, "octo-org") {
		t.Errorf("installations: %v %s", err, stderr)
	}
	// Signed out, the advice names the emulator with its scheme.
	_, _, err = runEnv(t, env, "status")
	wantExit(t, err, exitAuth, "app-token login --client-id <the app's client ID> --github-url "+url)
	// A person signs in: the code is approved on the device page as the
	// banner says.
	var loginErr syncBuffer
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &loginErr)
	// Real waits: the emulator's clock is real time, and it answers
	// slow_down to polls faster than the interval (5 s) as GitHub does.
	c.wait = sleepCtx
	loginDone := make(chan error, 1)
	go func() { loginDone <- c.run(t.Context(), []string{"login"}) }()
	code := ""
	for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`one-time code:\s+(\S+)`).FindStringSubmatch(loginErr.String()); m != nil {
			code = m[1]
		}
	}
	if !strings.Contains(loginErr.String(), url+"/login/device") {
		t.Errorf("login does not send the person to the emulator's device page:\n%s", loginErr.String())
	}
	resp, err := http.PostForm(url+"/login/device", neturl.Values{"user_code": {code}, "login": {emulator.WorldUser}, "action": {"approve"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("approve %q: %v %v", code, err, resp)
	}
	resp.Body.Close()
	if err := <-loginDone; err != nil {
		t.Fatalf("login: %v\n%s", err, loginErr.String())
	}
	for _, args := range [][]string{{"status"}, {"user-token"}, {"setup-git", "--file", filepath.Join(dir, "gitconfig")}, {"logout", "--revoke"}} {
		if _, stderr, err := runEnv(t, env, args...); err != nil {
			t.Errorf("%s: %v %s", args[0], err, stderr)
		}
	}
	var credOut, credErr bytes.Buffer
	c = newCLI(func(k string) string { return env[k] }, strings.NewReader("protocol=http\nhost="+strings.TrimPrefix(url, "http://")+"\npath=octo-org/alpha.git\n\n"), &credOut, &credErr)
	if err := c.run(t.Context(), []string{"credential", "get"}); err != nil || !strings.Contains(credOut.String(), "password=ghs_") {
		t.Errorf("credential get: %v %q", err, credErr.String())
	}

	for _, path := range []string{"/", "/api/v3/app"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/" && (resp.StatusCode != 200 || !strings.Contains(string(body), "offline GitHub emulator")) {
			t.Errorf("GET / = %d %q", resp.StatusCode, body)
		}
	}
	secrets, _ := os.ReadFile(filepath.Join(dir, "act.secrets"))
	if !strings.Contains(string(secrets), "APP_PRIVATE_KEY=") || strings.Contains(out.String(), "PRIVATE KEY-----") {
		t.Error("secrets file lacks the key, or the key was printed")
	}
	for _, f := range []string{"act.secrets", "act.vars", "emulator.env", "emulator-app.pem"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
			t.Errorf("%s: %v", f, err)
		}
	}
	stop()
	golden(t, "emulator-banner", out.String(), dir)
	logText := log.String()
	for _, re := range []string{
		`(?m)^\d\d:\d\d:\d\d POST\s+/app/installations/101/access_tokens\s+201 \d+\.\dms$`,
		`(?m)^\d\d:\d\d:\d\d GET\s+/app/installations\s+503 `,
		`(?m)^\d\d:\d\d:\d\d POST\s+/login/oauth/access_token\s+200 `,
		`(?m)^\d\d:\d\d:\d\d DELETE\s+/applications/` + emulator.WorldClientID + `/token\s+204 `,
		`(?m)^\d\d:\d\d:\d\d GET\s+/\s+200 `,
	} {
		if !regexp.MustCompile(re).MatchString(logText) {
			t.Errorf("request log lacks %s:\n%s", re, logText)
		}
	}
	if regexp.MustCompile(`gh[us]_|emulator-client-secret|` + emulatorStorePassphrase).MatchString(logText) {
		t.Errorf("the request log shows a secret:\n%s", logText)
	}

	// Without --dir: a temporary folder, gone when the emulator stops.
	out, _, _, stop = startEmulator(t)
	m := regexp.MustCompile(`private key \(a throwaway test key\): (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key path in:\n%s", out.String())
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("the temporary folder outlived the emulator: %v", err)
	}
}

// emulatorStorePassphrase is the passphrase emulator.env gives the store.
const emulatorStorePassphrase = "emulator-store-passphrase"

// startEmulator runs app-token emulator with args until stop, and returns
// its stdout, its request log and its URL.
func startEmulator(t *testing.T, args ...string) (out, log *syncBuffer, url string, stop func()) {
	t.Helper()
	out, log = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	c := newCLI(func(string) string { return "" }, strings.NewReader(""), out, log)
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, append([]string{"emulator", "--listen", "127.0.0.1:0"}, args...)) }()
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Ctrl-C") {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL printed:\n%s", out.String())
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("emulator ended with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return out, log, url, stop
}

// readEnvFile reads emulator.env as a POSIX shell would source it.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=value", path, line)
		}
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
		env[k] = v
	}
	return env
}
