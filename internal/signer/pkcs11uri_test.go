package signer

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParsePKCS11URI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in          string
		path, query map[string]string
	}{
		{"", map[string]string{}, map[string]string{}},
		{"token=My%20Token;object=app%3Bkey;id=%01%A2", map[string]string{"token": "My Token", "object": "app;key", "id": "\x01\xa2"}, map[string]string{}},
		// RFC 7512 section 3's examples, less the attributes we refuse
		// later (they parse).
		{"object=my-pubkey;type=public", map[string]string{"object": "my-pubkey", "type": "public"}, map[string]string{}},
		{"token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin",
			map[string]string{"token": "Software PKCS#11 softtoken", "manufacturer": "Snake Oil, Inc."}, map[string]string{"pin-value": "the-pin"}},
		{"slot-description=Sun%20Metaslot", map[string]string{"slot-description": "Sun Metaslot"}, map[string]string{}},
		{"token=a&b;object=c?module-path=/usr/lib/p11/libx.so&pin-source=file:/etc/token_pin|x",
			map[string]string{"token": "a&b", "object": "c"}, map[string]string{"module-path": "/usr/lib/p11/libx.so", "pin-source": "file:/etc/token_pin|x"}},
		{"x-vendor=1?x-other=2", map[string]string{"x-vendor": "1"}, map[string]string{"x-other": "2"}},
		{"token=a+b", map[string]string{"token": "a+b"}, map[string]string{}}, // "+" is not a space here
	} {
		u, err := parsePKCS11URI(tc.in)
		if err != nil {
			t.Errorf("parse %q: %v", tc.in, err)
			continue
		}
		if !maps.Equal(u.path, tc.path) || !maps.Equal(u.query, tc.query) {
			t.Errorf("parse %q = %q %q, want %q %q", tc.in, u.path, u.query, tc.path, tc.query)
		}
	}
	for _, in := range []string{
		"token=a;token=b",          // twice
		"token=a;;object=b",        // empty attribute
		"token",                    // no "="
		"Token=a",                  // names are lowercase
		"tokn=a",                   // unknown
		"pin-value=1234",           // a query attribute in the path
		"token=a?object=b",         // a path attribute in the query
		"token=a%2",                // bad escape
		"token=a%zz",               // bad escape
		"token=a b",                // a space must be encoded
		"object=a/b",               // "/" is for the query only
		"token=a?module-path=/x;y", // ";" must be encoded in the query
		"token=a?pin-value=1&pin-value=2",
	} {
		if _, err := parsePKCS11URI(in); err == nil {
			t.Errorf("parse %q succeeded", in)
		} else if strings.Contains(err.Error(), "1234") {
			t.Errorf("parse %q: error %q repeats a value", in, err)
		}
	}
}

func TestResolvePKCS11(t *testing.T) {
	t.Parallel()
	read := func(p string) ([]byte, error) { return []byte("from-file\n"), nil }
	ok := func(in string) *pkcs11Target {
		t.Helper()
		u, err := parsePKCS11URI(in)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := resolvePKCS11(u, read)
		if err != nil {
			t.Fatalf("resolve %q: %v", in, err)
		}
		return tg
	}
	tg := ok("serial=abc;id=%01?module-path=/m.so&pin-source=file:///run/pin")
	if tg.tokenSerial != "abc" || string(tg.id) != "\x01" || tg.label != nil || tg.pin != "from-file" || tg.module != "/m.so" {
		t.Errorf("target = %+v", tg)
	}
	if tg := ok("slot-id=3;object=k?module-path=/m.so&pin-value=p"); tg.slot == nil || *tg.slot != 3 || tg.pin != "p" {
		t.Errorf("slot-id target = %+v", tg)
	}
	for _, in := range []string{
		"object=k?module-path=/m.so&pin-value=p",                       // no token
		"token=t;serial=s;object=k?module-path=/m.so&pin-value=p",      // two tokens
		"token=t?module-path=/m.so&pin-value=p",                        // no key
		"token=t;object=k?pin-value=p",                                 // no module
		"token=t;object=k?module-name=softhsm2&pin-value=p",            // module-name only
		"token=t;object=k?module-path=lib.so&pin-value=p",              // relative module
		"token=t;object=k?module-path=/m.so",                           // no PIN
		"token=t;object=k?module-path=/m.so&pin-value=p&pin-source=/f", // both
		"token=t;object=k?module-path=/m.so&pin-source=relative",       // relative pin-source
		"token=t;object=k;type=public?module-path=/m.so&pin-value=p",   // a public key
		"token=t;object=k;manufacturer=m?module-path=/m.so&pin-value=p",
		"slot-id=x;object=k?module-path=/m.so&pin-value=p",
		"slot-id=-1;object=k?module-path=/m.so&pin-value=p",
		"token=t;object=k;x-v=1?module-path=/m.so&pin-value=p",
	} {
		u, err := parsePKCS11URI(in)
		if err != nil {
			t.Fatalf("parse %q: %v", in, err)
		}
		if _, err := resolvePKCS11(u, read); err == nil {
			t.Errorf("resolve %q succeeded", in)
		} else if e, _ := err.(*Error); e == nil || e.Kind != Invalid || e.Hint == "" {
			t.Errorf("resolve %q: %v, want an Invalid *Error with a hint", in, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"pkcs11:token=t?pin-value=1234&module-path=/m": "pkcs11:token=t?pin-value=REDACTED&module-path=/m",
		"PKCS11:token=t?PIN-VALUE=1234":                "PKCS11:token=t?PIN-VALUE=REDACTED",
		"pkcs11:token=t;pin-value=1234;object=o":       "pkcs11:token=t;pin-value=REDACTED;object=o",
		"pkcs11:token=t?pin%2Dvalue=1234":              "pkcs11:token=t?pin%2Dvalue=REDACTED",
		"pkcs11:token=t?pin-source=/etc/pin":           "pkcs11:token=t?pin-source=/etc/pin",
		"awskms://alias/pin-value=x":                   "awskms://alias/pin-value=x",
		"pkcs11:token=t?pin-value=a=b&x=1":             "pkcs11:token=t?pin-value=REDACTED&x=1",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPINs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"pkcs11:token=t?pin-value=1234&module-path=/m": {"1234"},
		"pkcs11:token=t;pin-value=12%2534":             {"12%2534", "12%34"},
		"pkcs11:token=t?pin-source=/etc/pin":           nil,
		"pkcs11:token=t?pin-value=":                    nil,
		"awskms://alias/pin-value=x":                   nil,
	} {
		if got := PINs(in); !slices.Equal(got, want) {
			t.Errorf("PINs(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPKCS11URI checks that what parses formats canonically and parses back
// to the same attributes, and that Redact hides a parsed pin-value.
func FuzzPKCS11URI(f *testing.F) {
	for _, s := range []string{
		"token=a;object=b?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
		"token=My%20Token;id=%01%02?pin-source=file:/run/pin",
		"serial=1;slot-id=2;type=private",
		"x-a=%ff?x-b=/?|",
		"token=a?pin-value=ab?cd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parsePKCS11URI(s)
		if err != nil {
			return
		}
		again, err := parsePKCS11URI(strings.TrimPrefix(u.String(), "pkcs11:"))
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, u, err)
		}
		if !maps.Equal(u.path, again.path) || !maps.Equal(u.query, again.query) {
			t.Fatalf("%q: %q %q != %q %q after a round trip", s, u.path, u.query, again.path, again.query)
		}
		if _, ok := u.query["pin-value"]; ok {
			r, err := parsePKCS11URI(strings.TrimPrefix(Redact("pkcs11:"+s), "pkcs11:"))
			if err != nil {
				t.Fatalf("Redact(%q) = %q does not parse: %v", s, Redact("pkcs11:"+s), err)
			}
			if r.query["pin-value"] != redacted {
				t.Fatalf("Redact(%q) = %q keeps the PIN", s, Redact("pkcs11:"+s))
			}
		}
	})
}
