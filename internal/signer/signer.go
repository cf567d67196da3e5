// Package signer opens the GitHub App's private key wherever it lives and
// returns it as a crypto.Signer: a KMS, an HSM or a PEM file, named by one
// URI whose scheme picks the provider (after sigstore's pkg/signature/kms):
//
//	awskms://<key id, alias or ARN>                 AWS KMS (awskms.go)
//	gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V
//	                                                Google Cloud KMS (gcpkms.go)
//	pkcs11:token=T;object=O?module-path=/lib.so&pin-source=file:/pin
//	                                                an HSM, RFC 7512 (pkcs11.go)
//	file:PATH                                       a PEM file (file.go)
//
// Open fetches the public key once and checks that it is RSA of 2048 bits or
// more, so a signer that is unreachable, refuses, or holds the wrong kind of
// key fails at start with an *Error that names the URI (with any PIN
// redacted) and says what to check. Every signature is made over a SHA-256
// digest with RSASSA-PKCS1-v1_5 (what RS256 JWTs need), has a timeout, is
// retried on transient failures only, and is verified with the public key
// before it is returned.
//
// The package never prints and never reads the environment: what the AWS
// SDK's environment settings would say comes through WithGetenv.
package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MinRSABits is the smallest RSA key Open accepts. GitHub generates App keys
// of 2048 bits.
const MinRSABits = 2048

// Kind says what went wrong, for callers that branch on it.
type Kind int

const (
	// Invalid: the URI itself is malformed.
	Invalid Kind = iota + 1
	// Unreachable: the service, module or file could not be reached.
	Unreachable
	// NotFound: the service answered that there is no such key.
	NotFound
	// Refused: the service refused (access denied, disabled key, wrong PIN).
	Refused
	// WrongKey: the key exists but is not an RSA signing key of 2048 bits or more.
	WrongKey
	// Failed: anything else, such as a signature that does not verify.
	Failed
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid signer URI"
	case Unreachable:
		return "unreachable"
	case NotFound:
		return "no such key"
	case Refused:
		return "refused"
	case WrongKey:
		return "wrong kind of key"
	default:
		return "failed"
	}
}

// Error is a failure to open a signer or to sign. Its message names the URI
// (pin-value redacted), says what happened and what to check; it never holds
// a credential, a PIN or key material.
type Error struct {
	URI  string // redacted
	Op   string // "open" or "sign"
	Kind Kind
	// Hint says what to check.
	Hint string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s signer %q: %s", e.Op, e.URI, e.Kind)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Option configures Open.
type Option func(*options)

type options struct {
	getenv  func(string) string
	timeout time.Duration
	retries int
	wait    func(ctx context.Context, d time.Duration) error
	aws     awsOptions
	gcp     gcpOptions
}

// WithGetenv gives the environment the providers' SDKs would read
// (AWS_REGION, AWS_ENDPOINT_URL_KMS, ...). The default is an empty one.
func WithGetenv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// WithTimeout bounds each call to the signer (default 10 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithRetries sets how many times a transient failure is retried (default 2).
func WithRetries(n int) Option { return func(o *options) { o.retries = n } }

// WithWait sets how retries wait; tests pass one that returns at once.
func WithWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.wait = wait }
}

// DefaultTimeout bounds one call to a KMS or HSM.
const DefaultTimeout = 10 * time.Second

// retryBase is the first retry's wait; each later one doubles it.
const retryBase = 200 * time.Millisecond

// backend is one provider's key: it signs a SHA-256 digest with
// RSASSA-PKCS1-v1_5 and says which of its errors are worth a retry and what
// they mean.
type backend interface {
	sign(ctx context.Context, digest []byte) ([]byte, error)
	// classify maps a provider error to a Kind, a hint, and whether
	// it is transient.
	classify(err error) (kind Kind, hint string, transient bool)
	close() error
}

// Signer is an opened signer. It implements crypto.Signer and io.Closer and
// formats as its redacted URI.
type Signer struct {
	uri  string
	pub  *rsa.PublicKey
	b    backend
	opts options
}

var _ interface {
	crypto.Signer
	io.Closer
} = (*Signer)(nil)

// Open opens the signer uri names and checks its public key (see the package
// comment). It fails with an *Error.
func Open(ctx context.Context, uri string, opts ...Option) (crypto.Signer, error) {
	o := options{
		getenv:  func(string) string { return "" },
		timeout: DefaultTimeout,
		retries: 2,
		wait:    sleep,
	}
	for _, f := range opts {
		f(&o)
	}
	shown := Redact(uri)
	scheme, rest, ok := strings.Cut(strings.TrimSpace(uri), ":")
	if !ok {
		return nil, &Error{URI: shown, Op: "open", Kind: Invalid, Hint: schemesHint}
	}
	var (
		b   backend
		pub crypto.PublicKey
		err error
	)
	switch strings.ToLower(scheme) {
	case "awskms":
		b, pub, err = openAWS(ctx, rest, &o)
	case "gcpkms":
		b, pub, err = openGCP(ctx, rest, &o)
	case "pkcs11":
		b, pub, err = openPKCS11(ctx, rest, &o)
	case "file":
		b, pub, err = openFile(rest)
	default:
		return nil, &Error{URI: shown, Op: "open", Kind: Invalid, Hint: schemesHint}
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Kind: Failed, Err: err}
			if b != nil {
				e.Kind, e.Hint, _ = b.classify(err)
			}
		}
		if b != nil {
			b.close()
		}
		e.URI, e.Op = shown, "open"
		return nil, e
	}
	rsaPub, err := checkPublic(pub)
	if err != nil {
		b.close()
		return nil, &Error{URI: shown, Op: "open", Kind: WrongKey, Hint: "a GitHub App key is RSA: import the App's .pem as an RSA 2048-bit signing key", Err: err}
	}
	return &Signer{uri: shown, pub: rsaPub, b: b, opts: o}, nil
}

const schemesHint = "name the key as awskms://KEY, gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V, pkcs11:token=T;object=O?module-path=/path/to/module.so or file:PATH"

// checkPublic accepts an RSA key of MinRSABits or more.
func checkPublic(pub crypto.PublicKey) (*rsa.PublicKey, error) {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is %s, not RSA", describeKey(pub))
	}
	if bits := k.N.BitLen(); bits < MinRSABits {
		return nil, fmt.Errorf("the key is RSA of %d bits, fewer than %d", bits, MinRSABits)
	}
	return k, nil
}

func describeKey(pub crypto.PublicKey) string {
	switch pub.(type) {
	case nil:
		return "missing"
	case *ecdsa.PublicKey:
		return "an elliptic-curve (ECDSA) key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	default:
		return fmt.Sprintf("of type %T", pub)
	}
}

// Public returns the RSA public key fetched at Open.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// String returns the signer's URI with any PIN redacted.
func (s *Signer) String() string { return s.uri }

// Format prints the redacted URI whatever the verb, so that no %#v shows
// what the backend holds.
func (s *Signer) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.uri) }

// Close releases the backend's client or PKCS#11 session.
func (s *Signer) Close() error { return s.b.close() }

// Sign signs a SHA-256 digest with RSASSA-PKCS1-v1_5. opts must be
// crypto.SHA256 (or *rsa.PKCS1v15Options holding it); rand is unused, as the
// key's holder supplies any randomness. Each attempt is bounded by the
// timeout, transient failures are retried, and the signature is verified
// with the public key before it is returned. It fails with an *Error.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss || opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != crypto.SHA256.Size() {
		return nil, &Error{URI: s.uri, Op: "sign", Kind: Failed, Err: errors.New("only RSASSA-PKCS1-v1_5 over a SHA-256 digest is supported")}
	}
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.opts.timeout)
		sig, err := s.b.sign(actx, digest)
		timedOut := actx.Err() != nil
		cancel()
		if err == nil {
			if verr := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, digest, sig); verr != nil {
				return nil, &Error{URI: s.uri, Op: "sign", Kind: Failed, Hint: "the key answering is not the one whose public key was fetched at start; was it replaced?", Err: errors.New("the signature does not verify with the key's public key")}
			}
			return sig, nil
		}
		kind, hint, transient := s.b.classify(err)
		if timedOut {
			// Whether a timeout is worth another try is the backend's
			// call (an HSM that hangs is not asked again).
			kind = Unreachable
			err = fmt.Errorf("no answer within %s: %w", s.opts.timeout, err)
		}
		if !transient || attempt >= s.opts.retries {
			if transient && attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, &Error{URI: s.uri, Op: "sign", Kind: kind, Hint: hint, Err: err}
		}
		if werr := s.opts.wait(ctx, retryBase<<attempt); werr != nil {
			return nil, &Error{URI: s.uri, Op: "sign", Kind: kind, Hint: hint, Err: err}
		}
	}
}

// sleep is the default wait: Sign has no context to end it early.
func sleep(_ context.Context, d time.Duration) error {
	time.Sleep(d)
	return nil
}
