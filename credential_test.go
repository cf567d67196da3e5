package main

// Tests of the credential helper in process: run with a map for the
// environment against the emulator. credential_git_test.go runs real git;
// credential_binary_test.go the built binary under git.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/store"
)

func credKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
}

// credWorld is an emulator on loopback, the App's key in a file and a
// private cache folder: what one credential helper needs.
type credWorld struct {
	em      *emulator.Server
	api     *httptest.Server
	dir     string
	keyFile string
	env     map[string]string
}

func newCredWorld(t *testing.T) *credWorld {
	t.Helper()
	w := &credWorld{em: emulator.NewWorld(testKey()), dir: t.TempDir()}
	w.api = httptest.NewServer(w.em)
	t.Cleanup(w.api.Close)
	w.keyFile = filepath.Join(w.dir, "key.pem")
	if err := os.WriteFile(w.keyFile, credKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{
		"APP_TOKEN_CACHE_DIR": filepath.Join(w.dir, "cache"),
		"HOME":                filepath.Join(w.dir, "home"),
	}
	t.Cleanup(func() {
		for _, u := range w.em.Unexpected() {
			t.Errorf("the emulator got an unexpected request: %s", u)
		}
	})
	return w
}

// helperArgs are the flags of a helper for the emulator's app, answering
// for git host host.
func (w *credWorld) helperArgs(host string) []string {
	return []string{"--client-id", emulator.WorldClientID, "--private-key-file", w.keyFile, "--api-url", w.api.URL, "--host", host}
}

// run runs app-token in process, retries without waiting.
func (w *credWorld) run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := newCLI(func(k string) string { return w.env[k] }, strings.NewReader(stdin), &out, &errb)
	c.wait = func(context.Context, time.Duration) error { return nil }
	err = c.run(t.Context(), args)
	return out.String(), errb.String(), err
}

func (w *credWorld) count(method, suffix string) int {
	n := 0
	for _, r := range w.em.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func credAsk(host, path string) string {
	s := "protocol=http\nhost=" + host + "\n"
	if path != "" {
		s += "path=" + path + "\n"
	}
	return s + "\n"
}

func credParseAnswer(t *testing.T, out string) *gitcred.Credential {
	t.Helper()
	c, err := gitcred.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the answer %q does not parse: %v", out, err)
	}
	return c
}

const credGitHost = "127.0.0.1:9"

func TestCredentialGetMintsOnceThenAnswersFromCache(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	args := append(append([]string{"credential"}, w.helperArgs(credGitHost)...), "get")
	out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), args...)
	if err != nil {
		t.Fatalf("get: %v (stderr %q)", err, stderr)
	}
	ans := credParseAnswer(t, out)
	if ans.Username != "x-access-token" || !strings.HasPrefix(ans.Password, "ghs_") {
		t.Fatalf("answer = %+v", ans)
	}
	info, ok := w.em.TokenInfo(ans.Password)
	if !ok || info.InstallationID != emulator.WorldOrgInstID || info.Repositories != nil {
		t.Errorf("token = %+v, want an installation-wide token of %d", info, emulator.WorldOrgInstID)
	}
	if !ans.PasswordExpiry.Equal(info.ExpiresAt) {
		t.Errorf("password_expiry_utc = %v, want GitHub's expires_at %v", ans.PasswordExpiry, info.ExpiresAt)
	}
	if n := len(w.em.Requests()); n != 2 {
		t.Errorf("cold get made %d requests, want 2", n)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
	for _, path := range []string{"octo-org/alpha.git", "octo-org/beta.git", "Octo-Org/gamma", "octo-org/beta.git/info/lfs"} {
		out, _, err := w.run(t, credAsk(credGitHost, path), args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := credParseAnswer(t, out).Password; got != ans.Password {
			t.Errorf("get for %s answered another token", path)
		}
	}
	if n := len(w.em.Requests()); n != 2 {
		t.Errorf("warm gets made %d requests, want 0", n-2)
	}
	// Another owner: its own lookup and token.
	out, _, err = w.run(t, credAsk(credGitHost, "octocat/hello-world.git"), args...)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := w.em.TokenInfo(credParseAnswer(t, out).Password); info.InstallationID != emulator.WorldUserInst {
		t.Errorf("octocat's token is from installation %d", info.InstallationID)
	}
	if n := w.count("POST", "/access_tokens"); n != 2 {
		t.Errorf("%d tokens minted, want 2 (one per owner)", n)
	}
}

func TestCredentialGetNarrowed(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	args := append([]string{"credential"}, w.helperArgs(credGitHost)...)
	args = append(args, "--repositories", "alpha,octo-org/beta", "--permission", "contents=read", "--permission", "pull-requests=write", "get")
	out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/beta.git"), args...)
	if err != nil {
		t.Fatalf("get: %v (%s)", err, stderr)
	}
	info, _ := w.em.TokenInfo(credParseAnswer(t, out).Password)
	slices.Sort(info.Repositories)
	if !slices.Equal(info.Repositories, []string{"alpha", "beta"}) || info.Permissions["contents"] != "read" || info.Permissions["pull_requests"] != "write" || len(info.Permissions) != 2 {
		t.Errorf("token = %+v", info)
	}
	// A repository outside --repositories gets no answer and no request.
	before := len(w.em.Requests())
	out, stderr, err = w.run(t, credAsk(credGitHost, "octo-org/gamma.git"), args...)
	if err != nil || out != "" || !strings.Contains(stderr, "not in --repositories") {
		t.Errorf("get for gamma = %q, %q, %v", out, stderr, err)
	}
	if len(w.em.Requests()) != before {
		t.Error("get outside --repositories reached the API")
	}
}

func TestCredentialGetWithoutPathUsesOwner(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	base := append([]string{"credential"}, w.helperArgs(credGitHost)...)
	out, stderr, err := w.run(t, credAsk(credGitHost, ""), append(base, "get")...)
	if err != nil || out != "" {
		t.Fatalf("get without path or owner = %q, %v", out, err)
	}
	if !strings.Contains(stderr, "useHttpPath") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line about credential.useHttpPath", stderr)
	}
	out, _, err = w.run(t, credAsk(credGitHost, ""), append(base, "--owner", "octocat", "get")...)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := w.em.TokenInfo(credParseAnswer(t, out).Password); info.InstallationID != emulator.WorldUserInst {
		t.Errorf("--owner octocat gave a token of installation %d", info.InstallationID)
	}
	if w.count("GET", "/users/octocat/installation") != 1 {
		t.Error("--owner was not looked up as an account")
	}
}

func TestCredentialGetNotOurs(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	base := append(append([]string{"credential"}, w.helperArgs("github.com")...), "get")
	for name, in := range map[string]string{
		"other host":         "protocol=https\nhost=gitlab.com\npath=octo-org/alpha.git\n",
		"plain http":         "protocol=http\nhost=github.com\npath=octo-org/alpha.git\n",
		"ssh":                "protocol=ssh\nhost=github.com\npath=octo-org/alpha.git\n",
		"no host":            "protocol=https\n",
		"not an owner":       "protocol=https\nhost=github.com\npath=octo..org/alpha.git\n",
		"nothing at all":     "",
		"other port of host": "protocol=https\nhost=github.com:8443\npath=octo-org/alpha.git\n",
	} {
		out, _, err := w.run(t, in, base...)
		if err != nil || out != "" {
			t.Errorf("%s: get = %q, %v; want no answer", name, out, err)
		}
	}
	if n := len(w.em.Requests()); n != 0 {
		t.Errorf("%d requests for hosts and protocols that are not ours", n)
	}
}

func TestCredentialGetFailures(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	garbageKey := filepath.Join(w.dir, "garbage.pem")
	os.WriteFile(garbageKey, []byte("ghp_notakeyatall0123456789"), 0o600)
	otherKey, _ := emulator.GenerateKey()
	otherKeyFile := filepath.Join(w.dir, "other.pem")
	os.WriteFile(otherKeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)}), 0o600)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	ask := credAsk(credGitHost, "octo-org/alpha.git")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains string
	}{
		// A missing installation is no authentication failure: exit 1, as from token (issue 8).
		{"no installation", w.helperArgs(credGitHost), credAsk(credGitHost, "lonely-org/x.git"), exitError, "not installed on lonely-org/x"},
		{"key that is not a key", []string{"--client-id", emulator.WorldClientID, "--private-key-file", garbageKey, "--api-url", w.api.URL, "--host", credGitHost}, ask, exitAuth, "a GitHub token, not a private key"},
		{"key of another app", []string{"--client-id", emulator.WorldClientID, "--private-key-file", otherKeyFile, "--api-url", w.api.URL, "--host", credGitHost}, ask, exitAuth, "could not verify the app's JWT"},
		{"unknown app", []string{"--client-id", "Iv23liNoSuchApp0000", "--private-key-file", w.keyFile, "--api-url", w.api.URL, "--host", credGitHost}, ask, exitAuth, "knows no app"},
		{"unreachable API", []string{"--client-id", emulator.WorldClientID, "--private-key-file", w.keyFile, "--api-url", closed.URL, "--host", credGitHost}, ask, exitError, "reach GitHub"},
		{"missing key file", []string{"--client-id", emulator.WorldClientID, "--private-key-file", filepath.Join(w.dir, "nope.pem"), "--host", credGitHost}, ask, exitError, "nope.pem"},
		{"no app", []string{"--private-key-file", w.keyFile, "--host", credGitHost}, ask, exitUsage, "--client-id"},
		{"no key", []string{"--client-id", emulator.WorldClientID, "--host", credGitHost}, ask, exitUsage, "no private key"},
		{"bad API URL", []string{"--client-id", "x", "--private-key-file", w.keyFile, "--api-url", "ftp://x", "--host", credGitHost}, ask, exitUsage, "--api-url"},
		{"bad permission", []string{"--permission", "contnets=read"}, ask, exitUsage, ""},
		{"bad host", []string{"--host", "https://github.com/octo-org"}, ask, exitUsage, "--host"},
		{"protocol garbage", w.helperArgs(credGitHost), "protocol=https\nno equals sign\n", exitError, "not key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"credential"}, tt.args...), "get")
			start := time.Now()
			out, stderr, err := w.run(t, tt.stdin, args...)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if got := exitCode(err); got != tt.code {
				t.Errorf("exit code %d (%v), want %d", got, err, tt.code)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			keyLine := strings.Split(string(credKeyPEM()), "\n")[2]
			if strings.Contains(err.Error()+stderr, keyLine) || strings.Contains(err.Error()+stderr, "ghp_notakey") {
				t.Errorf("message holds a secret: %q %q", err, stderr)
			}
		})
	}
}

func TestCredentialUsage(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	if _, _, err := w.run(t, "", "credential"); exitCode(err) != exitUsage {
		t.Errorf("no operation: %v", err)
	}
	if _, _, err := w.run(t, "", "credential", "get", "extra"); exitCode(err) != exitUsage {
		t.Errorf("two operations: %v", err)
	}
	_, stderr, err := w.run(t, "", "credential", "-h")
	if err != nil || !strings.Contains(stderr, "useHttpPath") || !strings.Contains(stderr, "--private-key-file") {
		t.Errorf("-h = %v, %q", err, stderr)
	}
	for _, op := range []string{"store", "capability", "future-op"} {
		out, stderr, err := w.run(t, "protocol=https\nhost=github.com\nusername=x\npassword=y\n", "credential", op)
		if err != nil || out != "" || stderr != "" {
			t.Errorf("%s = %q, %q, %v; want silence", op, out, stderr, err)
		}
	}
}

func TestCredentialEraseDropsOnlyOurToken(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	base := append([]string{"credential"}, w.helperArgs(credGitHost)...)
	get := func() string {
		out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), append(base, "get")...)
		if err != nil {
			t.Fatalf("get: %v %s", err, stderr)
		}
		return credParseAnswer(t, out).Password
	}
	erase := func(password string) {
		in := fmt.Sprintf("protocol=http\nhost=%s\npath=octo-org/alpha.git\nusername=x-access-token\npassword=%s\n\n", credGitHost, password)
		out, stderr, err := w.run(t, in, append(base, "erase")...)
		if err != nil || out != "" || stderr != "" {
			t.Fatalf("erase = %q, %q, %v", out, stderr, err)
		}
	}
	first := get()
	erase("ghs_someone_elses")
	if get() != first {
		t.Fatal("erasing another password dropped our token")
	}
	erase(first)
	second := get()
	if second == first {
		t.Fatal("get after erase answered the erased token")
	}
	if n := w.count("POST", "/access_tokens"); n != 2 {
		t.Errorf("%d tokens minted, want 2", n)
	}
	if n := w.count("GET", "/installation"); n != 1 {
		t.Errorf("%d installation lookups, want 1 (erase keeps the lookup)", n)
	}
}

func TestCredentialEnvironmentSettings(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	w.env["APP_TOKEN_APP_ID"] = "1"
	w.env["APP_TOKEN_PRIVATE_KEY"] = strings.ReplaceAll(string(credKeyPEM()), "\n", `\n`)
	w.env["APP_TOKEN_API_URL"] = w.api.URL
	out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), "credential", "--host", credGitHost, "get")
	if err != nil {
		t.Fatalf("get: %v (%s)", err, stderr)
	}
	if !strings.HasPrefix(credParseAnswer(t, out).Password, "ghs_") {
		t.Errorf("answer = %q", out)
	}
	// The host follows the API URL when --host is not given.
	w.env["APP_TOKEN_DEBUG"] = "1"
	out, stderr, err = w.run(t, credAsk(strings.TrimPrefix(w.api.URL, "http://"), "octo-org/alpha.git"), "credential", "get")
	if err != nil || out == "" {
		t.Errorf("get for the API's host = %q, %v (%s)", out, err, stderr)
	}
	if !strings.Contains(stderr, "token cache: hit") {
		t.Errorf("debug stderr = %q, want the cache decision", stderr)
	}
}

func TestCredentialCacheUnavailableStillAnswers(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	notDir := filepath.Join(w.dir, "file")
	os.WriteFile(notDir, nil, 0o600)
	w.env["APP_TOKEN_CACHE_DIR"] = notDir
	out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), append(append([]string{"credential"}, w.helperArgs(credGitHost)...), "get")...)
	if err != nil || out == "" {
		t.Fatalf("get = %q, %v", out, err)
	}
	if !strings.Contains(stderr, "not caching tokens") {
		t.Errorf("stderr = %q, want a note that the cache is off", stderr)
	}
}

func TestCredentialTokenFile(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	now := time.Now()
	file := filepath.Join(w.dir, "token.json")
	gitcred.WriteTokenFile(file, gitcred.TokenFile{Host: "github.com", Owner: "octo-org", Token: "ghs_fromfile", ExpiresAt: now.Add(time.Hour)})
	get := func(in string) (string, error) {
		out, _, err := w.run(t, in, "credential", "--token-file", file, "get")
		return out, err
	}
	out, err := get("protocol=https\nhost=github.com\npath=octo-org/alpha.git\n")
	if err != nil || credParseAnswer(t, out).Password != "ghs_fromfile" {
		t.Fatalf("get = %q, %v", out, err)
	}
	if out, err := get("protocol=https\nhost=github.com\n"); err != nil || out == "" {
		t.Errorf("get without a path = %q, %v; want the token", out, err)
	}
	for _, in := range []string{
		"protocol=https\nhost=github.com\npath=someone-else/x.git\n",
		"protocol=https\nhost=ghe.example.com\npath=octo-org/alpha.git\n",
		"protocol=http\nhost=github.com\npath=octo-org/alpha.git\n",
	} {
		if out, err := get(in); err != nil || out != "" {
			t.Errorf("get for %q = %q, %v; want no answer", in, out, err)
		}
	}
	// erase leaves the job's token alone.
	w.run(t, "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_fromfile\n", "credential", "--token-file", file, "erase")
	if _, err := os.Stat(file); err != nil {
		t.Error("erase removed the token file")
	}
	gitcred.WriteTokenFile(file, gitcred.TokenFile{Host: "github.com", Token: "ghs_old", ExpiresAt: now.Add(-time.Minute)})
	if out, err := get("protocol=https\nhost=github.com\npath=octo-org/alpha.git\n"); out != "" || exitCode(err) != exitAuth || !strings.Contains(err.Error(), "expired") {
		t.Errorf("get with an expired token = %q, %v", out, err)
	}
}

func TestCredentialUserNotSignedIn(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	// Nobody signed in, in a store of the test's own: the helper must
	// answer nothing, with exit code 4.
	w.env["APP_TOKEN_STORE"] = "file"
	w.env["APP_TOKEN_CONFIG_DIR"] = filepath.Join(w.dir, "config")
	w.env["APP_TOKEN_STORE_KEY"] = "test passphrase"
	out, _, err := w.run(t, "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n", "credential", "--user", "get")
	if out != "" || exitCode(err) != exitAuth || !strings.Contains(err.Error(), "app-token login") {
		t.Errorf("get --user = %q, %v", out, err)
	}
}

// TestCredentialUserSignedIn serves the token of the person signed in (as
// app-token login leaves it in the store) to git.
func TestCredentialUserSignedIn(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	w.env["APP_TOKEN_STORE"] = "file"
	w.env["APP_TOKEN_CONFIG_DIR"] = filepath.Join(w.dir, "config")
	st, err := store.Open(store.Options{Mode: "file", Dir: w.env["APP_TOKEN_CONFIG_DIR"], AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(8 * time.Hour).Truncate(time.Second)
	if _, err := st.Save(t.Context(), store.Entry{
		Host: "github.com", ClientID: "Iv23liUserApp", GitHubURL: "https://github.com", APIURL: "https://api.github.com",
		Login: "octocat", AccessToken: "ghu_signedin", ExpiresAt: exp,
	}); err != nil {
		t.Fatal(err)
	}
	for in, user := range map[string]string{
		"protocol=https\nhost=github.com\npath=octo-org/alpha.git\n":                   "oauth2",
		"protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=octocat\n": "octocat",
	} {
		out, stderr, err := w.run(t, in, "credential", "--user", "get")
		if err != nil {
			t.Fatalf("get --user: %v (%s)", err, stderr)
		}
		ans := credParseAnswer(t, out)
		if ans.Username != user || ans.Password != "ghu_signedin" || !ans.PasswordExpiry.Equal(exp) {
			t.Errorf("answer = %+v, want %s / the signed-in token", ans, user)
		}
	}
	// --client-id must match the sign-in; APP_TOKEN_CLIENT_ID (which may name
	// the App the helper mints for) does not have to.
	ask := "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n"
	if out, _, err := w.run(t, ask, "credential", "--user", "--client-id", "Iv23liUserApp", "get"); err != nil || credParseAnswer(t, out).Password != "ghu_signedin" {
		t.Errorf("get --user --client-id (matching) = %q, %v", out, err)
	}
	if out, _, err := w.run(t, ask, "credential", "--user", "--client-id", "Iv23liOtherApp", "get"); out != "" || err == nil {
		t.Errorf("get --user --client-id (another app) = %q, %v; want no answer and an error", out, err)
	}
	w.env["APP_TOKEN_CLIENT_ID"] = "Iv23liTheInstallationApp"
	if out, _, err := w.run(t, ask, "credential", "--user", "get"); err != nil || credParseAnswer(t, out).Password != "ghu_signedin" {
		t.Errorf("get --user with APP_TOKEN_CLIENT_ID of another app = %q, %v", out, err)
	}
	delete(w.env, "APP_TOKEN_CLIENT_ID")
	// Other hosts and protocols: no answer, and the store is not read.
	if out, _, err := w.run(t, "protocol=https\nhost=gitlab.com\n", "credential", "--user", "get"); out != "" || err != nil {
		t.Errorf("get --user for gitlab.com = %q, %v", out, err)
	}
	if n := len(w.em.Requests()); n != 0 {
		t.Errorf("%d requests to the emulator", n)
	}
}

// TestCredentialLockHolderDies has another process hold the mint lock and
// die: the waiting get must go on at once, long before its lock timeout.
func TestCredentialLockHolderDies(t *testing.T) {
	t.Parallel()
	flock, err := exec.LookPath("flock")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("needs flock(1)")
	}
	w := newCredWorld(t)
	args := append(append([]string{"credential"}, w.helperArgs(credGitHost)...), "get")
	ask := credAsk(credGitHost, "octo-org/alpha.git")
	if _, _, err := w.run(t, ask, args...); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(w.env["APP_TOKEN_CACHE_DIR"], "git-credential")
	locks, _ := filepath.Glob(filepath.Join(cacheDir, "lock-*"))
	toks, _ := filepath.Glob(filepath.Join(cacheDir, "tok-*"))
	if len(locks) != 1 || len(toks) != 1 {
		t.Fatalf("cache holds locks %q and tokens %q", locks, toks)
	}
	os.Remove(toks[0])

	// flock(1) takes the same flock(2) lock safefile does and holds it
	// while its child sleeps; --close keeps the lock out of the child, so
	// that it dies with flock itself (the orphaned sleep ends on its own).
	holder := exec.Command(flock, "--close", "--exclusive", locks[0], "sleep", "10")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if exec.Command(flock, "--nonblock", "--exclusive", locks[0], "true").Run() != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flock never took the lock")
		}
	}
	type result struct {
		out string
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := w.run(t, ask, args...)
		done <- result{out, err, time.Now()}
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("get did not wait for the lock: %q, %v", r.out, r.err)
	default:
	}
	killed := time.Now()
	holder.Process.Kill()
	holder.Wait()
	r := <-done
	if r.err != nil || r.out == "" {
		t.Fatalf("get = %q, %v", r.out, r.err)
	}
	if d := r.at.Sub(killed); d > 2*time.Second {
		t.Errorf("get went on %s after the holder died, want at once", d)
	}
	if n := w.count("POST", "/access_tokens"); n != 2 {
		t.Errorf("%d tokens minted, want 2", n)
	}
}

func TestCredShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/usr/bin/app-token":  "/usr/bin/app-token",
		"/Program Files/x":    "'/Program Files/x'",
		"it's":                `'it'\''s'`,
		"":                    "''",
		"$(rm -rf /)":         "'$(rm -rf /)'",
		"contents=read":       "contents=read",
		"C:\\Tools\\app.exe":  "'C:\\Tools\\app.exe'",
		"https://h:1/api/v3/": "https://h:1/api/v3/",
	} {
		if got := gitcred.ShellQuote(in); got != want {
			t.Errorf("gitcred.ShellQuote(%q) = %q, want %q", in, got, want)
		}
		if runtime.GOOS != "windows" {
			out, err := exec.Command("sh", "-c", "printf %s "+gitcred.ShellQuote(in)).Output()
			if err != nil || string(out) != in {
				t.Errorf("sh read %q back as %q (%v)", in, out, err)
			}
		}
	}
}

// BenchmarkCredentialWarmGet is one warm "credential get" in process: what
// the helper adds to a process start when the token is cached.
func BenchmarkCredentialWarmGet(b *testing.B) {
	em := emulator.NewWorld(testKey())
	api := httptest.NewServer(em)
	defer api.Close()
	dir := b.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, credKeyPEM(), 0o600)
	env := map[string]string{"APP_TOKEN_CACHE_DIR": filepath.Join(dir, "cache")}
	args := []string{"credential", "--client-id", emulator.WorldClientID, "--private-key-file", keyFile, "--api-url", api.URL, "--host", credGitHost, "get"}
	ask := credAsk(credGitHost, "octo-org/alpha.git")
	get := func() {
		var out bytes.Buffer
		if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(ask), &out, io.Discard); err != nil || out.Len() == 0 {
			b.Fatalf("get = %q, %v", out.String(), err)
		}
	}
	get()
	b.ResetTimer()
	for b.Loop() {
		get()
	}
	b.StopTimer()
	if n := len(em.Requests()); n != 2 {
		b.Errorf("%d requests, want the cold get's 2", n)
	}
}

// BenchmarkCredNewCLI is what every command pays before it runs: newCLI
// builds the HTTP client up front.
func BenchmarkCredNewCLI(b *testing.B) {
	getenv := func(string) string { return "" }
	for b.Loop() {
		newCLI(getenv, nil, io.Discard, io.Discard)
	}
}

// BenchmarkCredentialColdGet is one cold "credential get" in process:
// parse the key, two requests to the emulator (each with a fresh JWT), two
// cache files written.
func BenchmarkCredentialColdGet(b *testing.B) {
	em := emulator.NewWorld(testKey())
	api := httptest.NewServer(em)
	defer api.Close()
	dir := b.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, credKeyPEM(), 0o600)
	args := []string{"credential", "--client-id", emulator.WorldClientID, "--private-key-file", keyFile, "--api-url", api.URL, "--host", credGitHost, "get"}
	ask := credAsk(credGitHost, "octo-org/alpha.git")
	i := 0
	for b.Loop() {
		i++
		env := map[string]string{"APP_TOKEN_CACHE_DIR": filepath.Join(dir, strconv.Itoa(i))}
		var out bytes.Buffer
		if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(ask), &out, io.Discard); err != nil || out.Len() == 0 {
			b.Fatalf("get = %q, %v", out.String(), err)
		}
	}
}
