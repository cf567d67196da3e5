package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPlaintextFileRefusedWithPassphrase: a plaintext file put where the
// store, configured with a passphrase, expects a sealed one is not used;
// the next Save replaces it sealed (issue 9, finding 10).
func TestPlaintextFileRefusedWithPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := open(t, Options{Mode: "file", Dir: dir, AllowPlaintext: true})
	planted := entry("github.com", "Iv1.a")
	planted.AccessToken = "ghu_planted"
	if _, err := plain.Save(t.Context(), planted); err != nil {
		t.Fatal(err)
	}
	sealed := open(t, Options{Mode: "file", Dir: dir, Passphrase: "pass"})
	_, err := sealed.Load(t.Context(), "github.com", "Iv1.a")
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrPlaintextRefused) {
		t.Fatalf("Load = %v, want a CorruptError wrapping ErrPlaintextRefused", err)
	}
	if !strings.Contains(err.Error(), "plaintext") || strings.Contains(err.Error(), "ghu_planted") {
		t.Errorf("message %q", err)
	}
	loc, err := sealed.Save(t.Context(), entry("github.com", "Iv1.a"))
	if err != nil || !loc.Encrypted {
		t.Fatalf("Save = %v, %v", loc, err)
	}
	got, err := sealed.Load(t.Context(), "github.com", "Iv1.a")
	if err != nil || got.AccessToken != secretAccess {
		t.Errorf("after Save, Load = %v, %v", got, err)
	}
}

// TestEntryURLsMustBeItsHosts: an entry whose URLs name another host than
// its record's is neither saved nor loaded, so the client secret and the
// refresh token are never sent to a URL an edited store chose.
func TestEntryURLsMustBeItsHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		edit    func(*Entry)
		refused bool
	}{
		{"github.com", func(*Entry) {}, false},
		{"GHES /api/v3", func(e *Entry) {
			e.Host, e.GitHubURL, e.APIURL = "ghe.example", "https://ghe.example", "https://ghe.example/api/v3"
		}, false},
		{"emulator port", func(e *Entry) {
			e.Host, e.GitHubURL, e.APIURL = "127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3"
		}, false},
		{"web URL elsewhere", func(e *Entry) { e.GitHubURL = "https://evil.example" }, true},
		{"web URL on another port", func(e *Entry) { e.GitHubURL = "https://github.com:8443" }, true},
		{"API URL elsewhere", func(e *Entry) { e.APIURL = "https://evil.example/api/v3" }, true},
		{"API URL of a suffix host", func(e *Entry) { e.APIURL = "https://api.github.com.evil.example" }, true},
		{"not http", func(e *Entry) { e.GitHubURL = "file:///etc" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := entry("github.com", "Iv1.a")
			tc.edit(&e)
			dir := t.TempDir()
			st := open(t, Options{Mode: "file", Dir: dir, AllowPlaintext: true})
			_, err := st.Save(t.Context(), e)
			if (err != nil) != tc.refused {
				t.Fatalf("Save = %v, refused want %v", err, tc.refused)
			}
			if !tc.refused {
				return
			}
			// Edited in the file itself: Load refuses it.
			good := entry("github.com", "Iv1.a")
			good.Host = e.Host
			if _, err := st.Save(t.Context(), good); err != nil {
				t.Fatal(err)
			}
			path := st.filePath(e.Host)
			b, _ := os.ReadFile(path)
			edited := strings.Replace(strings.Replace(string(b), `"https://github.com"`, quote(e.GitHubURL), 1), `"https://api.github.com"`, quote(e.APIURL), 1)
			os.WriteFile(path, []byte(edited), 0o600)
			_, err = st.Load(t.Context(), e.Host, "Iv1.a")
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Errorf("Load of the edited record = %v, want a CorruptError", err)
			}
		})
	}
}

func quote(s string) string { return `"` + s + `"` }

// TestAnotherUsersFolderIsRefused: a users folder another user made is
// neither read nor written. Making one takes root, which CI runs as.
func TestAnotherUsersFolderIsRefused(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("making a folder owned by another user needs root on Unix (CI runs as root)")
	}
	dir := t.TempDir()
	st := open(t, Options{Mode: "file", Dir: dir, AllowPlaintext: true})
	if _, err := st.Save(t.Context(), entry("github.com", "Iv1.a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "users"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(t.Context(), "github.com", "Iv1.a"); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
		t.Errorf("Load = %v", err)
	}
	if _, err := st.Save(t.Context(), entry("github.com", "Iv1.a")); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
		t.Errorf("Save = %v", err)
	}
}
