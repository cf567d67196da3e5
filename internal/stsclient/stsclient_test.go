package stsclient

import (
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/sts"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

// setup serves the emulator and an exchange trusting its issuer; it
// returns the emulator, its server and the exchange's base URL.
func setup(t *testing.T) (*emulator.Server, *httptest.Server, string) {
	t.Helper()
	emu := emulator.NewWorld(testKey())
	gh := httptest.NewServer(emu)
	t.Cleanup(gh.Close)
	t.Cleanup(func() {
		if u := emu.Unexpected(); len(u) > 0 {
			t.Errorf("unexpected requests: %v", u)
		}
	})
	emu.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml",
		[]byte("issuer_pattern: '.*'\nsubject: repo:octo-org/alpha:ref:refs/heads/main\npermissions: {contents: read}\n"))
	// The exchange's URL is only known once it listens.
	var h http.Handler
	exch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(exch.Close)
	s, err := sts.New(sts.Config{
		ClientID: emulator.WorldClientID, Signer: testKey(), APIURL: gh.URL, URL: exch.URL,
		Issuers: []string{emulator.OIDCIssuer(gh.URL)}, HTTPClient: gh.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h = s.Handler()
	return emu, gh, exch.URL
}

func TestFetchAndExchange(t *testing.T) {
	t.Parallel()
	emu, gh, base := setup(t)
	b, err := Base(base + "/sts/exchange/")
	if err != nil || b != base {
		t.Fatalf("Base = %q, %v; want %q", b, err, base)
	}
	id, err := FetchIDToken(t.Context(), gh.Client(), emulator.IDTokenRequestURL(gh.URL), emu.AddJob(emulator.Job{}), b)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Exchange(t.Context(), http.DefaultClient, b, "octo-org/alpha", "ci", id)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := emu.TokenInfo(tok.Value.Reveal())
	if !ok || info.Permissions["contents"] != "read" || len(info.Permissions) != 1 {
		t.Fatalf("token %v %+v", ok, info)
	}
	if tok.InstallationID != emulator.WorldOrgInstID || tok.ExpiresAt.IsZero() || !slices.Equal(tok.Repositories, []string{"alpha"}) || tok.Owner != "octo-org" {
		t.Errorf("token = %+v", tok)
	}
	// The caller revokes it as on the key path.
	if err := appauth.Revoke(t.Context(), tok.Value.Reveal(), appauth.WithBaseURL(gh.URL)); err != nil {
		t.Fatal(err)
	}
	if info, _ := emu.TokenInfo(tok.Value.Reveal()); !info.Revoked {
		t.Error("not revoked")
	}
}

func TestExchangeRefusal(t *testing.T) {
	t.Parallel()
	emu, gh, base := setup(t)
	id, err := FetchIDToken(t.Context(), gh.Client(), emulator.IDTokenRequestURL(gh.URL), emu.AddJob(emulator.Job{Ref: "refs/heads/dev"}), base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Exchange(t.Context(), http.DefaultClient, base, "octo-org/alpha", "ci", id)
	var e *Error
	if !errors.As(err, &e) || e.Status != 403 || !strings.Contains(err.Error(), "subject") {
		t.Fatalf("Exchange = %v; want a 403 naming the subject", err)
	}
	if strings.Contains(err.Error(), id) {
		t.Error("the error holds the ID token")
	}
	// A token for another audience.
	id, _ = FetchIDToken(t.Context(), gh.Client(), emulator.IDTokenRequestURL(gh.URL), emu.AddJob(emulator.Job{}), "https://elsewhere")
	_, err = Exchange(t.Context(), http.DefaultClient, base, "octo-org/alpha", "ci", id)
	if !errors.As(err, &e) || !e.IsAuth() {
		t.Fatalf("Exchange = %v; want a 401", err)
	}
}

func TestFetchIDTokenErrors(t *testing.T) {
	t.Parallel()
	_, gh, _ := setup(t)
	if _, err := FetchIDToken(t.Context(), gh.Client(), "", "", "a"); !errors.Is(err, ErrNoIDTokenRequest) || !strings.Contains(err.Error(), "id-token: write") {
		t.Errorf("no request URL: %v", err)
	}
	if _, err := FetchIDToken(t.Context(), gh.Client(), emulator.IDTokenRequestURL(gh.URL), "forged", "a"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("forged request token: %v", err)
	}
}

func TestBaseAndParseIDToken(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "sts.example.com", "ftp://x", "https://x/?a=b"} {
		if _, err := Base(bad); err == nil {
			t.Errorf("Base(%q) accepted", bad)
		}
	}
	if b, _ := Base("https://sts.example.com/"); b != "https://sts.example.com" {
		t.Errorf("Base = %q", b)
	}
	if s, err := ParseIDToken(" a.b.c\n"); err != nil || s != "a.b.c" {
		t.Errorf("ParseIDToken = %q, %v", s, err)
	}
	for _, bad := range []string{"", "abc", "a.b", "a.b c.d"} {
		if _, err := ParseIDToken(bad); err == nil || (bad != "" && strings.Contains(err.Error(), bad)) {
			t.Errorf("ParseIDToken(%q) = %v", bad, err)
		}
	}
}
