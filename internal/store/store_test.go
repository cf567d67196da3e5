package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// mapKeyring is an in-memory keychain. fail makes every call fail as a
// machine without a keychain does; hang makes every call block until the
// test ends, as a hung D-Bus does.
type mapKeyring struct {
	mu    sync.Mutex
	items map[string]string
	fail  error
	hang  chan struct{}
	calls int
}

func (k *mapKeyring) call() error {
	k.mu.Lock()
	k.calls++
	hang, fail := k.hang, k.fail
	k.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return fail
}

func (k *mapKeyring) Get(service, user string) (string, error) {
	if err := k.call(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"/"+user]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (k *mapKeyring) Set(service, user, password string) error {
	if err := k.call(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.items == nil {
		k.items = map[string]string{}
	}
	k.items[service+"/"+user] = password
	return nil
}

func (k *mapKeyring) Delete(service, user string) error {
	if err := k.call(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"/"+user]; !ok {
		return ErrNotFound
	}
	delete(k.items, service+"/"+user)
	return nil
}

const (
	secretAccess  = "ghu_SECRETaccessTOKEN0123456789abcdefXYZ"
	secretRefresh = "ghr_SECRETrefreshTOKEN0123456789abcdefXYZ"
	secretClient  = "SECRETclientSECRET0123456789"
)

func entry(host, clientID string) Entry {
	return Entry{
		Host: host, ClientID: clientID, GitHubURL: "https://" + host, APIURL: "https://api." + host,
		ClientSecret: secretClient, Flow: "device", Login: "octocat", UserID: 583231,
		AccessToken: secretAccess, TokenType: "bearer", ExpiresAt: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC),
		RefreshToken: secretRefresh, RefreshExpiresAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}
}

func open(t *testing.T, o Options) *Store {
	t.Helper()
	if o.ScryptLogN == 0 {
		o.ScryptLogN = minLogN // fast tests; the format records the cost
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEncryptedFileNeverHoldsSecretsInClear(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "correct horse"})
	loc, err := s.Save(t.Context(), entry("github.com", "Iv1.abc"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Kind != KindFile || !loc.Encrypted || loc.Path != filepath.Join(dir, "users", "github.com.json") {
		t.Fatalf("location = %+v", loc)
	}
	data, err := os.ReadFile(loc.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{secretAccess, secretRefresh, secretClient, "octocat"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("file holds %q in clear:\n%s", secret, data)
		}
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(loc.Path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
	}
	// A second Store (another process) with the same passphrase reads it.
	got, err := open(t, Options{Mode: "file", Dir: dir, Passphrase: "correct horse"}).Load(t.Context(), "GitHub.com", "")
	if err != nil {
		t.Fatal(err)
	}
	want := entry("github.com", "Iv1.abc")
	want.Location = loc
	if got != want {
		t.Errorf("Load = %#v\nwant %#v", got, want)
	}
	if got.AccessToken != secretAccess || got.RefreshToken != secretRefresh || got.ClientSecret != secretClient {
		t.Error("secrets did not round-trip")
	}
}

func TestWrongPassphraseAndMissingPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := t.Context()
	if _, err := open(t, Options{Mode: "file", Dir: dir, Passphrase: "one"}).Save(ctx, entry("github.com", "c1")); err != nil {
		t.Fatal(err)
	}
	_, err := open(t, Options{Mode: "file", Dir: dir, Passphrase: "two"}).Load(ctx, "github.com", "c1")
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Load with another passphrase = %v, want ErrWrongPassphrase", err)
	}
	_, err = open(t, Options{Mode: "file", Dir: dir}).Load(ctx, "github.com", "c1")
	if !errors.Is(err, ErrNeedPassphrase) {
		t.Errorf("Load without passphrase = %v, want ErrNeedPassphrase", err)
	}
	// A new sign-in with the other passphrase replaces the file.
	two := open(t, Options{Mode: "file", Dir: dir, Passphrase: "two"})
	e := entry("github.com", "c1")
	e.AccessToken = "ghu_new"
	if _, err := two.Save(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got, err := two.Load(ctx, "github.com", "c1"); err != nil || got.AccessToken != "ghu_new" {
		t.Errorf("after replacing: %v, %v", got, err)
	}
}

func TestPlaintextOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := t.Context()
	_, err := open(t, Options{Mode: "file", Dir: dir}).Save(ctx, entry("github.com", "c1"))
	if !errors.Is(err, ErrNeedPassphrase) {
		t.Fatalf("Save without passphrase or permission = %v, want ErrNeedPassphrase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "users", "github.com.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was written anyway: %v", err)
	}
	loc, err := open(t, Options{Mode: "file", Dir: dir, AllowPlaintext: true}).Save(ctx, entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Encrypted || !strings.Contains(loc.String(), "plaintext") {
		t.Errorf("location = %v, want a plaintext file", loc)
	}
	data, _ := os.ReadFile(loc.Path)
	if !bytes.Contains(data, []byte(plaintextWarning)) {
		t.Errorf("plaintext file does not carry its warning:\n%s", data)
	}
	// Later runs (a refresh, without the permission flag) may rewrite the
	// entry where it already lives in plaintext.
	later := open(t, Options{Mode: "file", Dir: dir})
	e, err := later.Load(ctx, "github.com", "c1")
	if err != nil {
		t.Fatal(err)
	}
	e.AccessToken = "ghu_refreshed"
	if _, err := later.Save(ctx, e); err != nil {
		t.Errorf("rewriting a plaintext entry: %v", err)
	}
}

func TestCorruptFileIsSignedOutAndReplaced(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for name, content := range map[string]string{
		"garbage":     "\x00\x01not json at all",
		"empty":       "",
		"truncated":   `{"format":"app-token user tokens","version":1,"host":"github.com","encryption":"scrypt+aes-256-gcm","scrypt":{"log_n":10,"r":8,"p":1},"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","cipher`,
		"huge cost":   `{"format":"app-token user tokens","version":1,"host":"github.com","encryption":"scrypt+aes-256-gcm","scrypt":{"log_n":40,"r":8,"p":1},"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
		"bad entries": `{"format":"app-token user tokens","version":1,"host":"github.com","encryption":"none","entries":{"c1":{"client_id":"other","host":"github.com","access_token":"x"}}}`,
		"other host":  `{"format":"app-token user tokens","version":1,"host":"ghe.example","encryption":"none","entries":{}}`,
		"future":      `{"format":"app-token user tokens","version":2,"host":"github.com","encryption":"none"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "users", "github.com.json")
			os.MkdirAll(filepath.Dir(path), 0o700)
			os.WriteFile(path, []byte(content), 0o600)
			s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
			_, err := s.Load(ctx, "github.com", "")
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Where != path {
				t.Fatalf("Load = %v, want a *CorruptError naming %s", err, path)
			}
			if _, err := s.Save(ctx, entry("github.com", "c1")); err != nil {
				t.Fatalf("Save over a corrupt file: %v", err)
			}
			if _, err := s.Load(ctx, "github.com", "c1"); err != nil {
				t.Errorf("Load after Save: %v", err)
			}
		})
	}
}

func TestDeleteRemovesCorruptFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "users", "github.com.json")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("{nope"), 0o600)
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	var ce *CorruptError
	if _, err := s.Delete(t.Context(), "github.com", ""); !errors.As(err, &ce) {
		t.Errorf("Delete = %v, want the *CorruptError it removed", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("corrupt file still there: %v", err)
	}
	if _, err := s.Delete(t.Context(), "github.com", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestFileRenamedToAnotherHostDoesNotOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Mode: "file", Dir: dir, Passphrase: "p"})
	loc, err := s.Save(t.Context(), entry("ghe.example", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(loc.Path)
	// Rewrite the clear host field too: only the sealed binding can tell.
	data = bytes.ReplaceAll(data, []byte(`"ghe.example"`), []byte(`"github.com"`))
	os.WriteFile(filepath.Join(dir, "users", "github.com.json"), data, 0o600)
	if _, err := s.Load(t.Context(), "github.com", ""); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Load of a moved file = %v, want it refused", err)
	}
}

func TestHostsAndClientIDsAreSeparate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, Options{Mode: "file", Dir: t.TempDir(), Passphrase: "p"})
	for _, e := range []Entry{entry("github.com", "c1"), entry("github.com", "c2"), entry("ghe.example", "c1"), entry("127.0.0.1:8080", "c1")} {
		e.Login = e.Host + "/" + e.ClientID
		if _, err := s.Save(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ host, id, login string }{
		{"github.com", "c1", "github.com/c1"},
		{"github.com", "c2", "github.com/c2"},
		{"ghe.example", "", "ghe.example/c1"},
		{"127.0.0.1:8080", "", "127.0.0.1:8080/c1"},
	} {
		got, err := s.Load(ctx, tc.host, tc.id)
		if err != nil || got.Login != tc.login {
			t.Errorf("Load(%q, %q) = %v, %v; want login %q", tc.host, tc.id, got, err, tc.login)
		}
	}
	if _, err := s.Load(ctx, "github.com", ""); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "c1, c2") {
		t.Errorf("Load without client ID among two = %v, want ErrAmbiguous naming both", err)
	}
	if _, err := s.Load(ctx, "github.com", "c3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of an unknown client = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, "github.com", "c1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, "github.com", ""); err != nil || got.ClientID != "c2" {
		t.Errorf("after deleting c1: %v, %v", got, err)
	}
}

func TestKeyringPreferredInAutoMode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	kr := &mapKeyring{}
	s := open(t, Options{Dir: dir, Keyring: kr})
	loc, err := s.Save(ctx, entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Kind != KindKeyring || loc.Path != "app-token/github.com" {
		t.Errorf("location = %+v, want the keychain", loc)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "users")); len(entries) != 0 {
		t.Errorf("files written besides the keychain: %v", entries)
	}
	got, err := s.Load(ctx, "github.com", "")
	if err != nil || got.AccessToken != secretAccess || got.Location.Kind != KindKeyring {
		t.Errorf("Load = %v, %v", got, err)
	}
	if _, err := s.Delete(ctx, "github.com", "c1"); err != nil {
		t.Fatal(err)
	}
	if len(kr.items) != 0 {
		t.Errorf("keychain still holds %v", kr.items)
	}
}

func TestNoKeyringFallsBackToFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kr := &mapKeyring{fail: errors.New("dbus: no session bus")}
	s := open(t, Options{Dir: t.TempDir(), Keyring: kr, Passphrase: "p"})
	loc, err := s.Save(ctx, entry("github.com", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Kind != KindFile || !loc.Encrypted {
		t.Errorf("location = %+v, want an encrypted file", loc)
	}
	if got, err := s.Load(ctx, "github.com", ""); err != nil || got.Location.Kind != KindFile {
		t.Errorf("Load = %v, %v", got, err)
	}
	// Mode keyring insists, and says why.
	strict := open(t, Options{Mode: "keyring", Dir: t.TempDir(), Keyring: kr})
	if _, err := strict.Load(ctx, "github.com", ""); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "no session bus") {
		t.Errorf("keyring mode without a keychain: %v", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	kr := &mapKeyring{hang: hang}
	dir := t.TempDir()
	// Auto mode: a hung keychain costs the timeout, then files serve.
	s := open(t, Options{Dir: dir, Keyring: kr, KeyringTimeout: time.Millisecond, Passphrase: "p"})
	start := time.Now()
	loc, err := s.Save(ctx, entry("github.com", "c1"))
	if err != nil || loc.Kind != KindFile {
		t.Fatalf("Save with a hung keychain = %+v, %v; want the file", loc, err)
	}
	if _, err := s.Load(ctx, "github.com", "c1"); err != nil {
		t.Errorf("Load with a hung keychain: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the timeout did not cut the hung calls short", d)
	}
	// Keyring mode: the timeout is the answer.
	strict := open(t, Options{Mode: "keyring", Dir: dir, Keyring: kr, KeyringTimeout: time.Millisecond})
	if _, err := strict.Load(ctx, "github.com", ""); !errors.Is(err, ErrKeyringTimeout) {
		t.Errorf("keyring mode with a hung keychain: %v, want ErrKeyringTimeout", err)
	}
}

func TestCorruptKeyringItem(t *testing.T) {
	t.Parallel()
	kr := &mapKeyring{items: map[string]string{"app-token/github.com": "{]"}}
	s := open(t, Options{Mode: "keyring", Dir: t.TempDir(), Keyring: kr})
	var ce *CorruptError
	if _, err := s.Load(t.Context(), "github.com", ""); !errors.As(err, &ce) {
		t.Errorf("Load = %v, want *CorruptError", err)
	}
	if _, err := s.Save(t.Context(), entry("github.com", "c1")); err != nil {
		t.Errorf("Save over a corrupt item: %v", err)
	}
}

func TestEntryPrintsNoSecrets(t *testing.T) {
	t.Parallel()
	e := entry("github.com", "c1")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, e)
		for _, secret := range []string{secretAccess, secretRefresh, secretClient} {
			if strings.Contains(out, secret) {
				t.Errorf("%s prints a secret: %s", verb, out)
			}
		}
	}
	if out := fmt.Sprintf("%v", &e); strings.Contains(out, secretAccess) {
		t.Errorf("pointer prints a secret: %s", out)
	}
}

func TestLockExcludesAcrossStores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := open(t, Options{Mode: "file", Dir: dir})
	b := open(t, Options{Mode: "file", Dir: dir})
	unlock, err := a.Lock(t.Context(), "github.com")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Lock(ctx, "github.com"); err == nil {
		t.Fatal("second Lock succeeded while the first holds it")
	}
	other, err := b.Lock(t.Context(), "ghe.example")
	if err != nil {
		t.Fatalf("lock of another host: %v", err)
	}
	other()
	unlock()
	again, err := b.Lock(t.Context(), "github.com")
	if err != nil {
		t.Fatal(err)
	}
	again()
}

func TestOpenRejectsBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := Open(Options{Mode: "vault", Dir: "x"}); err == nil || !strings.Contains(err.Error(), `"vault"`) {
		t.Errorf("unknown mode: %v", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("no folder accepted")
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"github.com":     "github.com",
		"GHE.Example":    "ghe.example",
		"127.0.0.1:8080": "127.0.0.1_8080",
		"[::1]:80":       "___1__80",
		"..":             "_..",
		"":               "_",
		"a/../b":         "a_.._b",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTargetSaysWhereASignInWouldGo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	if loc, err := open(t, Options{Dir: dir, Keyring: &mapKeyring{}}).Target(ctx, "github.com"); err != nil || loc.Kind != KindKeyring {
		t.Errorf("with a keychain: %+v, %v", loc, err)
	}
	noKeychain := &mapKeyring{fail: errors.New("no keychain")}
	if _, err := open(t, Options{Dir: dir, Keyring: noKeychain}).Target(ctx, "github.com"); !errors.Is(err, ErrNeedPassphrase) {
		t.Errorf("no keychain, no passphrase: %v", err)
	}
	if loc, err := open(t, Options{Dir: dir, Keyring: noKeychain, Passphrase: "p"}).Target(ctx, "github.com"); err != nil || !loc.Encrypted || loc.Kind != KindFile {
		t.Errorf("no keychain, passphrase: %+v, %v", loc, err)
	}
	if loc, err := open(t, Options{Dir: dir, AllowPlaintext: true}).Target(ctx, "github.com"); err != nil || loc.Encrypted {
		t.Errorf("plaintext allowed: %+v, %v", loc, err)
	}
	if _, err := open(t, Options{Mode: "keyring", Dir: dir, Keyring: noKeychain}).Target(ctx, "github.com"); !errors.Is(err, ErrKeyringUnavailable) {
		t.Errorf("keyring mode without a keychain: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Target wrote %v", entries)
	}
}
