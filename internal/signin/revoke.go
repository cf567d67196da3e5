package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/oauth"
)

// IsUserToken reports the prefixes of user access tokens: ghu_ (a GitHub
// App's) and gho_ (an OAuth App's)
// (https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/).
func IsUserToken(token string) bool {
	return strings.HasPrefix(token, "ghu_") || strings.HasPrefix(token, "gho_")
}

// RevokeUserToken revokes a user access token as its app, on host:
// DELETE /applications/{client_id}/token with the client secret. A token
// GitHub does not know is a refusal (ErrSignedOut): nothing was revoked.
func (s *Session) RevokeUserToken(ctx context.Context, host ghhost.Host, clientID, clientSecret, token string) error {
	if clientID == "" || clientSecret == "" {
		return settingf("revoke: a user token (ghu_...) is revoked by its app: pass --client-id and --client-secret, or set %s and %s (or run app-token logout --revoke if you signed in with app-token login)", s.env("client-id"), s.env("client-secret"))
	}
	client, err := s.client(clientID, clientSecret, host.WebURL(), host.APIURL(), nil)
	if err != nil {
		return err
	}
	switch err := client.Revoke(ctx, token); {
	case errors.Is(err, oauth.ErrTokenUnknown):
		return signedOut(fmt.Errorf("revoke: GitHub does not know the token for client %s: it was already revoked or expired, belongs to another app, or the client secret is not this app's", clientID))
	case err != nil:
		return fmt.Errorf("revoke: %w", err)
	}
	fmt.Fprintln(s.Err, "Token revoked.")
	return nil
}
