package gitcred

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// UnknownExpiryTTL is how long a token the exchange gave without
// expires_at (octo-sts answers only {"token"}) is handed out from the
// cache: installation tokens live an hour
// (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app),
// so after 50 minutes it still has ReuseMargin and more to live.
const UnknownExpiryTTL = 50 * time.Minute

// exchangeScope is the exchange's scope for a request of owner/repo: the
// organization policy's (the owner) when Config.Owner is set, else the
// repository's.
func (c *Config) exchangeScope(owner, repo string) string {
	if c.Owner != "" || repo == "" {
		return owner
	}
	return owner + "/" + repo
}

// exchangeCache opens the cache for the exchange's tokens, or returns nil
// (with a note when note is true). The sealing secret is what proves the
// caller to the exchange, never stored: a cache file opens only for a
// process that could get the same token from the exchange anyway, and a
// later job on the same machine, with another proof, finds nothing.
func (c *Config) exchangeCache(note bool) *Cache {
	err := c.CacheErr
	var cache *Cache
	if c.CacheDir != "" {
		var secret []byte
		if secret, err = c.ExchangeSecret(); err == nil {
			cache, err = Open(c.CacheDir, secret, c.Now)
		}
	}
	if err != nil && note {
		c.notef("not caching tokens: %v", err)
	}
	return cache
}

func (c *Config) exchangeCacheScope(scope string) Scope {
	return Scope{APIURL: c.Host.APIURL(), App: "exchange " + c.ExchangeName, Repositories: []string{scope}}
}

// exchange answers a get from the cache, or from the exchange under the
// cache's lock, so that concurrent gits for one scope make one exchange.
func (c *Config) exchange(ctx context.Context, owner, repo string, timeout time.Duration) (*Credential, error) {
	scope := c.exchangeScope(owner, repo)
	cs := c.exchangeCacheScope(scope)
	cache := c.exchangeCache(true)
	answer := func(tok *appauth.Token) *Credential {
		return &Credential{Username: Username, Password: tok.Value.Reveal(), PasswordExpiry: tok.ExpiresAt}
	}
	if cache != nil {
		if tok, ok := cache.Token(cs); ok {
			c.debugf("token cache: hit for %s (expires %s)", scope, tok.ExpiresAt.UTC().Format(time.RFC3339))
			return answer(tok), nil
		}
		unlock, err := cache.Lock(ctx, cs.APIURL, cs.App, scope, DefaultLockTimeout)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			c.debugf("token cache: %v; exchanging without the lock", err)
		default:
			defer unlock()
			if tok, ok := cache.Token(cs); ok {
				c.debugf("token cache: hit for %s after waiting for the lock", scope)
				return answer(tok), nil
			}
		}
	}
	tok, err := c.Exchange(ctx, scope)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		return nil, fmt.Errorf("no token for %s from the token exchange: %w", scope, err)
	}
	if tok.ExpiresAt.IsZero() {
		tok.ExpiresAt = c.now().Add(UnknownExpiryTTL + ReuseMargin)
	}
	if cache != nil {
		if err := cache.PutToken(cs, tok); err != nil {
			c.debugf("token cache: cannot write: %v", err)
		}
	}
	c.debugf("got a token for %s from the token exchange (expires %s)", scope, tok.ExpiresAt.UTC().Format(time.RFC3339))
	return answer(tok), nil
}

// eraseExchanged drops the cached token for the request's scope if it is
// password.
func (c *Config) eraseExchanged(ctx context.Context, owner, repo, password string) {
	cache := c.exchangeCache(false)
	if cache == nil {
		return
	}
	scope := c.exchangeScope(owner, repo)
	cs := c.exchangeCacheScope(scope)
	if unlock, err := cache.Lock(ctx, cs.APIURL, cs.App, scope, 2*time.Second); err == nil {
		defer unlock()
	}
	if cache.DropToken(cs, password) {
		c.debugf("token cache: dropped the token git says failed for %s", scope)
	}
}
