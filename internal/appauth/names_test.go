package appauth

import (
	"strings"
	"testing"
)

// Account and repository names are letters, digits, '-', '_' and '.', at
// most 100 characters; an owner has no '.'. The characters just outside
// each range are refused.
func TestNameCharacters(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"azAZ09", "a-b_c.d", "z", "Z", "0", "9", "A", "a", strings.Repeat("x", 100)} {
		if _, _, err := ParseRepositories(name, "o", "repositories"); err != nil {
			t.Errorf("repository %q refused: %v", name, err)
		}
	}
	for _, c := range []string{"`", "{", "@", "[", "/", ":", " ", "é", "!"} {
		name := "a" + c + "b"
		if c == "/" {
			name = "a/b/c"
		}
		if _, _, err := ParseRepositories(name, "o", "repositories"); err == nil {
			t.Errorf("repository %q accepted", name)
		}
	}
	for _, name := range []string{".", "..", strings.Repeat("x", 101)} {
		if _, _, err := ParseRepositories(name, "o", "repositories"); err == nil {
			t.Errorf("repository %q accepted", name)
		}
	}
	if !ValidOwner("octo-org9") || ValidOwner("octo.org") || ValidOwner("") || ValidOwner("a:b") {
		t.Error("ValidOwner: want letters, digits and '-', no '.'")
	}
	if _, _, err := ParseRepositories("bad:owner/repo", "", "repositories"); err == nil {
		t.Error("a qualified repository with a bad owner accepted")
	}
}
