package appauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// ParseKey says whether the input was the PEM text as is: when it was not
// (base64, escaped line breaks), the caller must mask the PEM's lines as
// well as the input. A ParsedKey prints as a placeholder.
func TestParseKeySaysWhetherItReencoded(t *testing.T) {
	t.Parallel()
	p1 := pkcs1PEM()
	for _, tc := range []struct {
		name      string
		in        string
		reencoded bool
	}{
		{"PEM", p1, false},
		{"PEM with blank lines around", "\n\n" + p1 + "\n", false},
		{"base64", base64.StdEncoding.EncodeToString([]byte(p1)), true},
		{"escaped line breaks", strings.ReplaceAll(strings.TrimSpace(p1), "\n", `\n`), true},
	} {
		k, err := ParseKey(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !k.Key.Equal(testKey()) || strings.TrimSpace(k.PEM) != strings.TrimSpace(p1) || k.Reencoded != tc.reencoded {
			t.Errorf("%s: PEM same %v, Reencoded %v, want %v", tc.name, strings.TrimSpace(k.PEM) == strings.TrimSpace(p1), k.Reencoded, tc.reencoded)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			if out := fmt.Sprintf(verb, k); out != "[REDACTED KEY]" {
				t.Errorf("%s prints %.40q", verb, out)
			}
		}
	}
	k, err := ParseKey("ssh-rsa AAAA")
	var ke *KeyError
	if k != nil || !errors.As(err, &ke) {
		t.Errorf("ParseKey(SSH key) = %v, %v; want no key and a *KeyError", k, err)
	}
}
