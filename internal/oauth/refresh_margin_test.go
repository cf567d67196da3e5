package oauth

import (
	"errors"
	"testing"
	"time"

	"github.com/org/app-token/internal/store"
)

// RefreshMargin is 5 minutes: a token with more than that left is used as
// it is; one with exactly 5 minutes left is renewed, so that a git fetch or
// push started with it can finish.
func TestRefreshMarginIsFiveMinutes(t *testing.T) {
	t.Parallel()
	w, c, st, e, tok := signedIn(t)
	w.clock.Advance(tok.ExpiresAt.Sub(w.clock.Now()) - 5*time.Minute - time.Second)
	if _, refreshed, err := c.Fresh(t.Context(), st, e, RefreshMargin); err != nil || refreshed {
		t.Fatalf("5m1s left: refreshed %v, %v; want the token as it is", refreshed, err)
	}
	w.clock.Advance(time.Second)
	got, refreshed, err := c.Fresh(t.Context(), st, e, RefreshMargin)
	if err != nil || !refreshed || got.AccessToken == tok.AccessToken {
		t.Fatalf("5m left: refreshed %v, %v; want a refresh", refreshed, err)
	}
	// The refresh answer named the refresh token's lifetime: it is kept.
	if got.RefreshExpiresAt.IsZero() || !got.RefreshedAt.Equal(w.clock.Now()) {
		t.Errorf("refresh token expires %v, refreshed at %v (now %v)", got.RefreshExpiresAt, got.RefreshedAt, w.clock.Now())
	}
}

// A refresh token is dead from the instant it expires: Fresh asks to sign
// in again without sending it.
func TestRefreshTokenDeadAtItsExpiry(t *testing.T) {
	t.Parallel()
	w, c, st, e, tok := signedIn(t)
	w.clock.Advance(tok.RefreshExpiresAt.Sub(w.clock.Now()))
	if _, _, err := c.Fresh(t.Context(), st, e, RefreshMargin); !errors.Is(err, ErrSignInAgain) {
		t.Errorf("Fresh at the refresh token's expiry = %v, want ErrSignInAgain", err)
	}
	if n := w.em.TokenRequests("refresh_token"); n != 0 {
		t.Errorf("%d refresh requests, want none", n)
	}
}

// signedIn signs in with the device flow and stores the entry.
func signedIn(t *testing.T) (*world, *Client, *store.Store, store.Entry, *Token) {
	t.Helper()
	w := newWorld(t)
	c := w.client(t, "")
	tok := w.deviceSignIn(t, c)
	st := newStore(t, t.TempDir())
	e := w.entry(tok)
	if _, err := st.Save(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	return w, c, st, e, tok
}
