package settings

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/stsclient"
)

// The runner's variables for a job's ID token: set only in a job with
// `permissions: id-token: write`
// (https://docs.github.com/en/actions/reference/security/oidc).
const (
	EnvIDTokenRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvIDTokenRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// Exchange is how a command gets tokens from a token exchange: its URL
// (stsclient.Base), the policy, and where the ID token comes from.
type Exchange struct {
	Base     string
	Identity string
	file     string // --id-token-file, else the runner's
	getenv   func(string) string
	http     *http.Client
}

// exchangeRefused are the flags no command takes with --sts-url: the
// exchange holds the key and finds the installation, and the policy
// decides the permissions.
var exchangeRefused = []string{"private-key-file", "signer", "client-id", "app-id", "installation-id", "permission"}

// Exchange checks the exchange settings of a command given --sts-url (an
// identity, and none of exchangeRefused or refused) and returns the
// exchange, which reaches it with client.
func (s *Settings) Exchange(client *http.Client, refused ...string) (*Exchange, error) {
	base, err := stsclient.Base(s.STSURL)
	if err != nil {
		return nil, cliflag.Usagef("--sts-url (or %s): %v", EnvSTSURL, err)
	}
	if s.Identity == "" {
		return nil, cliflag.Usagef("--sts-url needs --identity (or %s): the trust policy's name (.github/chainguard/NAME.sts.yaml)", EnvSTSIdentity)
	}
	for _, f := range append(slices.Clone(exchangeRefused), refused...) {
		if !s.Given(f) {
			continue
		}
		why := "the token exchange holds the App's key and finds the installation"
		switch f {
		case "permission", "repositories":
			why = "the trust policy decides what the token can do"
		case "user", "token-file", "token-env":
			why = "both say where the tokens come from"
		}
		return nil, cliflag.Usagef("--%s: not with --sts-url: %s; drop --%s (or --sts-url)", f, why, f)
	}
	return &Exchange{Base: base, Identity: s.Identity, file: s.IDTokenFile, getenv: s.getenv, http: client}, nil
}

// idToken returns a fresh ID token: the file's, else the runner's for the
// exchange's audience. Errors name the setting, never the token.
func (e *Exchange) idToken(ctx context.Context) (string, error) {
	if e.file != "" {
		b, err := os.ReadFile(e.file)
		if err != nil {
			return "", fmt.Errorf("--id-token-file: %w", err)
		}
		tok, err := stsclient.ParseIDToken(string(b))
		if err != nil {
			return "", cliflag.Usagef("--id-token-file %s: %v", e.file, err)
		}
		return tok, nil
	}
	if e.getenv(EnvIDTokenRequestURL) == "" {
		return "", cliflag.Usagef("--sts-url needs an OIDC ID token: pass --id-token-file (or set %s), or run in a GitHub Actions job with `permissions: id-token: write`", EnvIDTokenFile)
	}
	return stsclient.FetchIDToken(ctx, e.http, e.getenv(EnvIDTokenRequestURL), e.getenv(EnvIDTokenRequestToken), e.Base)
}

// Mint trades a fresh ID token for a token of scope.
func (e *Exchange) Mint(ctx context.Context, scope string) (*appauth.Token, error) {
	id, err := e.idToken(ctx)
	if err != nil {
		return nil, err
	}
	return stsclient.Exchange(ctx, e.http, e.Base, scope, e.Identity, id)
}

// Secret is what proves this caller to the exchange, for sealing cached
// tokens: the ID token file's content, else the job's request token. A
// token cached by one job does not open in another.
func (e *Exchange) Secret() ([]byte, error) {
	if e.file != "" {
		return os.ReadFile(e.file)
	}
	return []byte(e.getenv(EnvIDTokenRequestToken)), nil
}

// ExchangeToken is "token --sts-url": the scope from the request, one
// exchange.
func (s *Settings) ExchangeToken(ctx context.Context, client *http.Client, req appauth.Request) (*appauth.Token, error) {
	e, err := s.Exchange(client)
	if err != nil {
		return nil, err
	}
	scope, err := stsclient.Scope(req.Owner, req.Repositories)
	if err != nil {
		return nil, cliflag.Usagef("--repositories: %v", err)
	}
	return e.Mint(ctx, scope)
}
