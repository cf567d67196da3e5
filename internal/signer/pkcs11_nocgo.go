//go:build !cgo

package signer

import (
	"context"
	"crypto"
	"errors"
	"os"
)

// openPKCS11 without cgo parses the URI, so that its mistakes are still
// reported, and then says that this build cannot load a PKCS#11 module.
func openPKCS11(_ context.Context, rest string, _ *options) (backend, crypto.PublicKey, error) {
	u, err := parsePKCS11URI(rest)
	if err != nil {
		return nil, nil, &Error{Kind: Invalid, Hint: pkcs11Form, Err: err}
	}
	if _, err := resolvePKCS11(u, os.ReadFile); err != nil {
		return nil, nil, err
	}
	return nil, nil, &Error{Kind: Unreachable, Hint: "build app-token with CGO_ENABLED=1 (go install with a C compiler) to use an HSM",
		Err: errors.New("this app-token was built without cgo, which loading a PKCS#11 module needs")}
}
