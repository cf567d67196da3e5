package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/org/app-token/internal/store"
)

// SignedIn returns the sign-in to host kept in st. With strict, clientID
// (when set) must match it; without, clientID is only a preference (it may
// name the App the credential helper mints installation tokens for): when
// host has no sign-in for it, the host's one sign-in serves. Errors are the
// store's (store.ErrNotFound, store.ErrAmbiguous, *store.CorruptError, ...),
// for the caller to turn into advice.
func SignedIn(ctx context.Context, st *store.Store, host, clientID string, strict bool) (store.Entry, error) {
	e, err := st.Load(ctx, host, clientID)
	if errors.Is(err, store.ErrNotFound) && clientID != "" && !strict {
		e, err = st.Load(ctx, host, "")
	}
	return e, err
}

// Refreshed returns e with an access token that lives at least
// RefreshMargin longer, refreshing it and saving the rotated tokens in st
// when needed (Client.Fresh). secret, when set, replaces the stored client
// secret; opts configure the client that refreshes. Errors wrapping
// ErrSignInAgain mean the person must sign in again, an *Error that GitHub
// refused the refresh.
func Refreshed(ctx context.Context, st *store.Store, e store.Entry, secret string, opts ...Option) (store.Entry, error) {
	if secret == "" {
		secret = e.ClientSecret
	}
	client, err := New(Config{ClientID: e.ClientID, ClientSecret: secret, GitHubURL: e.GitHubURL, APIURL: e.APIURL}, opts...)
	if err != nil {
		return e, fmt.Errorf("%w: the stored sign-in for %s is unusable (%v)", ErrSignInAgain, e.Host, err)
	}
	fresh, _, err := client.Fresh(ctx, st, e, RefreshMargin)
	if err != nil {
		return e, err
	}
	return fresh, nil
}
