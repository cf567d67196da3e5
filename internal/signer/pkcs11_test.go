//go:build cgo

package signer

import (
	"crypto"
	"net/url"
	"strings"
	"testing"

	"github.com/org/app-token/internal/signer/signertest"
)

// The PKCS#11 tests run crypto11 against SoftHSM2 (Debian's softhsm2,
// installed by .ci/install-tools.sh when missing), with a token the test
// initialises in a temporary folder and the App's key imported into it.

const hsmPIN = "4711-hsm-pin-never-shown"

// startSoftHSM initialises a token "app-token" holding the App's key (label
// app-key, id a1) and an EC key (label ec-key, id e1); it sets SOFTHSM2_CONF,
// so the tests that use it cannot run in parallel.
func startSoftHSM(tb testing.TB) signertest.SoftHSM {
	tb.Helper()
	return signertest.StartSoftHSM(tb, "app-token", hsmPIN,
		signertest.HSMKey{Label: "app-key", ID: "a1", Key: appKey()},
		signertest.HSMKey{Label: "ec-key", ID: "e1", Key: ecKey()})
}

func init() {
	benchPKCS11 = func(b *testing.B) crypto.Signer {
		h := startSoftHSM(b)
		s, err := Open(b.Context(), h.URI("token=app-token;object=app-key"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.(*Signer).Close() })
		return s
	}
}

func TestPKCS11(t *testing.T) {
	h := startSoftHSM(t)
	ctx := t.Context()
	secrets := append(keyLines(pkcs8PEM(t, appKey())), hsmPIN, "0000-wrong-pin")

	// First, with no session logged in (SoftHSM keeps one login per
	// process): a wrong PIN is refused, and the error shows no PIN.
	t.Run("wrong PIN", func(t *testing.T) {
		uri := "pkcs11:token=app-token;object=app-key?module-path=" + h.Module + "&pin-value=0000-wrong-pin"
		_, err := Open(ctx, uri)
		e := checkErr(t, err, Refused, "pin-value=REDACTED", secrets...)
		if !strings.Contains(e.Hint, "PIN") {
			t.Errorf("hint %q does not say to check the PIN", e.Hint)
		}
	})

	t.Run("sign and mint", func(t *testing.T) {
		for _, uri := range []string{
			h.URI("token=app-token;object=app-key"),
			h.URI("token=app%2Dtoken;id=%A1;type=private"),
			"pkcs11:token=app-token;object=app-key;id=%a1?module-path=" + url.PathEscape(h.Module) + "&pin-value=" + hsmPIN,
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
		{"an EC key", h.URI("token=app-token;object=ec-key"), WrongKey},
		{"a missing key", h.URI("token=app-token;object=no-such-key"), NotFound},
		{"a missing token", h.URI("token=no-such-token;object=app-key"), NotFound},
		{"a missing module", "pkcs11:token=app-token;object=app-key?module-path=/nonexistent/libpkcs11.so&pin-source=" + h.PINFile, Unreachable},
		{"a missing pin file", "pkcs11:token=app-token;object=app-key?module-path=" + h.Module + "&pin-source=/nonexistent/pin", Unreachable},
		{"no module", "pkcs11:token=app-token;object=app-key?pin-value=" + hsmPIN, Invalid},
		{"a misspelt attribute", "pkcs11:token=app-token;objet=app-key?module-path=" + h.Module + "&pin-value=" + hsmPIN, Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.uri)
			checkErr(t, err, tc.kind, Redact(tc.uri), secrets...)
		})
	}
}
