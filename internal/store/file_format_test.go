package store

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// quickDerive stands in for scrypt where a test is about the file format,
// not the cost: a key that still depends on the salt and the cost.
func quickDerive(salt []byte, logN int) ([]byte, error) {
	k := sha256.Sum256(fmt.Appendf(nil, "%x/%d", salt, logN))
	return k[:], nil
}

func sealed(t *testing.T, logN int) []byte {
	t.Helper()
	data, err := encodeFile(&record{Entries: map[string]Entry{"c1": entry("github.com", "c1")}}, "github.com", "pass", logN, nil, quickDerive)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// edit changes one field of a token file's envelope.
func edit(t *testing.T, data []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The decoder takes scrypt costs from 2^10 to 2^16 with r = 8 and p = 1,
// and refuses any other before deriving a key: a crafted file cannot make
// it allocate gigabytes.
func TestTokenFileScryptCostBounds(t *testing.T) {
	t.Parallel()
	for _, logN := range []int{minLogN, defaultLogN, maxLogN} {
		if _, _, err := decodeFile(sealed(t, logN), "github.com", "pass", quickDerive); err != nil {
			t.Errorf("cost 2^%d: %v", logN, err)
		}
	}
	derived := false
	never := func([]byte, int) ([]byte, error) { derived = true; return nil, errors.New("derived") }
	for _, tc := range []struct {
		name string
		p    map[string]any
	}{
		{"log_n 9", map[string]any{"log_n": minLogN - 1, "r": scryptR, "p": scryptP}},
		{"log_n 17", map[string]any{"log_n": maxLogN + 1, "r": scryptR, "p": scryptP}},
		{"log_n 40", map[string]any{"log_n": 40, "r": scryptR, "p": scryptP}},
		{"r 9", map[string]any{"log_n": minLogN, "r": scryptR + 1, "p": scryptP}},
		{"p 2", map[string]any{"log_n": minLogN, "r": scryptR, "p": scryptP + 1}},
		{"none", nil},
	} {
		data := edit(t, sealed(t, minLogN), func(m map[string]any) {
			if tc.p == nil {
				delete(m, "scrypt")
			} else {
				m["scrypt"] = tc.p
			}
		})
		_, enc, err := decodeFile(data, "github.com", "pass", never)
		if err == nil || err.Error() != "unsupported scrypt parameters" || !enc {
			t.Errorf("%s: %v (encrypted %v), want unsupported scrypt parameters", tc.name, err, enc)
		}
	}
	if derived {
		t.Error("a key was derived for a refused cost")
	}
}

// Salt, nonce and ciphertext must have their sizes: 16 bytes of salt, a
// 12-byte GCM nonce, at least the 16-byte GCM tag.
func TestTokenFileFieldSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field string
		size  int
		want  string // "" when the size is right
	}{
		{"salt", 15, "bad salt"}, {"salt", 17, "bad salt"},
		{"nonce", 11, "bad nonce"}, {"nonce", 13, "bad nonce"},
		{"ciphertext", 15, "bad ciphertext"},
		{"ciphertext", 16, ErrWrongPassphrase.Error()}, // a tag alone: well formed, does not open
	} {
		data := edit(t, sealed(t, minLogN), func(m map[string]any) { m[tc.field] = b64.EncodeToString(make([]byte, tc.size)) })
		if _, _, err := decodeFile(data, "github.com", "pass", quickDerive); err == nil || err.Error() != tc.want {
			t.Errorf("%s of %d bytes: %v, want %q", tc.field, tc.size, err, tc.want)
		}
		if _, _, err := decodeFile(edit(t, data, func(m map[string]any) { m[tc.field] = "not base64!" }), "github.com", "pass", quickDerive); err == nil || !strings.HasPrefix(err.Error(), "bad ") {
			t.Errorf("%s not base64: %v", tc.field, err)
		}
	}
}

// Without a passphrase, a sealed file is reported as needing one, once its
// envelope is known to be sound; with the wrong one, as not opening.
func TestTokenFilePassphrase(t *testing.T) {
	t.Parallel()
	data := sealed(t, minLogN)
	if _, enc, err := decodeFile(data, "github.com", "", quickDerive); !errors.Is(err, ErrNeedPassphrase) || !enc {
		t.Errorf("no passphrase: %v, %v", enc, err)
	}
	bad := edit(t, data, func(m map[string]any) { m["nonce"] = "short" })
	if _, _, err := decodeFile(bad, "github.com", "", quickDerive); errors.Is(err, ErrNeedPassphrase) || err == nil {
		t.Errorf("damaged envelope, no passphrase: %v, want the damage", err)
	}
	other := func(salt []byte, logN int) ([]byte, error) { k, _ := quickDerive(salt, logN+1); return k, nil }
	if _, _, err := decodeFile(data, "github.com", "other", other); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong key: %v", err)
	}
}

// The seal binds the file to its host (in any case), format, version and
// cost: a file renamed to another host, or with its cost lowered, does not
// open.
func TestTokenFileIsBoundToHostAndCost(t *testing.T) {
	t.Parallel()
	data := sealed(t, 12)
	if rec, _, err := decodeFile(data, "GitHub.com", "pass", quickDerive); err != nil || len(rec.Entries) != 1 {
		t.Errorf("host in another case: %v", err)
	}
	moved := edit(t, data, func(m map[string]any) { m["host"] = "ghe.example.com" })
	if _, _, err := decodeFile(moved, "ghe.example.com", "pass", quickDerive); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("moved to another host: %v", err)
	}
	cheaper := edit(t, data, func(m map[string]any) { m["scrypt"] = map[string]any{"log_n": 11, "r": scryptR, "p": scryptP} })
	keyFor12 := func(salt []byte, _ int) ([]byte, error) { return quickDerive(salt, 12) }
	if _, _, err := decodeFile(cheaper, "github.com", "pass", keyFor12); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("cost lowered: %v", err)
	}
	for _, tc := range []struct {
		field string
		value any
		want  string
	}{
		{"format", "something else", "format"},
		{"version", 2, "version 2, want 1"},
		{"host", "gitlab.com", `file of host "gitlab.com"`},
		{"encryption", "rot13", `unknown encryption "rot13"`},
		{"entries", map[string]any{}, "encrypted file with plaintext entries"},
	} {
		if _, _, err := decodeFile(edit(t, data, func(m map[string]any) { m[tc.field] = tc.value }), "github.com", "pass", quickDerive); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.field, tc.value, err, tc.want)
		}
	}
}

// A plaintext file (written only with explicit permission) says so in
// itself, holds no encryption fields, and an empty one is an empty record.
func TestPlaintextTokenFile(t *testing.T) {
	t.Parallel()
	data, err := encodeFile(&record{}, "github.com", "", minLogN, nil, quickDerive)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), plaintextWarning) {
		t.Errorf("plaintext file without its warning:\n%s", data)
	}
	rec, enc, err := decodeFile(data, "github.com", "", quickDerive)
	if err != nil || enc || rec.Entries == nil || len(rec.Entries) != 0 {
		t.Errorf("empty plaintext file: %+v, %v, %v", rec, enc, err)
	}
	mixed := edit(t, data, func(m map[string]any) { m["ciphertext"] = "AAAA" })
	if _, _, err := decodeFile(mixed, "github.com", "", quickDerive); err == nil || err.Error() != "plaintext file with encryption fields" {
		t.Errorf("plaintext with ciphertext: %v", err)
	}
}
