package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/signer/signertest"
)

// The signer tests run the commands with no private key anywhere in their
// environment: the App's key lives in local-kms (the real AWS SDK talks to
// it) or in a SoftHSM2 token (pkcs11_e2e_test.go), and the emulator, which
// knows only the App's public key, checks every JWT.

const (
	kmsAppKeyID    = "0a9e0000-0000-4000-8000-000000000001"
	kmsOtherKeyID  = "0a9e0000-0000-4000-8000-000000000002"
	kmsECKeyID     = "0a9e0000-0000-4000-8000-000000000003"
	kmsDoomedKeyID = "0a9e0000-0000-4000-8000-000000000004"
	// The AWS SDK's credentials: local-kms does not check them, and no
	// output may show the secret.
	kmsAccessKey = "AKIDAPPTOKENE2E"
	kmsSecret    = "e2e-aws-secret-never-shown-0123456789"
)

var (
	otherTestKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecTestKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// kmsWorld is local-kms holding the App's key (alias/app-token), an RSA key
// that is not the App's (alias/other-app), an EC key and a key the test
// disables, with the AWS SDK's credentials in the process environment,
// where its default chain finds them.
type kmsWorld struct {
	*signertest.LocalKMS
	env map[string]string // what a command's getenv adds
}

func startKMSWorld(t testing.TB) *kmsWorld {
	t.Helper()
	l := signertest.StartLocalKMS(t, []signertest.KMSKey{
		{ID: kmsAppKeyID, Usage: "SIGN_VERIFY", Key: testKey()},
		{ID: kmsOtherKeyID, Usage: "SIGN_VERIFY", Key: otherTestKey()},
		{ID: kmsECKeyID, Usage: "SIGN_VERIFY", Key: ecTestKey()},
		{ID: kmsDoomedKeyID, Usage: "SIGN_VERIFY", Key: testKey()},
	}, map[string]string{"alias/app-token": kmsAppKeyID, "alias/other-app": kmsOtherKeyID})
	// The SDK's credential chain reads the process's environment (it is
	// the SDK's, not app-token's getenv); no shared files, no instance
	// metadata.
	for k, v := range kmsProcessEnv() {
		t.Setenv(k, v)
	}
	return &kmsWorld{LocalKMS: l, env: map[string]string{"AWS_REGION": signertest.KMSRegion, "AWS_ENDPOINT_URL_KMS": l.Endpoint}}
}

func kmsProcessEnv() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID": kmsAccessKey, "AWS_SECRET_ACCESS_KEY": kmsSecret,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
	}
}

// with returns env plus the world's AWS settings.
func (k *kmsWorld) with(env map[string]string) map[string]string {
	for n, v := range k.env {
		env[n] = v
	}
	return env
}

// disable disables key id, as an administrator might.
func (k *kmsWorld) disable(t *testing.T, id string) {
	t.Helper()
	c := kms.New(kms.Options{Region: signertest.KMSRegion, BaseEndpoint: aws.String(k.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(kmsAccessKey, kmsSecret, "")})
	if _, err := c.DisableKey(t.Context(), &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}

// noSecrets fails when any output holds the App's key, the AWS secret or
// a PIN.
func noSecrets(t *testing.T, what string, outputs ...string) {
	t.Helper()
	secrets := []string{kmsSecret, hsmTestPIN}
	for _, l := range strings.Split(testKeyPEM(), "\n") {
		if len(l) > 20 && !strings.HasPrefix(l, "-----") {
			secrets = append(secrets, l)
		}
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: the output holds a secret: %.200q", what, out)
			}
		}
	}
}

// hsmTestPIN is the SoftHSM2 token's user PIN.
const hsmTestPIN = "8152-e2e-pin-never-shown"

func TestSignerAWSKMS(t *testing.T) {
	k := startKMSWorld(t)

	t.Run("token", func(t *testing.T) {
		w := newActWorld(t)
		env := k.with(map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_API_URL": w.url,
			"APP_TOKEN_SIGNER": "awskms://alias/app-token"})
		stdout, stderr, err := runEnv(t, env, "token", "--owner", "octo-org")
		if err != nil {
			t.Fatalf("token: %v (%s)", err, stderr)
		}
		if info, ok := w.emu.TokenInfo(strings.TrimSpace(stdout)); !ok || info.InstallationID != emulator.WorldOrgInstID {
			t.Errorf("stdout %q is not a token the emulator issued for octo-org", stdout)
		}
		noSecrets(t, "token", stdout, stderr)
		// The flag works as the variable does, and jwt signs through it too.
		delete(env, "APP_TOKEN_SIGNER")
		if stdout, stderr, err := runEnv(t, env, "jwt", "--signer", "awskms://"+kmsAppKeyID); err != nil || strings.Count(stdout, ".") != 2 {
			t.Errorf("jwt --signer = %q, %v (%s)", stdout, err, stderr)
		}
	})

	t.Run("action", func(t *testing.T) {
		w := newActWorld(t)
		env := k.with(w.env(map[string]string{"private-key": "", "private-key-signer": "awskms://alias/app-token", "owner": "octo-org"}))
		for n := range env {
			if strings.Contains(n, "PRIVATE-KEY") && n != "INPUT_PRIVATE-KEY-SIGNER" {
				t.Fatalf("the step's environment holds %s", n)
			}
		}
		stdout, stderr, err := runEnv(t, env, "action")
		if err != nil {
			t.Fatalf("action: %v\n%s%s", err, stdout, stderr)
		}
		token := w.outputs(t)["token"]
		if _, ok := w.emu.TokenInfo(token); !ok {
			t.Fatalf("the output token is not the emulator's; log:\n%s", stdout)
		}
		assertMaskedFirst(t, stdout, token)
		noSecrets(t, "action", stdout, stderr)
	})

	t.Run("key and signer both set", func(t *testing.T) {
		w := newActWorld(t)
		stdout, _, err := runEnv(t, k.with(w.env(map[string]string{"private-key-signer": "awskms://alias/app-token"})), "action")
		// The action fails a bad input with exit code 1, as for every input.
		if exitCode(err) != exitError || !strings.Contains(stdout, "private-key and private-key-signer are both set") {
			t.Errorf("action with both: exit %d, log:\n%s", exitCode(err), stdout)
		}
		if len(w.outputs(t)) != 0 {
			t.Error("outputs written")
		}
		env := cliEnv(t, w)
		env["APP_TOKEN_SIGNER"] = "awskms://alias/app-token"
		_, _, err = runEnv(t, env, "token", "--owner", "octo-org")
		if exitCode(err) != exitUsage || !strings.Contains(errString(err), "APP_TOKEN_PRIVATE_KEY_FILE and APP_TOKEN_SIGNER are both set") {
			t.Errorf("token with both: exit %d, %v", exitCode(err), err)
		}
	})

	// Each failure: one line, naming the signer's URI, the right exit
	// code, no secret; for the action, one ::error:: line and no outputs.
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	k.disable(t, kmsDoomedKeyID)
	// A role that may read the public key but not sign (kms:GetPublicKey
	// without kms:Sign): local-kms checks no permissions, so a proxy in
	// front of it answers Sign as AWS KMS answers a caller without it.
	target, _ := url.Parse(k.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	noSign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "TrentService.Sign" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/ci/job is not authorized to perform: kms:Sign on this resource because no identity-based policy allows the kms:Sign action"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(noSign.Close)
	for _, tc := range []struct {
		name, uri string
		env       map[string]string
		code      int
		want      string
	}{
		{"the wrong key", "awskms://alias/other-app", nil, exitAuth, `could not verify the app's JWT: check that the signer "awskms://alias/other-app"`},
		{"the wrong kind of key", "awskms://" + kmsECKeyID, nil, exitAuth, "wrong kind of key"},
		{"a missing key", "awskms://alias/no-such-key", nil, exitAuth, "no such key"},
		{"a disabled key", "awskms://" + kmsDoomedKeyID, nil, exitAuth, "refused"},
		{"a refused signature", "awskms://alias/app-token", map[string]string{"AWS_ENDPOINT_URL_KMS": noSign.URL}, exitAuth, "sign signer \"awskms://alias/app-token\": refused"},
		{"an unreachable KMS", "awskms://alias/app-token", map[string]string{"AWS_ENDPOINT_URL_KMS": closed}, exitError, "unreachable"},
		{"a malformed URI", "awskms:alias", nil, exitUsage, "invalid signer URI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newActWorld(t)
			env := k.with(map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_API_URL": w.url, "APP_TOKEN_SIGNER": tc.uri})
			for n, v := range tc.env {
				env[n] = v
			}
			stdout, stderr, err := runEnv(t, env, "token", "--owner", "octo-org")
			msg := errString(err)
			t.Log(msg)
			if exitCode(err) != tc.code || !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.uri) || strings.Contains(msg, "\n") {
				t.Errorf("token: exit %d, %q; want exit %d, one line naming %q and saying %q", exitCode(err), msg, tc.code, tc.uri, tc.want)
			}
			noSecrets(t, "token", stdout, stderr, msg)

			aenv := k.with(w.env(map[string]string{"private-key": "", "private-key-signer": tc.uri, "owner": "octo-org"}))
			for n, v := range tc.env {
				aenv[n] = v
			}
			stdout, stderr, err = runEnv(t, aenv, "action")
			code := tc.code
			if code == exitUsage {
				code = exitError // the action's exit code for a bad input
			}
			if exitCode(err) != code || strings.Count(stdout, "::error::") != 1 || !strings.Contains(stdout, tc.uri) {
				t.Errorf("action: exit %d, log:\n%s", exitCode(err), stdout)
			}
			if len(w.outputs(t)) != 0 {
				t.Error("outputs written")
			}
			noSecrets(t, "action", stdout, stderr)
		})
	}
}

// TestSignerCredentialWithGit runs real git with the built binary as its
// credential helper, configured by setup-git --signer: no key file exists
// anywhere, the helper signs through local-kms and caches its token
// sealed with the signer's signature, in a folder of its own.
func TestSignerCredentialWithGit(t *testing.T) {
	credNeedGit(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	k := startKMSWorld(t)
	bin := credBuild(t, t.TempDir())
	w := newCredWorld(t)
	os.Remove(w.keyFile)
	root := filepath.Join(w.dir, "srv")
	credRepos(t, root, "octo-org/alpha", "octo-org/beta")
	gitSrv := newCredGitServer(t, w.em, root)
	cacheDir := w.env["APP_TOKEN_CACHE_DIR"]
	env := credGitEnv(w.dir, "APP_TOKEN_CACHE_DIR="+cacheDir, "AWS_REGION="+signertest.KMSRegion, "AWS_ENDPOINT_URL_KMS="+k.Endpoint)
	for n, v := range kmsProcessEnv() {
		env = append(env, n+"="+v)
	}
	cmd := exec.Command(bin, "setup-git", "--host", gitSrv.URL, "--client-id", emulator.WorldClientID,
		"--signer", "awskms://alias/app-token", "--api-url", w.api.URL)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup-git: %v\n%s", err, out)
	}
	if helper := credMustGit(t, env, w.dir, "config", "--global", "--get-all", "credential."+gitSrv.URL+".helper"); !strings.Contains(helper, " --signer awskms://alias/app-token ") {
		t.Errorf("the helper line %q does not carry the signer", helper)
	}
	work := t.TempDir()
	for _, repo := range []string{"alpha", "beta"} {
		out, err := credRunGit(t, env, work, "", "clone", "--progress", gitSrv.URL+"/octo-org/"+repo+".git")
		if err != nil {
			t.Fatalf("clone: %v\n%s", err, out)
		}
		noSecrets(t, "git clone", out)
	}
	if n := w.count("POST", "/access_tokens"); n != 1 {
		t.Errorf("%d tokens minted for two clones, want 1 (the second from the cache)", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "git-credential-signer")); len(entries) != 1 {
		t.Errorf("the signer's cache folder holds %d folders, want 1", len(entries))
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "git-credential")); err == nil {
		t.Error("the signer's tokens went to the file key's cache folder")
	}

	// A PIN is refused in git's configuration.
	_, _, err := w.run(t, "", "setup-git", "--file", filepath.Join(w.dir, "pin.gitconfig"), "--signer", "pkcs11:token=t;object=o?module-path=/m.so&pin-value="+hsmTestPIN)
	if exitCode(err) != exitUsage || strings.Contains(errString(err), hsmTestPIN) || !strings.Contains(errString(err), "pin-source") {
		t.Errorf("setup-git with a pin-value: %v", err)
	}
}

// TestSignerActionUnderNode runs action.yml's main launcher with node, as
// the runner does, with private-key-signer and no private-key: the
// launcher's binary (a CGO_ENABLED=0 source build) signs through local-kms.
func TestSignerActionUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the action's launchers are JavaScript and need node (20 or later)")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	k := startKMSWorld(t)
	w := newActWorld(t)
	toolCache := t.TempDir()
	stepEnv := func(signer string) []string {
		var env []string
		for _, kv := range runnerEnv(w, toolCache, map[string]string{"owner": "octo-org", "private-key-signer": signer}) {
			if !strings.HasPrefix(kv, "INPUT_PRIVATE-KEY=") {
				env = append(env, kv)
			}
		}
		for n, v := range k.with(kmsProcessEnv()) {
			env = append(env, n+"="+v)
		}
		return env
	}
	cmd := exec.Command(node, runsEntry(t, "main"))
	cmd.Env = stepEnv("awskms://alias/app-token")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("main step: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderrOf(err))
	}
	token := w.outputs(t)["token"]
	if _, ok := w.emu.TokenInfo(token); !ok {
		t.Fatalf("the output token is not the emulator's; log:\n%s", out)
	}
	assertMaskedFirst(t, string(out), token)
	noSecrets(t, "main step", string(out), stderrOf(err))

	// The launcher's binary is a CGO_ENABLED=0 build: a pkcs11: URI gets
	// one line saying so (README: what HSM users do), exit code 1.
	os.WriteFile(filepath.Join(w.dir, "output"), nil, 0o600)
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte(hsmTestPIN), 0o600)
	cmd = exec.Command(node, runsEntry(t, "main"))
	cmd.Env = stepEnv("pkcs11:token=app-token;object=app-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:" + pin)
	out, err = cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(string(out), "::error::") != 1 || !strings.Contains(string(out), "built without cgo") {
		t.Errorf("pkcs11 under the launcher: %v, log:\n%s", err, out)
	}
	if len(w.outputs(t)) != 0 {
		t.Error("outputs written")
	}
	noSecrets(t, "main step", string(out), stderrOf(err))
}

// TestKeyAndSignerExclusive: a private key and a signer, in any spelling,
// are a usage error naming both, before anything is read or opened.
func TestKeyAndSignerExclusive(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--private-key-file", w.keyFile, "--signer", "awskms://alias/a"}, "--private-key-file and --signer are both set"},
		{map[string]string{"APP_TOKEN_PRIVATE_KEY": "-----BEGIN"}, []string{"--signer", "awskms://alias/a"}, "APP_TOKEN_PRIVATE_KEY and --signer are both set"},
		{map[string]string{"APP_TOKEN_SIGNER": "awskms://alias/a"}, []string{"--private-key-file", w.keyFile}, "--private-key-file and APP_TOKEN_SIGNER are both set"},
	} {
		for _, cmd := range [][]string{{"token", "--owner", "octo-org"}, {"jwt"}, {"credential", "get"}, {"setup-git", "--file", filepath.Join(w.dir, "gitconfig")}} {
			env := map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_API_URL": w.api.URL, "HOME": w.env["HOME"]}
			for k, v := range tc.env {
				env[k] = v
			}
			args := append(append([]string{}, cmd...), tc.args...)
			if cmd[0] == "credential" {
				args = append(append([]string{"credential"}, tc.args...), "get")
			}
			_, _, err := runEnv(t, env, args...)
			if exitCode(err) != exitUsage || !strings.Contains(errString(err), tc.want) {
				t.Errorf("%q: exit %d, %v; want a usage error saying %q", args, exitCode(err), err, tc.want)
			}
		}
	}
	if len(w.em.Requests()) != 0 {
		t.Errorf("%d requests reached GitHub", len(w.em.Requests()))
	}
}
