package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/emulator"
)

// testKey is the test App's key, generated once per test binary.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

func testKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))
}

// actWorld is an emulator served over HTTP and a runner's step files.
type actWorld struct {
	emu *emulator.Server
	url string
	dir string
}

func newActWorld(t *testing.T, opts ...emulator.Option) *actWorld {
	t.Helper()
	emu := emulator.NewWorld(testKey(), opts...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := emu.Unexpected(); len(u) > 0 {
			t.Errorf("requests the emulator does not know: %v", u)
		}
	})
	return &actWorld{emu: emu, url: srv.URL, dir: t.TempDir()}
}

// env returns a main step's environment as the runner gives it: inputs
// as INPUT_<NAME> with hyphens kept, output and state files.
func (w *actWorld) env(inputs map[string]string) map[string]string {
	out, state := filepath.Join(w.dir, "output"), filepath.Join(w.dir, "state")
	os.WriteFile(out, nil, 0o600)
	os.WriteFile(state, nil, 0o600)
	env := map[string]string{
		"GITHUB_ACTIONS":          "true",
		"GITHUB_REPOSITORY":       "octo-org/alpha",
		"GITHUB_REPOSITORY_OWNER": "octo-org",
		"GITHUB_OUTPUT":           out,
		"GITHUB_STATE":            state,
		"INPUT_CLIENT-ID":         emulator.WorldClientID,
		"INPUT_PRIVATE-KEY":       testKeyPEM(),
		"INPUT_GITHUB-API-URL":    w.url,
		"INPUT_SKIP-TOKEN-REVOKE": "false",
	}
	for k, v := range inputs {
		if v == "" {
			delete(env, "INPUT_"+strings.ToUpper(k))
			continue
		}
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	return env
}

func (w *actWorld) outputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	return actionenv.ReadFileCommands(string(b))
}

func (w *actWorld) state(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	return actionenv.ReadFileCommands(string(b))
}

// runEnv runs app-token with env as its whole environment and instant waits.
func runEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	c.environ = func() []string {
		list := make([]string, 0, len(env))
		for k, v := range env {
			list = append(list, k+"="+v)
		}
		return list
	}
	c.wait = func(context.Context, time.Duration) error { return nil }
	err = c.run(t.Context(), args)
	return out.String(), errb.String(), err
}

// assertMaskedFirst checks that secret is masked before it appears anywhere
// else in the log, and appears nowhere but in masks.
func assertMaskedFirst(t *testing.T, log, secret string) {
	t.Helper()
	first := strings.Index(log, secret)
	if first < 0 || !strings.HasSuffix(log[:first], "::add-mask::") {
		t.Errorf("the secret's first appearance is not an ::add-mask:: line")
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, secret) && line != "::add-mask::"+secret {
			t.Errorf("the secret appears outside an ::add-mask:: line: %.60q", line)
		}
	}
}

func TestActionResolution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		inputs   map[string]string
		paths    []string
		repos    []string
		inst     string
		wantSlug string
	}{
		{"current repository", nil,
			[]string{"/repos/octo-org/alpha/installation", "/app/installations/101/access_tokens"}, []string{"alpha"}, "101", "octo-app"},
		{"owner only", map[string]string{"owner": "octocat"},
			[]string{"/users/octocat/installation", "/app/installations/102/access_tokens"}, nil, "102", "octo-app"},
		{"repositories without owner", map[string]string{"repositories": "beta\ngamma"},
			[]string{"/repos/octo-org/beta/installation", "/app/installations/101/access_tokens"}, []string{"beta", "gamma"}, "101", "octo-app"},
		{"owner and repositories", map[string]string{"owner": "octocat", "repositories": " hello-world ,"},
			[]string{"/repos/octocat/hello-world/installation", "/app/installations/102/access_tokens"}, []string{"hello-world"}, "102", "octo-app"},
		{"qualified repositories", map[string]string{"repositories": "octocat/hello-world"},
			[]string{"/repos/octocat/hello-world/installation", "/app/installations/102/access_tokens"}, []string{"hello-world"}, "102", "octo-app"},
		{"installation-id", map[string]string{"installation-id": "101"},
			[]string{"/app/installations/101/access_tokens"}, nil, "101", ""},
		{"app-id instead of client-id", map[string]string{"client-id": "", "app-id": "1", "owner": "octo-org"},
			[]string{"/users/octo-org/installation", "/app/installations/101/access_tokens"}, nil, "101", "octo-app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newActWorld(t)
			stdout, stderr, err := runEnv(t, w.env(tc.inputs), "action")
			if err != nil {
				t.Fatalf("action failed: %v\n%s%s", err, stdout, stderr)
			}
			var paths []string
			for _, r := range w.emu.Requests() {
				paths = append(paths, r.Path)
			}
			if !slices.Equal(paths, tc.paths) {
				t.Errorf("requests = %q, want %q", paths, tc.paths)
			}
			out := w.outputs(t)
			info, ok := w.emu.TokenInfo(out["token"])
			if !ok {
				t.Fatalf("output token was not issued by the emulator")
			}
			if !slices.Equal(info.Repositories, tc.repos) {
				t.Errorf("token repositories = %q, want %q", info.Repositories, tc.repos)
			}
			if out["installation-id"] != tc.inst || out["app-slug"] != tc.wantSlug {
				t.Errorf("installation-id, app-slug = %q, %q; want %q, %q", out["installation-id"], out["app-slug"], tc.inst, tc.wantSlug)
			}
			if got, want := out["expires-at"], info.ExpiresAt.UTC().Format(time.RFC3339); got != want {
				t.Errorf("expires-at = %q, want GitHub's %q", got, want)
			}
			if st := w.state(t); st["token"] != out["token"] {
				t.Errorf("state token differs from output token")
			}
			assertMaskedFirst(t, stdout, out["token"])
			if tc.inputs["app-id"] != "" && !strings.Contains(stdout, "::warning::app-id is deprecated") {
				t.Errorf("no deprecation warning for app-id:\n%s", stdout)
			}
		})
	}
}

func TestActionPermissions(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	_, _, err := runEnv(t, w.env(map[string]string{"owner": "octo-org", "permission-pull-requests": "write", "permission-contents": "read"}), "action")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := w.emu.TokenInfo(w.outputs(t)["token"])
	if len(info.Permissions) != 2 || info.Permissions["pull_requests"] != "write" || info.Permissions["contents"] != "read" {
		t.Errorf("token permissions = %v, want pull_requests:write contents:read", info.Permissions)
	}
}

// TestActionKeyEncodings feeds the key as people paste it; when it is not
// the PEM as is, every PEM line must be masked before anything else.
func TestActionKeyEncodings(t *testing.T) {
	t.Parallel()
	p := testKeyPEM()
	for name, key := range map[string]string{
		"base64":      base64.StdEncoding.EncodeToString([]byte(p)),
		"escaped \\n": strings.ReplaceAll(strings.TrimSpace(p), "\n", `\n`),
		"PKCS#8": func() string {
			der, _ := x509.MarshalPKCS8PrivateKey(testKey())
			return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newActWorld(t)
			stdout, _, err := runEnv(t, w.env(map[string]string{"private-key": key}), "action")
			if err != nil {
				t.Fatal(err)
			}
			if name == "PKCS#8" {
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(p), "\n") {
				if !strings.Contains(stdout, "::add-mask::"+line+"\n") {
					t.Fatalf("PEM line %.20q… not masked", line)
				}
			}
		})
	}
}

func TestActionErrors(t *testing.T) {
	t.Parallel()
	openssh := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----"
	cases := []struct {
		name   string
		inputs map[string]string
		extra  map[string]string
		want   []string
		auth   bool
	}{
		{"no client-id", map[string]string{"client-id": ""}, nil, []string{"client-id: missing"}, false},
		{"no private key", map[string]string{"private-key": ""}, nil, []string{"private-key: missing"}, false},
		{"OpenSSH key", map[string]string{"private-key": openssh}, nil, []string{"private-key: an OpenSSH private key", "paste"}, true},
		{"bad level", map[string]string{"permission-contents": "admin"}, nil, []string{`permission-contents: "admin" is not a valid level for contents: use "read" or "write"`}, false},
		{"unknown permission", nil, map[string]string{"INPUT_PERMISSION-PULL-REQUEST": "write"}, []string{`permission-pull-request: "pull_request" is not a permission`, `did you mean "pull_requests"`}, false},
		{"every problem at once", map[string]string{"client-id": "", "repositories": "other/x", "owner": "octo-org", "skip-token-revoke": "yes"}, nil,
			[]string{"client-id: missing", `repositories: "other/x" belongs to "other"`, `skip-token-revoke: "yes" is not a boolean`}, false},
		{"not installed", map[string]string{"repositories": "nope"}, nil, []string{"the app is not installed on octo-org/nope", "set owner"}, false},
		{"repository outside installation", map[string]string{"owner": "octocat", "repositories": "hello-world,other"}, nil,
			[]string{"cannot reach every repository in repositories (hello-world, other)"}, false},
		{"permission not granted", map[string]string{"owner": "octocat", "permission-issues": "write"}, nil,
			[]string{"was not granted issues: write (it has none; lower permission-issues)"}, false},
		{"bad API URL", map[string]string{"github-api-url": "ftp://x"}, nil, []string{"github-api-url:"}, false},
		{"wrong app", map[string]string{"client-id": "Iv23liNOPE"}, nil, []string{`GitHub knows no app "Iv23liNOPE": check client-id`}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newActWorld(t)
			env := w.env(tc.inputs)
			for k, v := range tc.extra {
				env[k] = v
			}
			stdout, stderr, err := runEnv(t, env, "action")
			if err == nil {
				t.Fatal("action succeeded")
			}
			if code := exitCode(err); (code == exitAuth) != tc.auth || code == exitOK {
				t.Errorf("exit code %d (auth expected: %v)", code, tc.auth)
			}
			var errLines []string
			for _, l := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(l, "::error") {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 {
				t.Fatalf("%d ::error:: lines, want 1:\n%s", len(errLines), stdout)
			}
			for _, want := range tc.want {
				if !strings.Contains(errLines[0], escapeCommand(want)) {
					t.Errorf("error %q lacks %q", errLines[0], want)
				}
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing (errors go in ::error::)", stderr)
			}
			if out := w.outputs(t); len(out) != 0 {
				t.Errorf("outputs written on failure: %v", out)
			}
			if st := w.state(t); st["token"] != "" {
				t.Errorf("state token saved on failure")
			}
			if strings.Contains(stdout, "BEGIN OPENSSH") || strings.Contains(stdout, strings.Split(testKeyPEM(), "\n")[1]) {
				t.Error("the key leaked into the log")
			}
		})
	}
}

// escapeCommand escapes as workflow commands do (%, CR, LF).
func escapeCommand(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func TestActionOutsideRunner(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := w.env(nil)
	delete(env, "GITHUB_OUTPUT")
	stdout, _, err := runEnv(t, env, "action")
	if err == nil || !strings.Contains(stdout, "GITHUB_OUTPUT not set") || len(w.emu.Requests()) != 0 {
		t.Errorf("err=%v, log=%q, requests=%d", err, stdout, len(w.emu.Requests()))
	}
}

// runMainThenPost runs the main step, then the post step with the state the
// main step saved, as the runner would.
func runMainThenPost(t *testing.T, w *actWorld, inputs map[string]string, edit func(post map[string]string)) (token, postLog string) {
	t.Helper()
	env := w.env(inputs)
	if _, _, err := runEnv(t, env, "action"); err != nil {
		t.Fatal(err)
	}
	token = w.outputs(t)["token"]
	post := maps(env)
	for k, v := range w.state(t) {
		post["STATE_"+k] = v
	}
	if edit != nil {
		edit(post)
	}
	postLog, stderr, err := runEnv(t, post, "action-post")
	if err != nil || stderr != "" {
		t.Fatalf("post step: err=%v stderr=%q", err, stderr)
	}
	return token, postLog
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestActionPostRevokes(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	token, log := runMainThenPost(t, w, nil, nil)
	if info, _ := w.emu.TokenInfo(token); !info.Revoked {
		t.Error("token not revoked")
	}
	if !strings.Contains(log, "Token revoked.") {
		t.Errorf("post log: %q", log)
	}
	assertMaskedFirst(t, log, token)
}

func TestActionPostSkips(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		inputs map[string]string
		edit   func(map[string]string)
		want   string
	}{
		"skip-token-revoke": {map[string]string{"skip-token-revoke": "true"}, nil, "revocation skipped"},
		"expired": {nil, func(p map[string]string) {
			p["STATE_expires-at"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		}, "already expired"},
		"no token": {nil, func(p map[string]string) { delete(p, "STATE_token") }, "No token to revoke"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newActWorld(t)
			token, log := runMainThenPost(t, w, tc.inputs, tc.edit)
			if info, _ := w.emu.TokenInfo(token); info.Revoked {
				t.Error("token revoked")
			}
			if !strings.Contains(log, tc.want) {
				t.Errorf("post log %q lacks %q", log, tc.want)
			}
			if n := len(w.emu.Requests()); n != 2 {
				t.Errorf("%d requests, want only the main step's 2", n)
			}
		})
	}
}

func TestActionPostFailedRevokeWarns(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	w.emu.Inject(emulator.Fault{Method: "DELETE", Status: 500, Times: 10})
	token, log := runMainThenPost(t, w, nil, nil)
	if !strings.Contains(log, "::warning::could not revoke the token") {
		t.Errorf("post log lacks a warning: %q", log)
	}
	if strings.Contains(strings.ReplaceAll(log, "::add-mask::"+token, ""), token) {
		t.Error("token leaked into the warning")
	}
}

func TestActionDebugLines(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := w.env(map[string]string{"owner": "octo-org"})
	env["RUNNER_DEBUG"] = "1"
	stdout, _, err := runEnv(t, env, "action")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"::debug::GET /users/octo-org/installation: 200 in ", "::debug::POST /app/installations/101/access_tokens: 201 in "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	assertMaskedFirst(t, stdout, w.outputs(t)["token"])
	// Without RUNNER_DEBUG, no debug lines.
	w2 := newActWorld(t)
	quiet, _, _ := runEnv(t, w2.env(nil), "action")
	if strings.Contains(quiet, "::debug::") {
		t.Error("debug lines without RUNNER_DEBUG")
	}
}

func TestActionClockSkew(t *testing.T) {
	t.Parallel()
	for _, shift := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
		w := newActWorld(t)
		w.emu.Shift(shift)
		if _, _, err := runEnv(t, w.env(nil), "action"); err != nil {
			t.Errorf("GitHub's clock %v off: %v", shift, err)
		}
	}
}

func TestActionRetries(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	w.emu.Inject(emulator.Fault{Path: "/repos/", Status: 503, Times: 2})
	w.emu.Inject(emulator.Fault{Method: "POST", Drop: true})
	if _, _, err := runEnv(t, w.env(nil), "action"); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.emu.TokenInfo(w.outputs(t)["token"]); !ok {
		t.Error("no valid token after retries")
	}
}

func TestActionGHES(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	if _, _, err := runEnv(t, w.env(map[string]string{"github-api-url": w.url + "/api/v3"}), "action"); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.emu.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") {
			t.Errorf("%s %s is outside /api/v3", r.Method, r.Path)
		}
	}
}

// TestActionProxyFromEnvironment points the action at a host that does not
// exist, over https; only the proxy named by HTTPS_PROXY can reach it (it
// tunnels to the emulator, served with a certificate for that host), and
// NO_PROXY turns the proxy off.
func TestActionProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	const host = "ghe.invalid"
	api, roots := newTLSServer(t, host, w.emu)
	var tunnels atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != host+":443" {
			t.Errorf("proxy asked for %s %q", r.Method, r.Host)
			http.Error(rw, "no", http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		upstream, err := net.Dial("tcp", api.Listener.Addr().String())
		if err != nil {
			t.Errorf("dial the emulator: %v", err)
			return
		}
		conn, _, err := http.NewResponseController(rw).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(upstream, conn); upstream.Close() }()
		io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(proxy.Close)
	env := w.env(map[string]string{"github-api-url": "https://" + host + "/api/v3"})
	env["HTTPS_PROXY"] = proxy.URL
	run := func() error {
		c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
		c.http.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
		c.wait = func(context.Context, time.Duration) error { return nil }
		return c.run(t.Context(), []string{"action"})
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if tunnels.Load() == 0 {
		t.Error("no request went through the proxy")
	}
	before := tunnels.Load()
	env["NO_PROXY"] = host
	if err := run(); err == nil {
		t.Error("with NO_PROXY the unresolvable host was reached anyway")
	}
	if tunnels.Load() != before {
		t.Error("NO_PROXY ignored")
	}
}

// TestActionRefusesPlainHTTP: an http:// API URL off loopback would send
// the App's JWT and the token in clear (issue 9, finding 6).
func TestActionRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	var reached atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(proxy.Close)
	env := w.env(map[string]string{"github-api-url": "http://ghe.invalid/api/v3"})
	env["HTTP_PROXY"] = proxy.URL
	stdout, _, err := runEnv(t, env, "action")
	if exitCode(err) != exitError || !strings.Contains(stdout, "::error::github-api-url: ") || !strings.Contains(stdout, "plain http is only for loopback hosts") {
		t.Errorf("action with http://ghe.invalid = %v\n%s", err, stdout)
	}
	if reached.Load() != 0 || len(w.emu.Requests()) != 0 {
		t.Error("a request was sent over plain http")
	}
}

// newTLSServer serves h over TLS with a certificate for host, and returns
// the pool that trusts it.
func newTLSServer(t *testing.T, host string, h http.Handler) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, roots
}

// TestActionTokenShapes checks that classic and long stateless tokens both
// pass through outputs intact.
func TestActionTokenShapes(t *testing.T) {
	t.Parallel()
	for _, style := range []emulator.TokenStyle{emulator.TokenClassic, emulator.TokenStateless} {
		w := newActWorld(t, emulator.WithTokenStyle(style))
		stdout, _, err := runEnv(t, w.env(nil), "action")
		if err != nil {
			t.Fatal(err)
		}
		tok := w.outputs(t)["token"]
		if _, ok := w.emu.TokenInfo(tok); !ok {
			t.Errorf("style %d: output token %d chars is not the issued one", style, len(tok))
		}
		if style == emulator.TokenStateless && (len(tok) < 400 || !strings.Contains(tok, ".")) {
			t.Errorf("stateless token is %d chars", len(tok))
		}
		assertMaskedFirst(t, stdout, tok)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]int{
		nil:                         exitOK,
		errors.New("x"):             exitError,
		usagef("x"):                 exitUsage,
		&authError{errors.New("x")}: exitAuth,
		errSilent:                   exitError,
		errSilentAuth:               exitAuth,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// TestActionSetupGitUsesTheTokensHost: git gets the token for the host of
// the API URL that minted it, not for GITHUB_SERVER_URL's (issue 9, finding
// 3: with github-api-url on another host, git got that host's token for
// github.com).
func TestActionSetupGitUsesTheTokensHost(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	w := newActWorld(t)
	env := w.env(map[string]string{"setup-git": "true"})
	env["GITHUB_SERVER_URL"] = "https://github.com"
	env["RUNNER_TEMP"] = t.TempDir()
	gitEnv := credGitEnv(w.dir)
	for _, kv := range gitEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	stdout, stderr, err := runEnv(t, env, "action")
	if err != nil {
		t.Fatalf("action: %v\n%s%s", err, stdout, stderr)
	}
	list := credMustGit(t, gitEnv, w.dir, "config", "--global", "--list")
	if strings.Contains(list, "credential.https://github.com.") {
		t.Errorf("git is configured for github.com with the emulator's token:\n%s", list)
	}
	if !strings.Contains(list, "credential."+w.url+".helper=") {
		t.Errorf("git is not configured for %s, the token's host:\n%s", w.url, list)
	}
	post := maps(env)
	for k, v := range w.state(t) {
		post["STATE_"+k] = v
	}
	if _, _, err := runEnv(t, post, "action-post"); err != nil {
		t.Fatal(err)
	}
	if list := credMustGit(t, gitEnv, w.dir, "config", "--global", "--list"); strings.Contains(list, "credential.") {
		t.Errorf("the post step left git configured:\n%s", list)
	}
}

// TestActionRevokesWhenStateCannotBeSaved: without GITHUB_STATE there is no
// post step to revoke the token, so the main step does (issue 9, finding 9).
func TestActionRevokesWhenStateCannotBeSaved(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := w.env(nil)
	env["GITHUB_STATE"] = t.TempDir() // a folder: the write fails
	stdout, _, err := runEnv(t, env, "action")
	if err == nil || !strings.Contains(stdout, "::error::write GITHUB_STATE") {
		t.Fatalf("action = %v\n%s", err, stdout)
	}
	var minted, revoked int
	for _, r := range w.emu.Requests() {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/access_tokens") && r.Status == http.StatusCreated:
			minted++
		case r.Method == http.MethodDelete && r.Path == "/installation/token" && r.Status == http.StatusNoContent:
			revoked++
		}
	}
	if minted != 1 || revoked != 1 {
		t.Errorf("%d tokens minted, %d revoked; want the one minted revoked", minted, revoked)
	}
	if out := w.outputs(t); len(out) != 0 {
		t.Errorf("outputs written: %v", out)
	}
}
