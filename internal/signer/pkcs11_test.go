//go:build cgo

package signer

import (
	"crypto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The PKCS#11 tests run crypto11 against SoftHSM2 (Debian's softhsm2,
// installed by .ci/install-tools.sh when missing), with a token the test
// initialises in a temporary folder and the App's key imported into it.

const hsmPIN = "4711-hsm-pin-never-shown"

type softHSM struct {
	module, pinFile string
}

// startSoftHSM initialises a token "app-token" holding the App's key (label
// app-key, id a1) and an EC key (label ec-key, id e1). SoftHSM reads
// SOFTHSM2_CONF from the environment when its module is loaded, so the
// tests that use it cannot run in parallel.
func startSoftHSM(tb testing.TB) softHSM {
	tb.Helper()
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		tb.Log("softhsm2-util is not installed: installing it with .ci/install-tools.sh")
		installTool(tb, "softhsm2")
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
	run("--init-token", "--free", "--label", "app-token", "--so-pin", "so-"+hsmPIN, "--pin", hsmPIN)
	appPEM := filepath.Join(dir, "app.pem")
	ecPEM := filepath.Join(dir, "ec.pem")
	os.WriteFile(appPEM, []byte(pkcs8PEM(tb, appKey())), 0o600)
	os.WriteFile(ecPEM, []byte(pkcs8PEM(tb, ecKey())), 0o600)
	run("--import", appPEM, "--token", "app-token", "--label", "app-key", "--id", "a1", "--pin", hsmPIN)
	run("--import", ecPEM, "--token", "app-token", "--label", "ec-key", "--id", "e1", "--pin", hsmPIN)
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(hsmPIN+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return softHSM{module: module, pinFile: pinFile}
}

func init() {
	benchPKCS11 = func(b *testing.B) crypto.Signer {
		h := startSoftHSM(b)
		s, err := Open(b.Context(), h.uri("token=app-token;object=app-key"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.(*Signer).Close() })
		return s
	}
}

// uri is a pkcs11: URI for path attributes on h's token, with the PIN from
// the pin file.
func (h softHSM) uri(path string) string {
	return "pkcs11:" + path + "?module-path=" + h.module + "&pin-source=file:" + h.pinFile
}

func TestPKCS11(t *testing.T) {
	h := startSoftHSM(t)
	ctx := t.Context()
	secrets := append(keyLines(pkcs8PEM(t, appKey())), hsmPIN, "0000-wrong-pin")

	// First, with no session logged in (SoftHSM keeps one login per
	// process): a wrong PIN is refused, and the error shows no PIN.
	t.Run("wrong PIN", func(t *testing.T) {
		uri := "pkcs11:token=app-token;object=app-key?module-path=" + h.module + "&pin-value=0000-wrong-pin"
		_, err := Open(ctx, uri)
		e := checkErr(t, err, Refused, "pin-value=REDACTED", secrets...)
		if !strings.Contains(e.Hint, "PIN") {
			t.Errorf("hint %q does not say to check the PIN", e.Hint)
		}
	})

	t.Run("sign and mint", func(t *testing.T) {
		for _, uri := range []string{
			h.uri("token=app-token;object=app-key"),
			h.uri("token=app%2Dtoken;id=%A1;type=private"),
			"pkcs11:token=app-token;object=app-key;id=%a1?module-path=" + url.PathEscape(h.module) + "&pin-value=" + hsmPIN,
		} {
			s, err := Open(ctx, uri)
			if err != nil {
				t.Fatalf("Open(%q): %v", Redact(uri), err)
			}
			if strings.Contains(s.(*Signer).String(), hsmPIN) {
				t.Errorf("the signer formats as %q, with its PIN", s)
			}
			verifies(t, s, &appKey().PublicKey)
			mint(t, s, appKey())
			if err := s.(*Signer).Close(); err != nil {
				t.Error(err)
			}
		}
	})

	for _, tc := range []struct {
		name, uri string
		kind      Kind
	}{
		{"an EC key", h.uri("token=app-token;object=ec-key"), WrongKey},
		{"a missing key", h.uri("token=app-token;object=no-such-key"), NotFound},
		{"a missing token", h.uri("token=no-such-token;object=app-key"), NotFound},
		{"a missing module", "pkcs11:token=app-token;object=app-key?module-path=/nonexistent/libpkcs11.so&pin-source=" + h.pinFile, Unreachable},
		{"a missing pin file", "pkcs11:token=app-token;object=app-key?module-path=" + h.module + "&pin-source=/nonexistent/pin", Unreachable},
		{"no module", "pkcs11:token=app-token;object=app-key?pin-value=" + hsmPIN, Invalid},
		{"a misspelt attribute", "pkcs11:token=app-token;objet=app-key?module-path=" + h.module + "&pin-value=" + hsmPIN, Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.uri)
			checkErr(t, err, tc.kind, Redact(tc.uri), secrets...)
		})
	}
}
