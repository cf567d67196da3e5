package appauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// KeyError says what a private key input was recognised as, and what to paste
// instead. It never holds any part of the input.
type KeyError struct {
	// Got is what the input looked like, e.g. "an OpenSSH private key".
	Got string
	// Fix says what to do.
	Fix string
}

func (e *KeyError) Error() string { return e.Got + ": " + e.Fix }

const pastePEM = "paste the whole .pem file GitHub generated for the app (from -----BEGIN RSA PRIVATE KEY----- to -----END RSA PRIVATE KEY-----), or its base64 encoding"

var pemHeader = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]+)-----`)

// nonPEMShapes are what describeNonPEM recognises, compiled on first use:
// only a refused key needs them, and every start of app-token would pay for
// them (bounded repeats such as {40} compile into long programs).
var nonPEMShapes = sync.OnceValue(func() (p struct{ hexSecret, clientID, appIDLike *regexp.Regexp }) {
	p.hexSecret = regexp.MustCompile(`^[0-9a-f]{40}$`)
	p.clientID = regexp.MustCompile(`^(Iv1\.[0-9a-f]{16}|Iv[0-9]{2}[A-Za-z0-9]{16,})$`)
	p.appIDLike = regexp.MustCompile(`^[0-9]{1,12}$`)
	return p
})

// ParsedKey is a private key and the PEM text it was decoded from. It
// formats as a placeholder with every fmt verb.
type ParsedKey struct {
	Key *rsa.PrivateKey
	// PEM is the key as PEM text.
	PEM string
	// Reencoded is true when the input was not that PEM text as is (base64,
	// escaped line breaks, ...): its PEM lines need masking too.
	Reencoded bool
}

// Format prints a placeholder, whatever the verb.
func (k *ParsedKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[REDACTED KEY]") }

// ParseKey is ParsePrivateKey returning a *ParsedKey.
func ParseKey(input string) (*ParsedKey, error) {
	k, pemText, err := ParsePrivateKey(input)
	if err != nil {
		return nil, err
	}
	return &ParsedKey{Key: k, PEM: pemText, Reencoded: strings.TrimSpace(pemText) != strings.TrimSpace(input)}, nil
}

// ParsePrivateKey reads a GitHub App private key as people paste it: a
// PKCS#1 or PKCS#8 PEM, possibly with literal "\n" escapes instead of line
// breaks, possibly base64-encoded, with any surrounding whitespace. It returns
// the key and the PEM text it decoded, which differs from the input when the
// input came in another encoding (callers mask each of its lines).
//
// Anything else fails with a *KeyError naming what the input looked like
// (an OpenSSH key, a client secret, half a PEM, ...), never echoing it.
func ParsePrivateKey(input string) (key *rsa.PrivateKey, pemText string, err error) {
	s := strings.TrimSpace(input)
	s = strings.Trim(s, `"'`)
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, "", &KeyError{Got: "it is empty", Fix: pastePEM}
	}
	if !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		s = strings.ReplaceAll(strings.ReplaceAll(s, `\r\n`, "\n"), `\n`, "\n")
	}
	if !strings.Contains(s, "-----BEGIN") {
		if decoded, ok := decodeBase64(s); ok {
			if strings.Contains(decoded, "-----BEGIN") {
				s = strings.TrimSpace(decoded)
			} else if k, ok := parseDER([]byte(decoded)); ok {
				// Base64 of the DER bytes: a PEM body without its armour.
				pemText := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte(decoded)}))
				return k, pemText, nil
			}
		}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	m := pemHeader.FindStringSubmatch(s)
	if m == nil {
		return nil, "", &KeyError{Got: describeNonPEM(s), Fix: pastePEM}
	}
	// Judge the kind by the BEGIN line first: an OpenSSH or public key
	// deserves its own explanation even when its body is damaged.
	switch m[1] {
	case "RSA PRIVATE KEY", "PRIVATE KEY":
	case "OPENSSH PRIVATE KEY":
		return nil, "", &KeyError{Got: "an OpenSSH private key (from ssh-keygen), not a GitHub App key", Fix: "generate a private key on the app's settings page and " + pastePEM}
	case "ENCRYPTED PRIVATE KEY":
		return nil, "", &KeyError{Got: "an encrypted private key", Fix: "decrypt it first (openssl pkcs8 -in key.pem -out plain.pem) and " + pastePEM}
	case "EC PRIVATE KEY":
		return nil, "", &KeyError{Got: "an elliptic-curve key; GitHub App keys are RSA", Fix: pastePEM}
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, "", &KeyError{Got: "a public key; the app needs its private key", Fix: pastePEM}
	case "CERTIFICATE":
		return nil, "", &KeyError{Got: "a certificate, not a private key", Fix: pastePEM}
	default:
		// The label is not repeated: it is part of the input.
		return nil, "", &KeyError{Got: "a PEM block that is not a private key", Fix: pastePEM}
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		if !strings.Contains(s, "-----END") {
			return nil, "", &KeyError{Got: "only half a PEM: the -----END ...----- line is missing", Fix: pastePEM}
		}
		return nil, "", &KeyError{Got: "a damaged PEM (its lines could not be decoded; were line breaks lost or characters changed?)", Fix: pastePEM}
	}
	// golang-jwt parses both PKCS#1 and PKCS#8; the checks above exist to
	// say what went wrong, which its errors do not.
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem.EncodeToMemory(block))
	if err != nil {
		if errors.Is(err, jwt.ErrNotRSAPrivateKey) {
			return nil, "", &KeyError{Got: "a PKCS#8 key that is not RSA; GitHub App keys are RSA", Fix: pastePEM}
		}
		return nil, "", &KeyError{Got: "a private key PEM whose contents could not be parsed", Fix: pastePEM}
	}
	return k, s, nil
}

func decodeBase64(s string) (string, bool) {
	compact := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(compact); err == nil && len(b) > 0 {
			return string(b), true
		}
	}
	return "", false
}

func parseDER(der []byte) (*rsa.PrivateKey, bool) {
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	if err == nil {
		return k, true
	}
	k, err = jwt.ParseRSAPrivateKeyFromPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return k, err == nil
}

// describeNonPEM names what a value that is not a PEM most likely is.
func describeNonPEM(s string) string {
	shapes := nonPEMShapes()
	switch {
	case strings.HasPrefix(s, "ssh-rsa ") || strings.HasPrefix(s, "ssh-ed25519 "):
		return "an SSH public key, not a GitHub App private key"
	case shapes.hexSecret.MatchString(s):
		return "a 40-character hexadecimal value, which looks like the app's client secret, not its private key"
	case shapes.clientID.MatchString(s):
		return "a client ID, not a private key"
	case shapes.appIDLike.MatchString(s):
		return "a number, which looks like an app ID, not a private key"
	case strings.HasPrefix(s, "ghp_"), strings.HasPrefix(s, "ghs_"), strings.HasPrefix(s, "gho_"),
		strings.HasPrefix(s, "ghu_"), strings.HasPrefix(s, "github_pat_"):
		return "a GitHub token, not a private key"
	case strings.HasPrefix(s, "SHA256:"):
		return "a key fingerprint, not the key itself"
	default:
		return fmt.Sprintf("not a PEM private key (%d characters without a -----BEGIN line, and not base64 of one)", len(s))
	}
}
