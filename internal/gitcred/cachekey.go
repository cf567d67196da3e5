package gitcred

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// CacheFolder is the token cache's folder under base for an App key. A PEM
// key (signerURI "") seals the cache with its own text, in the folder the
// helper has always used. Each signer URI (redacted of any PIN) keeps its
// own folder, so file-key and signer entries, or two signers' entries,
// never meet.
func CacheFolder(base, signerURI string) string {
	if signerURI == "" {
		return filepath.Join(base, "git-credential")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(signerURI)))
	return filepath.Join(base, "git-credential-signer", hex.EncodeToString(sum[:12]))
}

// signerCacheMessage is what a signer signs to seal the cache; the version
// lets a later scheme never reuse its secret.
func signerCacheMessage(issuer, apiURL string) []byte {
	return []byte("app-token gitcred token cache v1 signer\x00" + issuer + "\x00" + strings.TrimSuffix(strings.ToLower(apiURL), "/"))
}

// SignerSecret is the cache's sealing secret for an App key held by a
// signer, which has no key text to give: its signature over a fixed
// message naming the App and the API. RSASSA-PKCS1-v1_5 is deterministic,
// so the signature is the same every time, and only a holder of the key
// (whoever may ask the KMS or HSM to sign) can compute it: a copied cache
// folder is as useless without the key as with a PEM.
func SignerSecret(sg crypto.Signer, issuer, apiURL string) ([]byte, error) {
	sum := sha256.Sum256(signerCacheMessage(issuer, apiURL))
	sig, err := sg.Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("seal the token cache: %w", err)
	}
	// Hex, prefixed: the sealing key is derived from the text (HKDF), and
	// no PEM's text looks like this.
	return []byte("signer-v1:" + hex.EncodeToString(sig)), nil
}
