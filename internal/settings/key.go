package settings

import (
	"cmp"
	"context"
	"crypto"
	"fmt"
	"io"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/signer"
)

// AppKey is the App's signing key as the settings name it, loaded once per
// process: every JWT of the process is signed with it.
type AppKey struct {
	crypto.Signer
	// Name is how the user named it ("--signer", "APP_TOKEN_PRIVATE_KEY",
	// ...), for errors and advice.
	Name string
	// URI is the signer's URI with any PIN redacted; "" for a PEM key.
	URI string
}

// Close releases a signer's client or PKCS#11 session.
func (k *AppKey) Close() error {
	if c, ok := k.Signer.(io.Closer); ok && k.URI != "" {
		return c.Close()
	}
	return nil
}

// KeyName is how the settings name the key ("" when none is set): the
// signer or the private key, never both (a usage error naming both).
func (s *Settings) KeyName() (string, error) {
	var keyName string
	switch {
	case s.KeyFile != "":
		keyName = "--private-key-file"
	case strings.TrimSpace(s.getenv(EnvPrivateKey)) != "":
		keyName = EnvPrivateKey
	case s.Env(EnvPrivateKeyFile) != "":
		keyName = EnvPrivateKeyFile
	}
	signerName := ""
	if s.Signer != "" {
		signerName = s.SignerName()
	}
	switch {
	case keyName != "" && signerName != "":
		return "", cliflag.Usagef("%s and %s are both set: give one (a signer keeps the App's key in a KMS or HSM; a private key is the .pem itself)", keyName, signerName)
	case signerName != "":
		return signerName, nil
	}
	return keyName, nil
}

// ErrNoKey says how to give the App's key.
func ErrNoKey() error {
	return cliflag.Usagef("no private key: pass --private-key-file or --signer URI, or set %s, %s or %s", EnvPrivateKeyFile, EnvPrivateKey, EnvSigner)
}

// SignerName is how the user named the signer: the flag, else the variable.
func (s *Settings) SignerName() string {
	if s.Given("signer") {
		return "--signer"
	}
	return EnvSigner
}

// LoadKey loads the App's key the settings name: it opens the signer
// --signer (or APP_TOKEN_SIGNER) names, which asks the KMS or HSM for the
// public key, or reads and parses the private key (--private-key-file,
// APP_TOKEN_PRIVATE_KEY, APP_TOKEN_PRIVATE_KEY_FILE). Every command that
// signs as the App loads its key through here, once per process; the
// caller closes it when done. Errors name the setting, and a signer only by
// its redacted URI.
func (s *Settings) LoadKey(ctx context.Context) (*AppKey, error) {
	name, err := s.KeyName()
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, ErrNoKey()
	}
	if s.Signer != "" {
		sg, err := s.OpenSigner(ctx, s.Signer)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &AppKey{Signer: sg, Name: name, URI: signer.Redact(s.Signer)}, nil
	}
	raw, name, err := s.Key()
	if err != nil {
		return nil, err
	}
	k, err := appauth.ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &AppKey{Signer: k.Key, Name: name}, nil
}

// OpenSigner opens the signer uri names, with the SDKs' settings
// (AWS_REGION, AWS_ENDPOINT_URL_KMS, ...) read through the settings'
// getenv. The SDKs' credential chains (AWS_ACCESS_KEY_ID, AWS_PROFILE,
// Google's Application Default Credentials) read the process's environment
// themselves.
func (s *Settings) OpenSigner(ctx context.Context, uri string) (crypto.Signer, error) {
	return signer.Open(ctx, uri, signer.WithGetenv(s.getenv))
}

// Names is the settings' names with the key named as the user gave it,
// so that GitHub's "could not verify the JWT" advice points at the signer
// when there is one.
func (k *AppKey) Names(s *Settings) func(string) string {
	return func(setting string) string {
		if setting == "private-key" && k.URI != "" {
			return fmt.Sprintf("the signer %q (--signer or %s)", k.URI, EnvSigner)
		}
		return s.Names(setting)
	}
}

// KeyOnce loads the settings' key on first use and keeps it, for the
// credential helper, which needs the key only for a request it answers
// with a freshly minted token.
type KeyOnce struct {
	s   *Settings
	key *AppKey
}

// KeyOnce returns a KeyOnce for s; Close it when done.
func (s *Settings) KeyOnce() *KeyOnce { return &KeyOnce{s: s} }

// Get loads the key (LoadKey) the first time.
func (o *KeyOnce) Get(ctx context.Context) (*AppKey, error) {
	if o.key == nil {
		k, err := o.s.LoadKey(ctx)
		if err != nil {
			return nil, err
		}
		o.key = k
	}
	return o.key, nil
}

// Close releases the key, if it was loaded.
func (o *KeyOnce) Close() {
	if o.key != nil {
		o.key.Close()
	}
}

// CacheSecret is the credential helper's secret sealing its token cache
// for the App on apiURL: a PEM's own text, read but not parsed (a warm get
// parses no key), else the signer's (gitcred.SignerSecret).
func (o *KeyOnce) CacheSecret(ctx context.Context, apiURL string) ([]byte, error) {
	s := o.s
	if err := s.CheckApp(); err != nil {
		return nil, err
	}
	if s.Issuer() == "" {
		return nil, cliflag.Usagef("credential: no app: pass --client-id or --app-id, or set %s or %s", EnvClientID, EnvAppID)
	}
	if s.Signer == "" {
		if name, err := s.KeyName(); err != nil || name == "" {
			return nil, cmp.Or(err, ErrNoKey())
		}
		raw, _, err := s.Key()
		return raw, err
	}
	key, err := o.Get(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := gitcred.SignerSecret(key, s.Issuer(), apiURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key.Name, err)
	}
	return secret, nil
}
