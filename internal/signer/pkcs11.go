//go:build cgo

package signer

import (
	"context"
	"crypto"
	"errors"
	"os"
	"strings"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// hsmKey is a private key in a PKCS#11 token, through crypto11.
type hsmKey struct {
	ctx    *crypto11.Context
	signer crypto11.Signer
}

// openPKCS11 opens a pkcs11: URI (RFC 7512): it loads module-path, logs in
// to the token with the PIN and finds the key pair by object (label) and/or
// id. PKCS#11 failures are never retried: a token answers at once or not
// at all.
func openPKCS11(_ context.Context, rest string, o *options) (backend, crypto.PublicKey, error) {
	u, err := parsePKCS11URI(rest)
	if err != nil {
		return nil, nil, &Error{Kind: Invalid, Hint: pkcs11Form, Err: err}
	}
	t, err := resolvePKCS11(u, os.ReadFile)
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(t.module); err != nil {
		return nil, nil, &Error{Kind: Unreachable, Hint: "check module-path: it must name the token's PKCS#11 module (.so)", Err: errors.Unwrap(err)}
	}
	// crypto11 keeps the PIN in its Config, never in its errors.
	c, err := crypto11.Configure(&crypto11.Config{
		Path:        t.module,
		TokenLabel:  t.tokenLabel,
		TokenSerial: t.tokenSerial,
		SlotNumber:  t.slot,
		Pin:         t.pin,
	})
	if err != nil {
		return &hsmKey{}, nil, err
	}
	k := &hsmKey{ctx: c}
	s, err := c.FindKeyPair(t.id, t.label)
	// crypto11 v1.6 fails with an unexported error when nothing matches
	// (earlier versions returned nil, nil); its text shows the label and
	// id in hex, so ours says it plainly.
	if s == nil && (err == nil || strings.Contains(err.Error(), "not found")) {
		k.close()
		return nil, nil, &Error{Kind: NotFound, Hint: "check object= and id= (pkcs11-tool --list-objects --login shows the token's keys)", Err: errors.New("no key pair with that label and id on the token")}
	}
	if err != nil {
		return k, nil, err
	}
	k.signer = s
	return k, s.Public(), nil
}

// sign signs through crypto11, which takes no context: the call goes on in
// the background when ctx ends first, and its answer is dropped.
func (k *hsmKey) sign(ctx context.Context, digest []byte) ([]byte, error) {
	type result struct {
		sig []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		// crypto11 prepends SHA-256's DigestInfo and signs with
		// CKM_RSA_PKCS: RSASSA-PKCS1-v1_5.
		sig, err := k.signer.Sign(nil, digest, crypto.SHA256)
		done <- result{sig, err}
	}()
	select {
	case r := <-done:
		return r.sig, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (k *hsmKey) classify(err error) (Kind, string, bool) {
	var p pkcs11.Error
	if errors.As(err, &p) {
		switch p {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_EXPIRED, pkcs11.CKR_PIN_LOCKED:
			return Refused, "check the PIN in pin-source (or pin-value); too many wrong ones lock the token", false
		case pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:
			return Refused, "the key must be allowed to sign (CKA_SIGN) by the user who logs in", false
		case pkcs11.CKR_KEY_TYPE_INCONSISTENT, pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_KEY_SIZE_RANGE:
			return WrongKey, "the key must be an RSA key of 2048 bits or more that signs with CKM_RSA_PKCS", false
		case pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_RECOGNIZED:
			return Unreachable, "check that the token is present and working", false
		}
		return Failed, "", false
	}
	if strings.Contains(err.Error(), "could not find PKCS#11 token") {
		return NotFound, "check token=, serial= or slot-id= (softhsm2-util --show-slots or pkcs11-tool --list-slots shows the tokens)", false
	}
	if strings.Contains(err.Error(), "module context") {
		return Unreachable, "check module-path: it must name the token's PKCS#11 module (.so)", false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Unreachable, "the token did not answer in time", false
	}
	return Failed, "", false
}

func (k *hsmKey) close() error {
	if k.ctx == nil {
		return nil
	}
	return k.ctx.Close()
}
