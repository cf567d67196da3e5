package signertest

import (
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// HSMKey is a key SoftHSM2 is given: its label and id (hex) on the token.
type HSMKey struct {
	Label, ID string
	Key       crypto.PrivateKey
}

// SoftHSM is a SoftHSM2 token the test initialised.
type SoftHSM struct {
	// Module is the PKCS#11 module's path; PINFile holds the user PIN.
	Module, PINFile string
	// Conf is the SOFTHSM2_CONF file naming the token's folder.
	Conf string
}

// StartSoftHSM initialises a token labelled token, with user PIN pin,
// holding keys, in a temporary folder. SoftHSM reads SOFTHSM2_CONF from the
// environment when its module is loaded, so StartSoftHSM sets it for the
// test (tb.Setenv): such tests cannot run in parallel. A child process
// needs Conf in its environment.
func StartSoftHSM(tb testing.TB, token, pin string, keys ...HSMKey) SoftHSM {
	tb.Helper()
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		tb.Log("softhsm2-util is not installed: installing it with .ci/install-tools.sh")
		InstallTool(tb, "softhsm2")
	}
	module := ""
	for _, m := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so", "/opt/homebrew/lib/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	if module == "" {
		tb.Fatal("softhsm2 is installed but libsofthsm2.so is in none of the usual places")
	}
	dir := tb.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("SOFTHSM2_CONF", conf)
	run := func(args ...string) {
		tb.Helper()
		if out, err := exec.Command("softhsm2-util", args...).CombinedOutput(); err != nil {
			tb.Fatalf("softhsm2-util %s: %v\n%s", args[0], err, out)
		}
	}
	run("--init-token", "--free", "--label", token, "--so-pin", "so-"+pin, "--pin", pin)
	for _, k := range keys {
		p := filepath.Join(dir, k.Label+".pem")
		if err := os.WriteFile(p, []byte(PKCS8PEM(tb, k.Key)), 0o600); err != nil {
			tb.Fatal(err)
		}
		run("--import", p, "--token", token, "--label", k.Label, "--id", k.ID, "--pin", pin)
		os.Remove(p)
	}
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(pin+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return SoftHSM{Module: module, PINFile: pinFile, Conf: conf}
}

// URI is a pkcs11: URI for the path attributes on h's token, with the PIN
// from the PIN file.
func (h SoftHSM) URI(path string) string {
	return "pkcs11:" + path + "?module-path=" + h.Module + "&pin-source=file:" + h.PINFile
}
