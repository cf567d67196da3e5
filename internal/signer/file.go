package signer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"net/url"
	"os"
	"strings"

	"github.com/org/app-token/internal/appauth"
)

// fileKey is a PEM private key read from a file: the key as app-token has
// always taken it, named as a signer so that one input serves every kind.
type fileKey struct{ key *rsa.PrivateKey }

// openFile reads file:PATH (or file:///PATH) through appauth.ParsePrivateKey.
func openFile(rest string) (backend, crypto.PublicKey, error) {
	path := rest
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse("file:" + rest)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return nil, nil, &Error{Kind: Invalid, Hint: "write file:PATH or file:///ABSOLUTE/PATH"}
		}
		path = u.Path
	}
	if path == "" {
		return nil, nil, &Error{Kind: Invalid, Hint: "write file:PATH or file:///ABSOLUTE/PATH"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		kind := Unreachable
		if errors.Is(err, os.ErrNotExist) {
			kind = NotFound
		} else if errors.Is(err, os.ErrPermission) {
			kind = Refused
		}
		return nil, nil, &Error{Kind: kind, Hint: "check the path and that this user can read it", Err: errors.Unwrap(err)}
	}
	k, _, err := appauth.ParsePrivateKey(string(b))
	if err != nil {
		// A *KeyError never holds any part of the input.
		var ke *appauth.KeyError
		if errors.As(err, &ke) {
			err = errors.New("the file holds " + ke.Got)
		}
		return nil, nil, &Error{Kind: WrongKey, Hint: "the file must hold the App's private key, the .pem GitHub generated", Err: err}
	}
	return &fileKey{key: k}, k.Public(), nil
}

func (f *fileKey) sign(_ context.Context, digest []byte) ([]byte, error) {
	return rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, digest)
}

func (f *fileKey) classify(error) (Kind, string, bool) { return Failed, "", false }

func (f *fileKey) close() error { return nil }
