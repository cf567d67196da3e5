package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Host names keep their letters and digits, the last of each range too.
func TestFileNameKeepsEveryLetterAndDigit(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"abcdefghijklmnopqrstuvwxyz.example", "z.example", "host-0123456789", "ghe9.z"} {
		if got := fileName(host); got != host {
			t.Errorf("fileName(%q) = %q", host, got)
		}
	}
}

// A keychain item holding another host's record is corrupt, and says which
// item.
func TestKeyringItemOfAnotherHost(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(record{Entries: map[string]Entry{"c1": entry("ghe.example.com", "c1")}})
	kr := &mapKeyring{items: map[string]string{"app-token/github.com": string(b)}}
	s := open(t, Options{Mode: "keyring", Dir: t.TempDir(), Keyring: kr})
	var ce *CorruptError
	if _, err := s.Load(t.Context(), "github.com", ""); !errors.As(err, &ce) || !strings.Contains(err.Error(), "keychain item app-token/github.com") {
		t.Errorf("Load = %v, want a *CorruptError naming the item", err)
	}
}
