package gitcred

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheFolder(t *testing.T) {
	t.Parallel()
	if got := CacheFolder("/c", ""); got != filepath.Join("/c", "git-credential") {
		t.Errorf("a PEM key's folder = %s, want the helper's first folder", got)
	}
	a := CacheFolder("/c", "awskms:///alias/app")
	b := CacheFolder("/c", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1")
	if filepath.Dir(a) != filepath.Join("/c", "git-credential-signer") || len(filepath.Base(a)) != 24 {
		t.Errorf("a signer's folder = %s, want git-credential-signer/<24 hex digits>", a)
	}
	if a == b {
		t.Error("two signers share a folder")
	}
	if CacheFolder("/c", " awskms:///alias/app\n") != a {
		t.Error("spaces around the URI changed the folder")
	}
}

// failingSigner refuses to sign.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("AccessDeniedException")
}

func TestSignerSecret(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := SignerSecret(key, "Iv23liApp", "https://api.github.com")
	if err != nil {
		t.Fatal(err)
	}
	// RSASSA-PKCS1-v1_5 is deterministic: the same secret every time, and
	// for the same API however it is spelt.
	s2, _ := SignerSecret(key, "Iv23liApp", "https://API.github.com/")
	if string(s1) != string(s2) {
		t.Error("the secret changed between two signatures of the same App and API")
	}
	if !strings.HasPrefix(string(s1), "signer-v1:") || len(s1) != len("signer-v1:")+2*256 {
		t.Errorf("secret %.20q... (%d bytes), want signer-v1: and the hex of a 2048-bit signature", s1, len(s1))
	}
	for _, other := range [][2]string{{"Iv23liOther", "https://api.github.com"}, {"Iv23liApp", "https://ghe.example/api/v3"}} {
		if s, _ := SignerSecret(key, other[0], other[1]); string(s) == string(s1) {
			t.Errorf("App %s on %s has the same secret", other[0], other[1])
		}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if s, _ := SignerSecret(other, "Iv23liApp", "https://api.github.com"); string(s) == string(s1) {
		t.Error("another key gives the same secret")
	}
	if _, err := SignerSecret(failingSigner{key}, "Iv23liApp", "https://api.github.com"); err == nil || !strings.Contains(err.Error(), "seal the token cache: AccessDeniedException") {
		t.Errorf("a refusing signer: %v", err)
	}
}
