package gitcred

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
)

var testSecret = []byte("-----BEGIN RSA PRIVATE KEY-----\nnot a real key, only sealing material\n-----END RSA PRIVATE KEY-----\n")

func openTestCache(t *testing.T, now func() time.Time) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache"), testSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testToken(value string, exp time.Time) *appauth.Token {
	return &appauth.Token{Value: appauth.Secret(value), ExpiresAt: exp, InstallationID: 101, Owner: "octo-org", AppSlug: "octo-app"}
}

func TestCacheTokenRoundTripAndReuseMargin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := openTestCache(t, func() time.Time { return now })
	s := Scope{APIURL: "https://api.github.com/", App: "Iv23x", InstallationID: 101}
	if _, ok := c.Token(s); ok {
		t.Fatal("empty cache answered")
	}
	exp := now.Add(time.Hour)
	if err := c.PutToken(s, testToken("ghs_one", exp)); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Token(s)
	if !ok || got.Value != "ghs_one" || !got.ExpiresAt.Equal(exp) || got.InstallationID != 101 {
		t.Fatalf("Token = %+v, %v", got, ok)
	}
	now = exp.Add(-ReuseMargin - time.Second)
	if _, ok := c.Token(s); !ok {
		t.Error("token with just over the margin left was not reused")
	}
	now = exp.Add(-ReuseMargin)
	if _, ok := c.Token(s); ok {
		t.Error("token with only the margin left was reused")
	}
}

func TestCacheScopeIgnoresOrderAndCase(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	a := Scope{APIURL: "https://api.github.com", App: "1", InstallationID: 7, Repositories: []string{"b", "A"}, Permissions: map[string]string{"contents": "read", "issues": "write"}}
	b := Scope{APIURL: "https://API.github.com/", App: "1", InstallationID: 7, Repositories: []string{"a", "B", "a"}, Permissions: map[string]string{"issues": "write", "contents": "read"}}
	if err := c.PutToken(a, testToken("ghs_a", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Token(b); !ok {
		t.Error("the same scope written differently missed")
	}
	for _, other := range []Scope{
		{APIURL: a.APIURL, App: "1", InstallationID: 7},
		{APIURL: a.APIURL, App: "1", InstallationID: 7, Repositories: []string{"a", "b"}, Permissions: map[string]string{"contents": "write", "issues": "write"}},
		{APIURL: a.APIURL, App: "2", InstallationID: 7, Repositories: a.Repositories, Permissions: a.Permissions},
		{APIURL: "https://ghe.example.com/api/v3", App: "1", InstallationID: 7, Repositories: a.Repositories, Permissions: a.Permissions},
		{APIURL: a.APIURL, App: "1", InstallationID: 8, Repositories: a.Repositories, Permissions: a.Permissions},
	} {
		if _, ok := c.Token(other); ok {
			t.Errorf("scope %+v shares a's token", other)
		}
	}
}

func TestCacheFilesArePrivateAndSealed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dir, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := Scope{APIURL: "https://api.github.com", App: "1", InstallationID: 101}
	if err := c.PutToken(s, testToken("ghs_findme", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := c.PutInstallation("https://api.github.com", "1", "octo-org", Installation{ID: 101, Account: "octo-org"}); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(dir)
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("folder mode = %v, want 0700", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("cache holds %d files, want 2", len(entries))
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte("ghs_findme")) {
			t.Errorf("%s holds the token in clear", e.Name())
		}
		if bytes.Contains(b, testSecret[:20]) {
			t.Errorf("%s holds the private key", e.Name())
		}
		fi, _ := e.Info()
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}

	// Another key (a rotated one, or a thief without it) opens nothing.
	other, err := Open(dir, []byte("another key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.Token(s); ok {
		t.Error("a cache opened with another key read the token")
	}
}

func TestCacheSwappedFileDoesNotOpen(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	narrow := Scope{APIURL: "u", App: "1", InstallationID: 1, Permissions: map[string]string{"contents": "read"}}
	wide := Scope{APIURL: "u", App: "1", InstallationID: 1}
	if err := c.PutToken(narrow, testToken("ghs_narrow", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(c.file("tok-", narrow.id()))
	os.WriteFile(c.file("tok-", wide.id()), b, 0o600)
	if _, ok := c.Token(wide); ok {
		t.Error("a token file copied to another scope's name opened")
	}
}

func TestCacheCorruptFilesAreMisses(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	s := Scope{APIURL: "u", App: "1", InstallationID: 1}
	for _, garbage := range [][]byte{nil, []byte("garbage"), append(sealMagic, 1, 2, 3), bytes.Repeat([]byte{0xff}, 2*maxEntry)} {
		os.WriteFile(c.file("tok-", s.id()), garbage, 0o600)
		os.WriteFile(c.file("inst-", lookupID("u", "1", "o"))+".json", garbage, 0o600)
		if _, ok := c.Token(s); ok {
			t.Errorf("garbage %.10q read as a token", garbage)
		}
		if _, ok := c.Installation("u", "1", "o"); ok {
			t.Errorf("garbage %.10q read as an installation", garbage)
		}
	}
	// And the next write replaces the garbage.
	if err := c.PutToken(s, testToken("ghs_new", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if tok, ok := c.Token(s); !ok || tok.Value != "ghs_new" {
		t.Errorf("after rewrite Token = %v, %v", tok, ok)
	}
}

func TestCacheDropTokenOnlyThatToken(t *testing.T) {
	t.Parallel()
	c := openTestCache(t, nil)
	s := Scope{APIURL: "u", App: "1", InstallationID: 1}
	c.PutToken(s, testToken("ghs_current", time.Now().Add(time.Hour)))
	if c.DropToken(s, "ghs_older") {
		t.Error("DropToken dropped a token for another value")
	}
	if _, ok := c.Token(s); !ok {
		t.Fatal("the current token is gone")
	}
	if !c.DropToken(s, "ghs_current") {
		t.Error("DropToken did not drop the token")
	}
	if _, ok := c.Token(s); ok {
		t.Error("dropped token still answers")
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	if _, err := Open(t.TempDir(), nil, nil); err == nil {
		t.Error("Open with no secret succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(file, testSecret, nil); err == nil {
		t.Error("Open on a file succeeded")
	}
	if _, err := Open(filepath.Join(file, "sub"), testSecret, nil); err == nil {
		t.Error("Open under a file succeeded")
	}
}

func TestTokenFileRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token.json")
	exp := time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC)
	if err := WriteTokenFile(path, TokenFile{Host: "github.com", Owner: "octo-org", Token: "ghs_x", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadTokenFile(path)
	if err != nil || f.Token != "ghs_x" || f.Host != "github.com" || f.Owner != "octo-org" || !f.ExpiresAt.Equal(exp) {
		t.Fatalf("ReadTokenFile = %+v, %v", f, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v", fi.Mode().Perm())
		}
	}
	os.WriteFile(path, []byte(`{"host":"github.com"}`), 0o600)
	if _, err := ReadTokenFile(path); err == nil {
		t.Error("a token file without a token was accepted")
	}
	if _, err := ReadTokenFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing token file was accepted")
	}
}
