package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// The device flow's two requests are written here rather than taken from
// x/oauth2 (v0.37.0), whose Config.DeviceAuth and Config.DeviceAccessToken
// fall short for a CLI that must be tested without sleeping:
//   - DeviceAccessToken waits on a real time.Ticker: waits cannot be
//     injected, so a test of five polls would sleep 25 s.
//   - Both read the hidden clock time.Now (the code's Expiry, the poll
//     deadline): the expires_in limit cannot be tested on a fake clock.
//   - On slow_down it adds exactly 5 s and ignores the interval in the
//     answer, which GitHub documents: "The error response includes the new
//     interval that you must use."
//   - DeviceAuth recognises errors only on non-2xx answers, but GitHub's
//     OAuth endpoints answer HTTP 200 with an error field: it would return
//     a device code with empty fields.
//   - It reports nothing while it waits; the CLI wants to say it slowed down.
// Both still speak in x/oauth2's types (DeviceAuthResponse) and errors are
// the same RFC 6749 §5.2 codes.

// DeviceCode asks GitHub for a device code and the user code the person
// types at the verification URI (RFC 8628 §3.1; GitHub: POST
// /login/device/code with client_id and scope). Expiry is counted on the
// client's clock; Interval defaults to 5 s: "If no value is provided,
// clients MUST use 5 as the default" (RFC 8628 §3.2). A refusal is an
// *Error (device_flow_disabled, incorrect_client_credentials, ...).
func (c *Client) DeviceCode(ctx context.Context) (*oauth2.DeviceAuthResponse, error) {
	form := url.Values{"client_id": {c.conf.ClientID}}
	if len(c.conf.Scopes) > 0 {
		form.Set("scope", strings.Join(c.conf.Scopes, " "))
	}
	issued := c.now()
	endpoint := c.endpoint().DeviceAuthURL
	w, status, err := c.postForm(ctx, endpoint, form)
	if err != nil {
		return nil, fmt.Errorf("request a device code: %w", err)
	}
	if w.Error != "" {
		return nil, w.err()
	}
	if status/100 != 2 {
		return nil, &HTTPError{URL: endpoint, Status: status}
	}
	uri := w.VerificationURI
	if uri == "" {
		uri = w.VerificationURL // an older spelling
	}
	if w.DeviceCode == "" || w.UserCode == "" || uri == "" {
		return nil, fmt.Errorf("request a device code: %s answered without device_code, user_code or verification_uri", endpoint)
	}
	da := &oauth2.DeviceAuthResponse{
		DeviceCode:              w.DeviceCode,
		UserCode:                clean(w.UserCode),
		VerificationURI:         clean(uri),
		VerificationURIComplete: clean(w.VerificationURIComplete),
		Interval:                int64(w.Interval),
	}
	if da.Interval <= 0 {
		da.Interval = 5
	}
	if w.ExpiresIn > 0 {
		da.Expiry = issued.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	return da, nil
}

// slowDownStep is RFC 8628 §3.5: on slow_down "the interval MUST be
// increased by 5 seconds for this and all subsequent requests".
const slowDownStep = 5 * time.Second

// DeviceToken polls GitHub until the person approves da's user code and
// returns the token (RFC 8628 §3.4–3.5; GitHub: POST
// /login/oauth/access_token with grant_type
// urn:ietf:params:oauth:grant-type:device_code). It waits da.Interval
// before each poll; authorization_pending polls again; slow_down raises the
// interval for all later polls by 5 s, or to the interval GitHub announces
// if that is longer, and tells onSlowDown (if not nil). It stops with an
// *Error on access_denied, expired_token, device_flow_disabled,
// incorrect_client_credentials or any other error code; with an
// expired_token *Error of its own once da.Expiry passes; and with ctx.Err()
// when ctx ends.
func (c *Client) DeviceToken(ctx context.Context, da *oauth2.DeviceAuthResponse, onSlowDown func(interval time.Duration)) (*Token, error) {
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	endpoint := c.endpoint().TokenURL
	form := url.Values{
		"client_id":   {c.conf.ClientID},
		"device_code": {da.DeviceCode},
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
	}
	for {
		if err := c.wait(ctx, interval); err != nil {
			return nil, err
		}
		if !da.Expiry.IsZero() && !c.now().Before(da.Expiry) {
			return nil, &Error{Code: CodeExpiredToken, Description: "the code expired before it was approved"}
		}
		issued := c.now()
		w, status, err := c.postForm(ctx, endpoint, form)
		if err != nil {
			return nil, fmt.Errorf("poll for the token: %w", err)
		}
		switch w.Error {
		case "":
			if status/100 != 2 {
				return nil, &HTTPError{URL: endpoint, Status: status}
			}
			if w.AccessToken == "" {
				return nil, fmt.Errorf("poll for the token: %s answered without access_token", endpoint)
			}
			return w.token(issued), nil
		case codePending:
		case codeSlowDown:
			interval = max(interval+slowDownStep, time.Duration(w.Interval)*time.Second)
			if onSlowDown != nil {
				onSlowDown(interval)
			}
		default:
			return nil, w.err()
		}
	}
}

// postForm POSTs form to endpoint asking for JSON and parses the answer,
// JSON or form-encoded, whatever its HTTP status.
func (c *Client) postForm(ctx context.Context, endpoint string, form url.Values) (*wireResponse, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	w, err := parseResponse(resp.Header.Get("Content-Type"), body)
	if err != nil {
		if resp.StatusCode/100 != 2 {
			return nil, 0, &HTTPError{URL: endpoint, Status: resp.StatusCode}
		}
		return nil, 0, fmt.Errorf("%s: %w", endpoint, err)
	}
	return w, resp.StatusCode, nil
}

func (w *wireResponse) err() error {
	e := &Error{Code: clean(w.Error), Description: clean(w.ErrorDescription), URI: clean(w.ErrorURI)}
	if w.Interval > 0 {
		e.Interval = time.Duration(w.Interval) * time.Second
	}
	return e
}

func (w *wireResponse) token(issued time.Time) *Token {
	t := &Token{AccessToken: w.AccessToken, TokenType: w.TokenType, Scope: w.Scope, RefreshToken: w.RefreshToken}
	if w.ExpiresIn > 0 {
		t.ExpiresAt = issued.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	if w.RefreshTokenExpiresIn > 0 {
		t.RefreshExpiresAt = issued.Add(time.Duration(w.RefreshTokenExpiresIn) * time.Second)
	}
	return t
}

// IsCanceled reports whether err ended a flow because its context ended
// (Ctrl-C).
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled)
}
