package main

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/stsclient"
)

// The runner's variables for a job's ID token: set only in a job with
// `permissions: id-token: write`
// (https://docs.github.com/en/actions/reference/security/oidc).
const (
	envIDTokenRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	envIDTokenRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// exchange is how a command gets tokens from a token exchange: its URL
// (stsclient.Base), the policy, and where the ID token comes from.
type exchange struct {
	c        *cli
	base     string
	identity string
	file     string // --id-token-file, else the runner's
}

// exchangeRefused are the flags no command takes with --sts-url: the
// exchange holds the key and finds the installation, and the policy
// decides the permissions.
var exchangeRefused = []string{"private-key-file", "signer", "client-id", "app-id", "installation-id", "permission"}

// exchangeSettings checks the exchange settings of a command given
// --sts-url: an identity, and none of exchangeRefused or refused.
func (c *cli) exchangeSettings(s *settings, refused ...string) (*exchange, error) {
	base, err := stsclient.Base(s.stsURL)
	if err != nil {
		return nil, usagef("--sts-url (or %s): %v", envSTSURL, err)
	}
	if s.identity == "" {
		return nil, usagef("--sts-url needs --identity (or %s): the trust policy's name (.github/chainguard/NAME.sts.yaml)", envSTSIdentity)
	}
	for _, f := range append(slices.Clone(exchangeRefused), refused...) {
		if !s.given[f] {
			continue
		}
		why := "the token exchange holds the App's key and finds the installation"
		switch f {
		case "permission", "repositories":
			why = "the trust policy decides what the token can do"
		case "user", "token-file", "token-env":
			why = "both say where the tokens come from"
		}
		return nil, usagef("--%s: not with --sts-url: %s; drop --%s (or --sts-url)", f, why, f)
	}
	return &exchange{c: c, base: base, identity: s.identity, file: s.idTokenFile}, nil
}

// idToken returns a fresh ID token: the file's, else the runner's for the
// exchange's audience. Errors name the setting, never the token.
func (e *exchange) idToken(ctx context.Context) (string, error) {
	if e.file != "" {
		b, err := os.ReadFile(e.file)
		if err != nil {
			return "", fmt.Errorf("--id-token-file: %w", err)
		}
		tok, err := stsclient.ParseIDToken(string(b))
		if err != nil {
			return "", usagef("--id-token-file %s: %v", e.file, err)
		}
		return tok, nil
	}
	if e.c.getenv(envIDTokenRequestURL) == "" {
		return "", usagef("--sts-url needs an OIDC ID token: pass --id-token-file (or set %s), or run in a GitHub Actions job with `permissions: id-token: write`", envIDTokenFile)
	}
	return stsclient.FetchIDToken(ctx, e.c.http, e.c.getenv(envIDTokenRequestURL), e.c.getenv(envIDTokenRequestToken), e.base)
}

// mint trades a fresh ID token for a token of scope.
func (e *exchange) mint(ctx context.Context, scope string) (*appauth.Token, error) {
	id, err := e.idToken(ctx)
	if err != nil {
		return nil, err
	}
	return stsclient.Exchange(ctx, e.c.http, e.base, scope, e.identity, id)
}

// secret is what proves this caller to the exchange, for sealing cached
// tokens: the ID token file's content, else the job's request token. A
// token cached by one job does not open in another.
func (e *exchange) secret() ([]byte, error) {
	if e.file != "" {
		return os.ReadFile(e.file)
	}
	return []byte(e.c.getenv(envIDTokenRequestToken)), nil
}

// exchangeToken is "token --sts-url": the scope from the selection, one
// exchange.
func (c *cli) exchangeToken(ctx context.Context, s *settings, req appauth.Request) (*appauth.Token, error) {
	e, err := c.exchangeSettings(s)
	if err != nil {
		return nil, err
	}
	scope, err := stsclient.Scope(req.Owner, req.Repositories)
	if err != nil {
		return nil, usagef("--repositories: %v", err)
	}
	return e.mint(ctx, scope)
}
