package oauth

import (
	"errors"
	"testing"
	"time"

	"github.com/org/app-token/internal/store"
)

// SignedIn with strict insists on the client ID; without, a client ID the
// host has no sign-in for falls back to the host's one sign-in; no client
// ID takes it.
func TestSignedInStrictAndPreferred(t *testing.T) {
	t.Parallel()
	_, _, st, e, _ := signedIn(t)
	for _, tc := range []struct {
		clientID string
		strict   bool
		found    bool
	}{
		{e.ClientID, true, true},
		{"Iv23liOTHER", true, false},
		{"Iv23liOTHER", false, true},
		{"", true, true},
		{"", false, true},
	} {
		got, err := SignedIn(t.Context(), st, e.Host, tc.clientID, tc.strict)
		if tc.found && (err != nil || got.ClientID != e.ClientID) {
			t.Errorf("client %q strict %v: %v, %v; want the sign-in", tc.clientID, tc.strict, got, err)
		}
		if !tc.found && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client %q strict %v: %v; want ErrNotFound", tc.clientID, tc.strict, err)
		}
	}
	if _, err := SignedIn(t.Context(), st, "elsewhere.example.com", "", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another host: %v", err)
	}

}

// Refreshed renews a token about to expire and saves the rotated tokens;
// a live one comes back as it is; a stored sign-in whose URLs cannot serve
// asks to sign in again.
func TestRefreshed(t *testing.T) {
	t.Parallel()
	w, _, st, e, tok := signedIn(t)
	opts := []Option{WithHTTPClient(w.srv.Client()), WithClock(w.clock.Now), WithWait(w.clock.Wait)}
	same, err := Refreshed(t.Context(), st, e, "", opts...)
	if err != nil || same.AccessToken != tok.AccessToken {
		t.Fatalf("live token: %v, %v", same.AccessToken == tok.AccessToken, err)
	}
	w.clock.Advance(tok.ExpiresAt.Sub(w.clock.Now()) - time.Minute)
	fresh, err := Refreshed(t.Context(), st, e, "", opts...)
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("expiring token: renewed %v, %v", fresh.AccessToken != tok.AccessToken, err)
	}
	if saved, err := st.Load(t.Context(), e.Host, e.ClientID); err != nil || saved.RefreshToken != fresh.RefreshToken {
		t.Errorf("the rotated tokens were not saved: %v", err)
	}
	bad := e
	bad.GitHubURL = "not a url"
	if _, err := Refreshed(t.Context(), st, bad, "", opts...); !errors.Is(err, ErrSignInAgain) {
		t.Errorf("unusable sign-in: %v, want ErrSignInAgain", err)
	}
}

// The client secret given replaces the stored one: GitHub refuses the
// refresh of a web-flow sign-in with a wrong secret, and accepts it with
// the right one.
func TestRefreshedUsesTheGivenSecret(t *testing.T) {
	t.Parallel()
	w, _, st, e, tok := signedIn(t)
	opts := []Option{WithHTTPClient(w.srv.Client()), WithClock(w.clock.Now), WithWait(w.clock.Wait)}
	e.ClientSecret = "stored-secret"
	w.clock.Advance(tok.ExpiresAt.Sub(w.clock.Now()) - time.Minute)
	got, err := Refreshed(t.Context(), st, e, clientSecret, opts...)
	if err != nil || got.AccessToken == tok.AccessToken {
		t.Errorf("with the right secret given: %v", err)
	}
}
