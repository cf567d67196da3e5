// Package stsclient is the client side of the keyless path: it asks the
// Actions runner for the job's OIDC ID token and trades it at a token
// exchange (app-token serve, or octo-sts) for an installation token. The
// answer is an *appauth.Token, so that callers mask, output and revoke it
// exactly as they do a token minted with the App's key.
//
// The package never prints and never reads the environment: the caller
// passes ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
package stsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// ExchangePath is where an exchange answers below its URL (octo-sts's).
const ExchangePath = "/sts/exchange"

// ErrNoIDTokenRequest says the job cannot ask for an ID token: the runner
// sets ACTIONS_ID_TOKEN_REQUEST_URL only for jobs allowed to.
var ErrNoIDTokenRequest = errors.New("the job cannot request an OIDC ID token (no ACTIONS_ID_TOKEN_REQUEST_URL): add `permissions: id-token: write` to the workflow or job")

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// Base returns the exchange's URL without a trailing slash or
// ExchangePath: the audience to request the ID token for. It fails when
// raw is not an http(s) URL.
func Base(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not the exchange's URL, such as https://sts.example.com", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ExchangePath)
	u.Fragment = ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

// noRedirects keeps a bearer token from following a redirect elsewhere.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// FetchIDToken asks the runner for the job's ID token for audience:
// GET requestURL&audience=... with "Authorization: Bearer requestToken",
// answering {"value": "<jwt>"} (@actions/core getIDToken). It returns
// ErrNoIDTokenRequest when requestURL or requestToken is empty.
func FetchIDToken(ctx context.Context, c *http.Client, requestURL, requestToken, audience string) (string, error) {
	if requestURL == "" || requestToken == "" {
		return "", ErrNoIDTokenRequest
	}
	u, err := url.Parse(requestURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := noRedirects(c).Do(req)
	if err != nil {
		return "", fmt.Errorf("request the job's ID token from %s: %w", u.Host, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request the job's ID token: the runner answered %d", resp.StatusCode)
	}
	var out struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &out) != nil || out.Value == "" {
		return "", errors.New("request the job's ID token: the runner's answer holds no token")
	}
	return out.Value, nil
}

// ParseIDToken checks that s (an --id-token-file's content) looks like a
// JWT and returns it trimmed. Its errors never quote the input.
func ParseIDToken(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the ID token is empty")
	}
	if strings.Count(s, ".") != 2 || strings.ContainsAny(s, " \t\r\n") {
		return "", errors.New("the ID token is not a JWT (three base64url parts joined by dots)")
	}
	return s, nil
}

// Error is the exchange's refusal.
type Error struct {
	Status  int
	Message string // the exchange's own reason
	Host    string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("the token exchange at %s refused (HTTP %d): %s", e.Host, e.Status, msg)
}

// IsAuth reports whether the exchange refused the ID token itself.
func (e *Error) IsAuth() bool { return e.Status == http.StatusUnauthorized }

// Exchange trades idToken at the exchange base (see Base) for a token of
// scope ("OWNER/REPO" or "OWNER") as the policy identity allows. A refusal
// is an *Error.
func Exchange(ctx context.Context, c *http.Client, base, scope, identity, idToken string) (*appauth.Token, error) {
	u, err := url.Parse(base + ExchangePath)
	if err != nil {
		return nil, err
	}
	u.RawQuery = url.Values{"scope": {scope}, "identity": {identity}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+idToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "app-token")
	resp, err := noRedirects(c).Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the token exchange at %s: %w", u.Host, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(body, &e)
		return nil, &Error{Status: resp.StatusCode, Message: e.Message, Host: u.Host}
	}
	var out struct {
		Token          string            `json:"token"`
		ExpiresAt      time.Time         `json:"expires_at"`
		InstallationID int64             `json:"installation_id"`
		Permissions    map[string]string `json:"permissions"`
		Repositories   []string          `json:"repositories"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		return nil, fmt.Errorf("the token exchange at %s answered without a token", u.Host)
	}
	owner, _, _ := strings.Cut(scope, "/")
	return &appauth.Token{
		Value:          appauth.Secret(out.Token),
		ExpiresAt:      out.ExpiresAt,
		InstallationID: out.InstallationID,
		Owner:          owner,
		Permissions:    out.Permissions,
		Repositories:   out.Repositories,
	}, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
