package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/org/app-token/internal/sts/policy"
)

// maxIDToken bounds the bearer token. GitHub's ID tokens are about 1.2 KB.
const maxIDToken = 16 << 10

// verifier checks OIDC ID tokens from the issuers on an allow-list. It
// keeps one go-oidc verifier per issuer, created on first use: go-oidc
// caches the JWKS and fetches it again when a token names a kid it has not
// seen, which is how a provider's key rotation reaches us.
type verifier struct {
	issuers   []string
	audiences []string
	client    *http.Client
	now       func() time.Time

	mu    sync.Mutex
	byIss map[string]*oidc.IDTokenVerifier
}

// tokenError is an ID token we refuse; its message is safe to show.
type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

func refuseToken(format string, args ...any) error {
	return &tokenError{msg: fmt.Sprintf(format, args...)}
}

// issuerOf reads the iss claim without verifying anything, to pick the
// verifier. Nothing else of the unverified token is used.
func issuerOf(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", refuseToken("the bearer token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", refuseToken("the bearer token is not a JWT")
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" {
		return "", refuseToken("the bearer token has no issuer")
	}
	return c.Iss, nil
}

// get returns the verifier of an allowed issuer, running discovery the
// first time. A failed discovery is not kept: the next token tries again.
func (v *verifier) get(ctx context.Context, iss string) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	iv := v.byIss[iss]
	v.mu.Unlock()
	if iv != nil {
		return iv, nil
	}
	// go-oidc keeps this context's HTTP client for its later JWKS fetches
	// and ignores its cancellation.
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.client), iss)
	if err != nil {
		return nil, fmt.Errorf("discover the OIDC issuer %s: %w", iss, err)
	}
	iv = p.Verifier(&oidc.Config{
		// The audience is checked below against a list, which go-oidc's
		// single ClientID cannot express.
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: []string{oidc.RS256},
		Now:                  v.now,
	})
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byIss == nil {
		v.byIss = map[string]*oidc.IDTokenVerifier{}
	}
	if prev := v.byIss[iss]; prev != nil {
		return prev, nil
	}
	v.byIss[iss] = iv
	return iv, nil
}

// verify checks raw: its issuer is on the list, its RS256 signature is by a
// key the issuer publishes, it is neither expired nor not yet valid (go-oidc
// allows 5 minutes of skew on nbf), and one of its audiences is ours. It
// returns a *tokenError for a token we refuse, another error when the
// issuer cannot be reached.
func (v *verifier) verify(ctx context.Context, raw string) (*policy.Claims, error) {
	if len(raw) > maxIDToken {
		return nil, refuseToken("the bearer token is over %d bytes", maxIDToken)
	}
	iss, err := issuerOf(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.issuers, iss) {
		return nil, refuseToken("the issuer %q is not trusted here (trusted: %s)", iss, strings.Join(v.issuers, ", "))
	}
	iv, err := v.get(ctx, iss)
	if err != nil {
		return nil, err
	}
	tok, err := iv.Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, refuseToken("the ID token expired at %s: ask the runner for a fresh one", exp.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, refuseToken("the ID token does not verify: %s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(v.audiences, a) }) {
		return nil, refuseToken("the ID token's audience (%s) is not this exchange: request it with audience %s", strings.Join(tok.Audience, ", "), v.audiences[0])
	}
	all := map[string]any{}
	if err := tok.Claims(&all); err != nil {
		return nil, refuseToken("the ID token's claims do not decode: %v", err)
	}
	return &policy.Claims{Issuer: tok.Issuer, Subject: tok.Subject, Audience: tok.Audience, All: all}, nil
}
