package appauth

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// The App's bot user is "<slug>[bot]", looked up with an installation
// token; a slug GitHub does not know is a 404 with advice.
func TestBotUser(t *testing.T) {
	t.Parallel()
	a, _, tok := mintForOrg(t)
	login, id, err := a.BotUser(t.Context(), tok.Value.Reveal(), emulator.WorldAppSlug)
	if err != nil || login != "octo-app[bot]" || id != 41898282 {
		t.Errorf("BotUser = %q, %d, %v; want octo-app[bot], 41898282", login, id, err)
	}
	login, id, err = a.BotUser(t.Context(), tok.Value.Reveal(), "no-such-app")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || login != "" || id != 0 {
		t.Errorf("BotUser(no-such-app) = %q, %d, %v; want a 404", login, id, err)
	}
}

// Revoking a token GitHub no longer accepts says so.
func TestRevokeOfARevokedTokenSaysSo(t *testing.T) {
	t.Parallel()
	_, srv, tok := mintForOrg(t)
	if err := Revoke(t.Context(), tok.Value.Reveal(), WithBaseURL(srv.URL)); err != nil {
		t.Fatal(err)
	}
	err := Revoke(t.Context(), tok.Value.Reveal(), WithBaseURL(srv.URL))
	var ae *APIError
	if !errors.As(err, &ae) || !ae.IsAuth() || !strings.HasPrefix(err.Error(), "GitHub does not accept the token (already revoked or expired?)") {
		t.Errorf("second Revoke = %v", err)
	}
}

// mintForOrg mints a token of octo-org's installation.
func mintForOrg(t *testing.T) (*App, *httptest.Server, *Token) {
	t.Helper()
	_, srv := world(t)
	a := newApp(t, srv.URL)
	tok, err := a.Mint(t.Context(), Request{Owner: emulator.WorldOrg})
	if err != nil {
		t.Fatal(err)
	}
	return a, srv, tok
}
