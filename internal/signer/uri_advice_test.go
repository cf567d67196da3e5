package signer

import (
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// An attribute on the wrong side of "?" is named, with where it belongs.
func TestPKCS11AttributeOnTheWrongSide(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"token=a;module-path=/x.so": `attribute "module-path" belongs in the query (after "?", separated by "&")`,
		"token=a?object=b":          `attribute "object" belongs in the path (before "?", separated by ";")`,
	} {
		if _, err := parsePKCS11URI(in); err == nil || err.Error() != want {
			t.Errorf("parse %q: %v, want %q", in, err, want)
		}
	}
}

// A URI without query attributes formats without a "?".
func TestPKCS11URIStringWithoutQuery(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"token=a;object=b":          "pkcs11:object=b;token=a",
		"token=a?module-path=/x.so": "pkcs11:token=a?module-path=/x.so",
	} {
		u, err := parsePKCS11URI(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.String(); got != want {
			t.Errorf("String of %q = %q, want %q", in, got, want)
		}
	}
}

// Which AWS KMS errors are transient (retried) and what each is called.
func TestAWSErrorsTransientOrNot(t *testing.T) {
	t.Parallel()
	k := &awsKey{region: "eu-west-1"}
	for _, tc := range []struct {
		name      string
		err       error
		kind      Kind
		transient bool
	}{
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, Unreachable, true},
		{"internal", &types.KMSInternalException{}, Unreachable, true},
		{"key unavailable", &types.KeyUnavailableException{}, Unreachable, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Unreachable, true},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, Refused, false},
		{"unknown client", &smithy.GenericAPIError{Code: "UnrecognizedClientException"}, Refused, false},
		{"expired credentials", &smithy.GenericAPIError{Code: "ExpiredTokenException"}, Refused, false},
		{"bad request signature", &smithy.GenericAPIError{Code: "InvalidSignatureException"}, Refused, false},
		{"not found", &types.NotFoundException{}, NotFound, false},
		{"disabled", &types.DisabledException{}, Refused, false},
		{"wrong usage", &types.InvalidKeyUsageException{}, WrongKey, false},
		{"another API error", &smithy.GenericAPIError{Code: "ValidationException"}, Failed, false},
		{"anything else", errors.New("boom"), Failed, false},
	} {
		kind, hint, transient := k.classify(tc.err)
		if kind != tc.kind || transient != tc.transient || hint == "" {
			t.Errorf("%s: %v, transient %v, hint %q; want %v, transient %v", tc.name, kind, transient, hint, tc.kind, tc.transient)
		}
	}
}

// A PIN is hidden however its attribute's name is percent-encoded: the
// error for such a URI shows the URI redacted.
func TestRedactPercentEncodedPINName(t *testing.T) {
	t.Parallel()
	const uri = "pkcs11:token=t?%70in-value=1234&module-path=/m.so"
	if got := Redact(uri); strings.Contains(got, "1234") {
		t.Errorf("Redact(%q) = %q", uri, got)
	}
	if got := PINs(uri); !slices.Equal(got, []string{"1234"}) {
		t.Errorf("PINs(%q) = %q", uri, got)
	}
}

// Slot 0, the first slot, is a slot.
func TestPKCS11SlotZero(t *testing.T) {
	t.Parallel()
	u, err := parsePKCS11URI("slot-id=0;object=k?module-path=/m.so&pin-value=1")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := resolvePKCS11(u, nil)
	if err != nil || tg.slot == nil || *tg.slot != 0 {
		t.Errorf("slot-id=0: %v, %v", tg, err)
	}
}

// module-path must be absolute: /path, or a Windows drive path (C:/...),
// not a bare drive.
func TestPKCS11ModulePathAbsolute(t *testing.T) {
	t.Parallel()
	for mod, ok := range map[string]bool{
		"/usr/lib/softhsm/libsofthsm2.so": true,
		"C:/SoftHSM2/lib/softhsm2.dll":    true,
		"C:":                              false,
		"lib/softhsm2.so":                 false,
	} {
		u, err := parsePKCS11URI("token=t;object=k?pin-value=1&module-path=" + mod)
		if err != nil {
			t.Fatal(err)
		}
		_, err = resolvePKCS11(u, nil)
		if (err == nil) != ok {
			t.Errorf("module-path=%s: %v, want accepted %v", mod, err, ok)
		}
	}
}

// An empty attribute and one without "=" are told apart.
func TestPKCS11EmptyAttribute(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"token=a;;object=b": `an empty attribute in the path (two ";" in a row?)`,
		"token=a;object":    `a path attribute without "="`,
	} {
		if _, err := parsePKCS11URI(in); err == nil || err.Error() != want {
			t.Errorf("parse %q: %v, want %q", in, err, want)
		}
	}
}
