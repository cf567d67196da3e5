package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/signer"
)

// appKey is the App's signing key as the settings name it, loaded once per
// process: every JWT of the process is signed with it.
type appKey struct {
	crypto.Signer
	// name is how the user named it ("--signer", "APP_TOKEN_PRIVATE_KEY",
	// ...), for errors and advice.
	name string
	// uri is the signer's URI with any PIN redacted; "" for a PEM key.
	uri string
	// pemText is the PEM as given; empty for a signer.
	pemText []byte
}

// Close releases a signer's client or PKCS#11 session.
func (k *appKey) Close() error {
	if c, ok := k.Signer.(io.Closer); ok && k.uri != "" {
		return c.Close()
	}
	return nil
}

// keyName is how the settings name the key ("" when none is set): the
// signer or the private key, never both (a usage error naming both).
func (s *settings) keyName() (string, error) {
	var keyName string
	switch {
	case s.keyFile != "":
		keyName = "--private-key-file"
	case strings.TrimSpace(s.getenv(envPrivateKey)) != "":
		keyName = envPrivateKey
	case s.env(envPrivateKeyFile) != "":
		keyName = envPrivateKeyFile
	}
	signerName := ""
	if s.signer != "" {
		signerName = s.signerName()
	}
	switch {
	case keyName != "" && signerName != "":
		return "", usagef("%s and %s are both set: give one (a signer keeps the App's key in a KMS or HSM; a private key is the .pem itself)", keyName, signerName)
	case signerName != "":
		return signerName, nil
	}
	return keyName, nil
}

// errNoKey says how to give the App's key.
func errNoKey() error {
	return usagef("no private key: pass --private-key-file or --signer URI, or set %s, %s or %s", envPrivateKeyFile, envPrivateKey, envSigner)
}

// signerName is how the user named the signer: the flag, else the variable.
func (s *settings) signerName() string {
	if s.given["signer"] {
		return "--signer"
	}
	return envSigner
}

// loadKey loads the App's key the settings name: it opens the signer
// --signer (or APP_TOKEN_SIGNER) names, which asks the KMS or HSM for the
// public key, or reads and parses the private key (--private-key-file,
// APP_TOKEN_PRIVATE_KEY, APP_TOKEN_PRIVATE_KEY_FILE). Every command that
// signs as the App loads its key through here, once per process; the
// caller closes it when done. Errors name the setting, and a signer only by
// its redacted URI.
func (c *cli) loadKey(ctx context.Context, s *settings) (*appKey, error) {
	name, err := s.keyName()
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errNoKey()
	}
	if s.signer != "" {
		sg, err := c.openSigner(ctx, s.signer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &appKey{Signer: sg, name: name, uri: signer.Redact(s.signer)}, nil
	}
	raw, name, err := s.key()
	if err != nil {
		return nil, err
	}
	k, err := appauth.ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &appKey{Signer: k.Key, name: name, pemText: raw}, nil
}

// openSigner opens the signer uri names, with the SDKs' settings
// (AWS_REGION, AWS_ENDPOINT_URL_KMS, ...) read through getenv. The SDKs'
// credential chains (AWS_ACCESS_KEY_ID, AWS_PROFILE, Google's Application
// Default Credentials) read the process's environment themselves.
func (c *cli) openSigner(ctx context.Context, uri string) (crypto.Signer, error) {
	return signer.Open(ctx, uri, signer.WithGetenv(c.getenv))
}

// names is the settings' names with the key named as the user gave it,
// so that GitHub's "could not verify the JWT" advice points at the signer
// when there is one.
func (k *appKey) names(s *settings) func(string) string {
	return func(setting string) string {
		if setting == "private-key" && k.uri != "" {
			return fmt.Sprintf("the signer %q (--signer or %s)", k.uri, envSigner)
		}
		return s.names(setting)
	}
}

// cacheFolder and cacheSecret are the credential helper's token cache for
// the key. A PEM key seals the cache with its own text, in the folder the
// helper has always used. A signer has no key text to give, so it seals
// the cache with its signature over a fixed message naming the App and the
// API: RSASSA-PKCS1-v1_5 is deterministic, so the signature is the same
// every time, and only a holder of the key (whoever may ask the KMS or HSM
// to sign) can compute it: a copied cache folder is as useless without the
// key as before. Each signer URI keeps its own folder, so file-key and
// signer entries, or two signers' entries, never meet.
func (s *settings) cacheFolder(base string) string {
	if s.signer == "" {
		return filepath.Join(base, "git-credential")
	}
	sum := sha256.Sum256([]byte(signer.Redact(strings.TrimSpace(s.signer))))
	return filepath.Join(base, "git-credential-signer", hex.EncodeToString(sum[:12]))
}

// cacheMessage is what a signer signs to seal the cache; the version lets a
// later scheme never reuse its secret.
func cacheMessage(issuer, apiURL string) []byte {
	return []byte("app-token gitcred token cache v1 signer\x00" + issuer + "\x00" + strings.TrimSuffix(strings.ToLower(apiURL), "/"))
}

func (k *appKey) cacheSecret(issuer, apiURL string) ([]byte, error) {
	if k.uri == "" {
		return k.pemText, nil
	}
	sum := sha256.Sum256(cacheMessage(issuer, apiURL))
	sig, err := k.Sign(nil, sum[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%s: seal the token cache: %w", k.name, err)
	}
	// Hex, prefixed: gitcred derives the sealing key from the text (HKDF),
	// and no PEM's text looks like this.
	return []byte("signer-v1:" + hex.EncodeToString(sig)), nil
}

// absSignerURI makes a file: signer's relative path absolute, for a helper
// git runs from any folder.
func absSignerURI(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "file:")
	if !ok || strings.HasPrefix(rest, "/") || rest == "" {
		return uri, nil
	}
	abs, err := filepath.Abs(rest)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return "file:" + abs, nil
}
