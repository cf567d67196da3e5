//go:build cgo

package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/signer/signertest"
)

// TestSignerPKCS11 mints through the App's key in a SoftHSM2 token (loaded
// by crypto11, which needs cgo): `token` with the PIN in a file, and the
// action with the PIN in the URI (pin-value), masked before anything else
// is written.
func TestSignerPKCS11(t *testing.T) {
	h := signertest.StartSoftHSM(t, "app-token", hsmTestPIN, signertest.HSMKey{Label: "app-key", ID: "a1", Key: testKey()})

	t.Run("token", func(t *testing.T) {
		w := newActWorld(t)
		env := map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_API_URL": w.url,
			"APP_TOKEN_SIGNER": h.URI("token=app-token;object=app-key")}
		stdout, stderr, err := runEnv(t, env, "token", "--owner", "octo-org")
		if err != nil {
			t.Fatalf("token: %v (%s)", err, stderr)
		}
		if _, ok := w.emu.TokenInfo(strings.TrimSpace(stdout)); !ok {
			t.Errorf("stdout %q is not a token the emulator issued", stdout)
		}
		noSecrets(t, "token", stdout, stderr)
	})

	t.Run("action with pin-value", func(t *testing.T) {
		w := newActWorld(t)
		uri := "pkcs11:token=app-token;object=app-key?module-path=" + url.PathEscape(h.Module) + "&pin-value=" + hsmTestPIN
		stdout, stderr, err := runEnv(t, w.env(map[string]string{"private-key": "", "private-key-signer": uri, "owner": "octo-org"}), "action")
		if err != nil {
			t.Fatalf("action: %v\n%s%s", err, stdout, stderr)
		}
		if _, ok := w.emu.TokenInfo(w.outputs(t)["token"]); !ok {
			t.Fatalf("the output token is not the emulator's; log:\n%s", stdout)
		}
		if !strings.HasPrefix(stdout, "::add-mask::"+hsmTestPIN+"\n") {
			t.Errorf("the PIN is not masked first; log:\n%.300s", stdout)
		}
		assertMaskedFirst(t, stdout, hsmTestPIN)
	})

	t.Run("a wrong PIN", func(t *testing.T) {
		w := newActWorld(t)
		uri := "pkcs11:token=app-token;object=app-key?module-path=" + h.Module + "&pin-value=0000-wrong"
		stdout, _, err := runEnv(t, w.env(map[string]string{"private-key": "", "private-key-signer": uri}), "action")
		if exitCode(err) != exitAuth || !strings.Contains(stdout, "pin-value=REDACTED") || strings.Contains(strings.ReplaceAll(stdout, "::add-mask::0000-wrong", ""), "0000-wrong") {
			t.Errorf("exit %d, log:\n%s", exitCode(err), stdout)
		}
	})
}
