//go:build !cgo

package signer

import (
	"strings"
	"testing"
)

func TestPKCS11WithoutCgo(t *testing.T) {
	t.Parallel()
	uri := "pkcs11:token=t;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234-secret"
	_, err := Open(t.Context(), uri)
	e := checkErr(t, err, Unreachable, Redact(uri), "1234-secret")
	if !strings.Contains(e.Error(), "without cgo") {
		t.Errorf("error %q does not say this build lacks cgo", e)
	}
}
