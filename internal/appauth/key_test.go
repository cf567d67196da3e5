package appauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func pkcs1PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))
}

func pkcs8PEM() string {
	der, _ := x509.MarshalPKCS8PrivateKey(testKey())
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestParsePrivateKeyAccepts(t *testing.T) {
	t.Parallel()
	p1 := pkcs1PEM()
	cases := map[string]struct {
		in        string
		reencoded bool
	}{
		"PKCS#1":             {p1, false},
		"PKCS#8":             {pkcs8PEM(), false},
		"surrounding space":  {"\n\n  " + p1 + "  \n\t", false},
		"CRLF":               {strings.ReplaceAll(p1, "\n", "\r\n"), true},
		"literal \\n":        {strings.ReplaceAll(strings.TrimSpace(p1), "\n", `\n`), true},
		"base64 PEM":         {base64.StdEncoding.EncodeToString([]byte(p1)), true},
		"base64 PEM wrapped": {wrap(base64.StdEncoding.EncodeToString([]byte(p1)), 76), true},
		"base64 DER":         {base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(testKey())), true},
		"quoted":             {`"` + strings.ReplaceAll(strings.TrimSpace(p1), "\n", `\n`) + `"`, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k, pemText, err := ParsePrivateKey(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(testKey()) {
				t.Fatal("parsed a different key")
			}
			if reencoded := strings.TrimSpace(pemText) != strings.TrimSpace(tc.in); reencoded != tc.reencoded {
				t.Errorf("PEM text differs from input = %v, want %v", reencoded, tc.reencoded)
			}
			if !strings.Contains(pemText, "-----BEGIN") {
				t.Errorf("returned PEM text is not a PEM")
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s
}

func TestParsePrivateKeyExplains(t *testing.T) {
	t.Parallel()
	p1 := pkcs1PEM()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ec)
	pub, _ := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	cases := map[string]struct{ in, want string }{
		"empty":         {"   ", "empty"},
		"OpenSSH":       {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n", "OpenSSH private key"},
		"client secret": {"0123456789abcdef0123456789abcdef01234567", "client secret"},
		"client ID":     {"Iv23liAbCdEfGhIjKlMn", "client ID"},
		"app ID":        {"123456", "app ID"},
		"token":         {"ghs_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub token"},
		"half a PEM":    {p1[:len(p1)/2], "half a PEM"},
		"damaged PEM":   {strings.Replace(p1, "\n", "", 3), "PEM"},
		"EC key":        {string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})), "elliptic-curve"},
		"PKCS#8 EC":     {string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8})), "not RSA"},
		"public key":    {string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), "public key"},
		"encrypted":     {"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n", "encrypted"},
		"SSH public":    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4rT3vTt99Ox5kndS4HmgTrKBT8SKzhK4rhGkEVGlCI user@host", "SSH public key"},
		"garbage":       {"this is not a key at all", "not a PEM private key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ParsePrivateKey(tc.in)
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("err = %v, want *KeyError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "paste") {
				t.Errorf("error %q does not say what to paste", err)
			}
			assertNoEcho(t, err.Error(), tc.in)
		})
	}
}

// assertNoEcho fails when msg repeats any 8-character run of a secret input.
func assertNoEcho(t *testing.T, msg, secret string) {
	t.Helper()
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 12 || strings.HasPrefix(line, "-----") {
			continue
		}
		for i := 0; i+12 <= len(line); i += 6 {
			if strings.Contains(msg, line[i:i+12]) {
				t.Fatalf("error message echoes the input (%q)", line[i:i+12])
			}
		}
	}
}

// FuzzParsePrivateKey looks for panics and echoes in the parser. Its seeds
// are PEM-shaped but hold no real key: generating one in every fuzz worker,
// under coverage instrumentation, takes longer than the fuzzing itself. The
// paths that accept real keys are TestParsePrivateKeyAccepts's.
func FuzzParsePrivateKey(f *testing.F) {
	fake := "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----\n"
	f.Add(fake)
	f.Add(strings.Replace(fake, "RSA PRIVATE", "PRIVATE", 2))
	f.Add(base64.StdEncoding.EncodeToString([]byte(fake)))
	f.Add(strings.ReplaceAll(fake, "\n", `\n`))
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nAAAA")
	f.Add("0123456789abcdef0123456789abcdef01234567")
	f.Fuzz(func(t *testing.T, in string) {
		k, pemText, err := ParsePrivateKey(in)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			// The fixed advice may contain a short input by chance; what
			// remains of the message must not.
			rest := strings.ReplaceAll(err.Error(), pastePEM, "")
			if trimmed := strings.TrimSpace(in); len(trimmed) >= 16 && strings.Contains(rest, trimmed) {
				t.Fatalf("error echoes the input")
			}
			return
		}
		if k == nil || !strings.Contains(pemText, "-----BEGIN") {
			t.Fatalf("success without a key or PEM text")
		}
	})
}
