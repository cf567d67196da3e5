package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/org/app-token/internal/store"
)

// Refresh trades refreshToken for a new access token and a new refresh
// token (GitHub: POST /login/oauth/access_token with grant_type
// refresh_token) through x/oauth2's refreshing TokenSource. GitHub rotates
// the refresh token: "Once you use a refresh token, that refresh token and
// the old user access token will no longer work." So the caller must
// persist the returned RefreshToken before using the access token; Fresh
// does. A dead refresh token is an *Error with Code bad_refresh_token.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("no refresh token")
	}
	conf := c.config("")
	issued := c.now()
	// An Expiry-less token with no access token is never Valid, so the
	// source refreshes at once whatever x/oauth2's own clock says.
	t, err := conf.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fromRetrieve(err, conf.Endpoint.TokenURL)
	}
	return fromOAuth2(t, issued), nil
}

// RefreshMargin is how long before its expiry an access token is renewed:
// enough for a git fetch or push that starts with it to finish.
const RefreshMargin = 5 * time.Minute

// Fresh returns an entry whose access token lives at least margin longer:
// e itself if it does, else the stored entry after refreshing it. The
// refresh runs under the store's cross-process lock for e's host. Having
// taken it, Fresh reads the store again: if another process has refreshed
// meanwhile, its result is used and no second refresh is sent (that would
// spend a dead refresh token and fail with bad_refresh_token). The rotated
// tokens are saved before Fresh returns them. The store is proved writable
// (Store.Reserve) before the refresh token is spent; if the record cannot
// be written afterwards, the tokens go to the room reserved for them
// (Reservation.Keep), where Load finds them; only if that fails too does
// Fresh fail.
// refreshed says whether this call refreshed. Errors wrapping
// ErrSignInAgain mean the person must sign in again: no refresh token, an
// expired one, or one GitHub refused.
func (c *Client) Fresh(ctx context.Context, st *store.Store, e store.Entry, margin time.Duration) (_ store.Entry, refreshed bool, err error) {
	if c.live(e, margin) {
		return e, false, nil
	}
	if err := c.refreshable(e); err != nil {
		return e, false, err
	}
	unlock, err := st.Lock(ctx, e.Host)
	if err != nil {
		return e, false, fmt.Errorf("lock the token store: %w", err)
	}
	defer unlock()
	cur, err := st.Load(ctx, e.Host, e.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return e, false, fmt.Errorf("%w: signed out while refreshing", ErrSignInAgain)
	case err != nil:
		return e, false, err
	case c.live(cur, margin):
		return cur, false, nil // another process refreshed it
	}
	if err := c.refreshable(cur); err != nil {
		return e, false, err
	}
	// GitHub spends the refresh token as it answers: first make sure the
	// answer can be kept.
	res, err := st.Reserve(ctx, cur)
	if err != nil {
		return e, false, fmt.Errorf("the token store cannot be written, so the sign-in was not refreshed (it is kept as it was): %w", err)
	}
	defer res.Release()
	tok, err := c.Refresh(ctx, cur.RefreshToken)
	if err != nil {
		var oe *Error
		if errors.As(err, &oe) && oe.Code == CodeBadRefreshToken {
			return e, false, fmt.Errorf("%w: GitHub refused the refresh token (%s)", ErrSignInAgain, oe.Description)
		}
		return e, false, fmt.Errorf("refresh the access token: %w", err)
	}
	next := cur
	next.AccessToken = tok.AccessToken
	next.TokenType = tok.TokenType
	next.ExpiresAt = tok.ExpiresAt
	next.RefreshToken = tok.RefreshToken
	if !tok.RefreshExpiresAt.IsZero() {
		next.RefreshExpiresAt = tok.RefreshExpiresAt
	}
	next.RefreshedAt = c.now()
	loc, err := st.Save(ctx, next)
	if err != nil {
		// The old refresh token is spent: keep the new tokens in the room
		// reserved for them; the store takes them in on its next write.
		var kerr error
		if loc, kerr = res.Keep(next); kerr != nil {
			return e, false, fmt.Errorf("%w: the refreshed tokens could not be saved: %w", ErrSignInAgain, err)
		}
	}
	next.Location = loc
	return next, true, nil
}

// live reports whether e's access token outlives margin (or never expires).
func (c *Client) live(e store.Entry, margin time.Duration) bool {
	return e.AccessToken != "" && (e.ExpiresAt.IsZero() || c.now().Add(margin).Before(e.ExpiresAt))
}

func (c *Client) refreshable(e store.Entry) error {
	if e.RefreshToken == "" {
		return fmt.Errorf("%w: the access token expired at %s and there is no refresh token", ErrSignInAgain, e.ExpiresAt.Format(time.RFC3339))
	}
	if !e.RefreshExpiresAt.IsZero() && !c.now().Before(e.RefreshExpiresAt) {
		return fmt.Errorf("%w: the refresh token expired at %s", ErrSignInAgain, e.RefreshExpiresAt.Format(time.RFC3339))
	}
	return nil
}
