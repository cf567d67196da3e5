// Package oauth signs a person in to GitHub and keeps their user token
// fresh: the device flow (RFC 8628) for headless machines, the web flow
// with PKCE (RFC 7636) on a loopback redirect (RFC 8252) for machines with
// a browser, and refresh of expiring GitHub App user tokens, rotating the
// refresh token under a cross-process lock.
//
// It is built on golang.org/x/oauth2: its Config and Endpoint, AuthCodeURL,
// GenerateVerifier, S256ChallengeOption, VerifierOption, Exchange and
// refresh TokenSource, and its DeviceAuthResponse, Token and RetrieveError
// types. The device flow's two requests are written here instead of using
// Config.DeviceAuth and Config.DeviceAccessToken; device.go says why.
//
// GitHub's documentation:
//   - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
//   - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//
// The package never prints and never reads the environment.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"golang.org/x/oauth2"
)

// Config says which OAuth client signs in where.
type Config struct {
	// ClientID is the App's client ID (not its app ID).
	ClientID string
	// ClientSecret is needed by the web flow, by refreshing web-flow tokens
	// and by revocation; the device flow needs none.
	ClientSecret string
	// GitHubURL is the web host serving /login/...: https://github.com, a
	// GHES host, or the emulator.
	GitHubURL string
	// APIURL is the REST API root: https://api.github.com,
	// https://HOST/api/v3, or the emulator.
	APIURL string
	// Scopes are OAuth App scopes; GitHub Apps ignore them.
	Scopes []string
}

// Client runs the sign-in flows for one Config.
type Client struct {
	conf   Config
	http   *http.Client
	now    func() time.Time
	wait   func(ctx context.Context, d time.Duration) error
	github string // without trailing slash
	api    string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes every request go through h (the default has a 30 s
// timeout; never http.DefaultClient).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock makes the client read time from now.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithWait replaces how the device flow waits between polls; wait must
// return ctx.Err() when ctx ends first.
func WithWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.wait = wait }
}

// New returns a Client; it fails on a missing client ID or a URL that is
// not absolute http(s).
func New(conf Config, opts ...Option) (*Client, error) {
	if conf.ClientID == "" {
		return nil, errors.New("no client ID")
	}
	c := &Client{
		conf: conf,
		http: &http.Client{Timeout: 30 * time.Second},
		now:  time.Now,
		wait: sleep,
	}
	for _, o := range opts {
		o(c)
	}
	// Every request here carries a secret (client secret, code, refresh
	// token, Bearer or Basic credentials), and x/oauth2 takes this client
	// from the context: so no redirect to another origin is followed.
	c.http = appauth.SameOriginRedirects(c.http)
	var err error
	if c.github, err = baseURL(conf.GitHubURL); err != nil {
		return nil, fmt.Errorf("GitHub URL: %w", err)
	}
	if c.api, err = baseURL(conf.APIURL); err != nil {
		return nil, fmt.Errorf("API URL: %w", err)
	}
	return c, nil
}

// baseURL checks a URL as ghhost does (https, or http for loopback only).
func baseURL(raw string) (string, error) {
	u, err := ghhost.ParseAPIURL(raw)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// endpoint is GitHub's OAuth endpoint on the web host. Client credentials
// go in the form body, as GitHub documents: with AuthStyleAutoDetect,
// x/oauth2 would first try HTTP Basic and, on any error, send the same
// request again in the body, which would spend a refresh token twice.
func (c *Client) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:       c.github + "/login/oauth/authorize",
		DeviceAuthURL: c.github + "/login/device/code",
		TokenURL:      c.github + "/login/oauth/access_token",
		AuthStyle:     oauth2.AuthStyleInParams,
	}
}

func (c *Client) config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.conf.ClientID,
		ClientSecret: c.conf.ClientSecret,
		Endpoint:     c.endpoint(),
		RedirectURL:  redirectURL,
		Scopes:       c.conf.Scopes,
	}
}

// ctx makes x/oauth2 send its requests through c.http.
func (c *Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// Token is a user access token and what came with it.
type Token struct {
	AccessToken string
	TokenType   string
	Scope       string
	// ExpiresAt is zero when the token does not expire.
	ExpiresAt    time.Time
	RefreshToken string
	// RefreshExpiresAt is zero when unknown.
	RefreshExpiresAt time.Time
}

// String hides the secrets.
func (t Token) String() string {
	return fmt.Sprintf("oauth.Token{ExpiresAt: %s, secrets: hidden}", t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (t Token) GoString() string { return t.String() }

// fromOAuth2 converts x/oauth2's token. x/oauth2 stamps Expiry with its own
// hidden clock (time.Now), so the lifetimes are read again from the raw
// answer (JSON numbers or form strings) and counted from issued, the
// client's clock just before the request.
func fromOAuth2(t *oauth2.Token, issued time.Time) *Token {
	out := &Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scope = s
	}
	if n := seconds(t.Extra("expires_in")); n > 0 {
		out.ExpiresAt = issued.Add(n)
	} else if t.ExpiresIn > 0 {
		// expires_in was there but not within a year: a year, as flexInt
		// reads it, and never a Duration that overflows.
		out.ExpiresAt = issued.Add(time.Duration(min(t.ExpiresIn, maxSeconds)) * time.Second)
	}
	if n := seconds(t.Extra("refresh_token_expires_in")); n > 0 {
		out.RefreshExpiresAt = issued.Add(n)
	}
	return out
}

func seconds(v any) time.Duration {
	var n int64
	switch v := v.(type) {
	case float64:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		n, _ = v.Int64()
	case string:
		n, _ = strconv.ParseInt(v, 10, 64)
	}
	if n <= 0 || n > maxSeconds {
		return 0
	}
	return time.Duration(n) * time.Second
}

// Error is an OAuth error GitHub answered (RFC 6749 §5.2), such as
// access_denied or bad_refresh_token. Callers branch on Code.
type Error struct {
	Code        string
	Description string
	URI         string
	// Interval is the new polling interval a slow_down announces, if any.
	Interval time.Duration
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "GitHub answered " + e.Code
	}
	return fmt.Sprintf("GitHub answered %s: %s", e.Code, e.Description)
}

// Codes callers branch on.
const (
	CodeAccessDenied         = "access_denied"
	CodeExpiredToken         = "expired_token"
	CodeDeviceFlowDisabled   = "device_flow_disabled"
	CodeIncorrectCredentials = "incorrect_client_credentials"
	CodeBadRefreshToken      = "bad_refresh_token"
	CodeBadVerificationCode  = "bad_verification_code"
	CodeRedirectMismatch     = "redirect_uri_mismatch"
	codePending              = "authorization_pending"
	codeSlowDown             = "slow_down"
)

// HTTPError is an answer that is neither a token nor an OAuth error.
type HTTPError struct {
	URL     string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s answered HTTP %d: %s", e.URL, e.Status, e.Message)
	}
	return fmt.Sprintf("%s answered HTTP %d", e.URL, e.Status)
}

// ErrSignInAgain means the stored tokens can no longer be used or renewed:
// the person must sign in again.
var ErrSignInAgain = errors.New("the sign-in can no longer be renewed")

// fromRetrieve turns x/oauth2's error into ours. It never keeps the
// response body: RetrieveError.Error prints it, and a body is the server's
// to fill.
func fromRetrieve(err error, tokenURL string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	if re.ErrorCode != "" {
		return &Error{Code: clean(re.ErrorCode), Description: clean(re.ErrorDescription), URI: clean(re.ErrorURI)}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return &HTTPError{URL: tokenURL, Status: status}
}

// clean makes text from the server safe to print: no control characters
// (terminal escapes), at most 300 bytes.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return strings.TrimSpace(s)
}
