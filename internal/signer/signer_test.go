package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/signer/signertest"
)

// Keys are generated once per test binary; no PEM is committed.
var (
	appKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	smallKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
	ecKey    = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// pkcs8PEM is key as a PKCS#8 PEM.
var pkcs8PEM = signertest.PKCS8PEM

func noWait(context.Context, time.Duration) error { return nil }

// checkErr asserts that err is an *Error of kind, names the URI shown, says
// what to check, and holds none of the secrets.
func checkErr(t *testing.T, err error, kind Kind, shown string, secrets ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	if e.Kind != kind {
		t.Errorf("kind = %v, want %v: %v", e.Kind, kind, err)
	}
	msg := err.Error()
	t.Log(msg)
	if !strings.Contains(msg, shown) {
		t.Errorf("error %q does not name %q", msg, shown)
	}
	if e.Hint == "" {
		t.Errorf("error %q says nothing to check", msg)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q holds a secret", msg)
		}
	}
	return e
}

// keyLines are a PEM's base64 lines, none of which may appear in an error.
func keyLines(pemText string) []string {
	var out []string
	for _, l := range strings.Split(pemText, "\n") {
		if len(l) > 20 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// countingSigner counts the signatures a crypto.Signer makes.
type countingSigner struct {
	crypto.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}

// mint proves the whole path: appauth signs the App's JWT with s, and the
// emulator, which knows only the App's key, accepts it and issues a token.
// It also checks a JWT from s against the App's public key.
func mint(t testing.TB, s crypto.Signer, app *rsa.PrivateKey) {
	t.Helper()
	emu := emulator.NewWorld(app)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	a, err := appauth.New(emulator.WorldClientID, s, appauth.WithBaseURL(srv.URL), appauth.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Mint(context.Background(), appauth.Request{Owner: emulator.WorldOrg})
	if err != nil {
		t.Fatalf("mint through %v: %v", s, err)
	}
	if info, ok := emu.TokenInfo(tok.Value.Reveal()); !ok || info.InstallationID != emulator.WorldOrgInstID {
		t.Fatalf("the emulator did not issue the token (known %v, installation %d)", ok, info.InstallationID)
	}
	j, _, err := a.JWT()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(j, func(*jwt.Token) (any, error) { return app.Public(), nil }, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(emulator.WorldClientID))
	if err != nil || !parsed.Valid {
		t.Fatalf("the JWT does not verify with the App's public key: %v", err)
	}
}

// verifies signs a digest with s and checks it against pub.
func verifies(t *testing.T, s crypto.Signer, pub *rsa.PublicKey) {
	t.Helper()
	sum := sha256.Sum256([]byte("header.claims"))
	sig, err := s.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the signature does not verify with the App's public key: %v", err)
	}
	if !s.Public().(*rsa.PublicKey).Equal(pub) {
		t.Fatal("Public() is not the App's public key")
	}
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pemText := pkcs8PEM(t, appKey())
	path := writeFile(t, "app.pem", pemText)
	for _, uri := range []string{"file:" + path, "file://" + path} {
		s, err := Open(ctx, uri)
		if err != nil {
			t.Fatalf("Open(%q): %v", uri, err)
		}
		verifies(t, s, &appKey().PublicKey)
		mint(t, s, appKey())
	}

	secrets := keyLines(pkcs8PEM(t, ecKey()))
	for _, tc := range []struct {
		uri  string
		kind Kind
	}{
		{"file:" + filepath.Join(t.TempDir(), "missing.pem"), NotFound},
		{"file:" + writeFile(t, "ec.pem", pkcs8PEM(t, ecKey())), WrongKey},
		{"file:" + writeFile(t, "small.pem", pkcs8PEM(t, smallKey())), WrongKey},
		{"file:", Invalid},
		{"file://host/x.pem", Invalid},
		{"vault://x", Invalid},
		{"no-scheme", Invalid},
	} {
		_, err := Open(ctx, tc.uri)
		checkErr(t, err, tc.kind, tc.uri, secrets...)
	}
}

// fakeBackend fails with errs in turn, then signs with key.
type fakeBackend struct {
	key   *rsa.PrivateKey
	errs  []error
	calls int
	hang  bool
}

var errTransient, errDenied = errors.New("transient"), errors.New("denied")

func (f *fakeBackend) sign(ctx context.Context, digest []byte) ([]byte, error) {
	f.calls++
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, digest)
}

func (f *fakeBackend) classify(err error) (Kind, string, bool) {
	if errors.Is(err, errTransient) || errors.Is(err, context.DeadlineExceeded) {
		return Unreachable, "retry", true
	}
	return Refused, "permissions", false
}

func (f *fakeBackend) close() error { return nil }

func TestSignRetriesTransientOnly(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("x"))
	newSigner := func(b *fakeBackend) *Signer {
		return &Signer{uri: "fake://k", pub: &appKey().PublicKey, b: b, opts: options{timeout: 50 * time.Millisecond, retries: 2, wait: noWait}}
	}
	// Two transient failures, then success: three calls.
	b := &fakeBackend{key: appKey(), errs: []error{errTransient, errTransient}}
	if _, err := newSigner(b).Sign(nil, sum[:], crypto.SHA256); err != nil || b.calls != 3 {
		t.Errorf("after two transient failures: err %v, %d calls, want success in 3", err, b.calls)
	}
	// Three transient failures exhaust the retries.
	b = &fakeBackend{key: appKey(), errs: []error{errTransient, errTransient, errTransient}}
	_, err := newSigner(b).Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Unreachable, "fake://k")
	if b.calls != 3 || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("%d calls (%v), want 3", b.calls, err)
	}
	// A refusal is not retried.
	b = &fakeBackend{key: appKey(), errs: []error{errDenied}}
	_, err = newSigner(b).Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Refused, "fake://k")
	if b.calls != 1 {
		t.Errorf("a refusal was tried %d times, want 1", b.calls)
	}
	// A call that never answers times out, as a transient failure.
	b = &fakeBackend{key: appKey(), hang: true}
	_, err = newSigner(b).Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Unreachable, "fake://k")
	if b.calls != 3 || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("hanging backend: %d calls, %v", b.calls, err)
	}
	// A signature by another key is caught before it reaches GitHub.
	b = &fakeBackend{key: otherKey()}
	_, err = newSigner(b).Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Failed, "fake://k")
	// Only PKCS#1 v1.5 over SHA-256.
	for _, opts := range []crypto.SignerOpts{crypto.SHA512, &rsa.PSSOptions{Hash: crypto.SHA256}} {
		if _, err := newSigner(&fakeBackend{key: appKey()}).Sign(nil, sum[:], opts); err == nil {
			t.Errorf("Sign with %T %v succeeded", opts, opts.HashFunc())
		}
	}
}

func TestOneSignaturePerJWT(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	emu := emulator.NewWorld(appKey(), emulator.WithClock(clock))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	s := &countingSigner{Signer: appKey()}
	a, err := appauth.New(emulator.WorldClientID, s, appauth.WithBaseURL(srv.URL), appauth.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	// A token every 30 seconds: the JWT signed first (valid 9 minutes
	// from now, iat being backdated 60 s) serves them all while it has more
	// than a minute left, i.e. for 8 minutes; then one more signature.
	for i := 0; i < 20; i++ {
		if _, err := a.Mint(t.Context(), appauth.Request{Owner: emulator.WorldOrg}); err != nil {
			t.Fatal(err)
		}
		want := int64(1)
		if i >= 16 {
			want = 2
		}
		if got := s.n.Load(); got != want {
			t.Fatalf("after %s: %d signatures, want %d", time.Duration(i)*30*time.Second, got, want)
		}
		advance(30 * time.Second)
	}
}
