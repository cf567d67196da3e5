package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// User is who a user token belongs to.
type User struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Name  string `json:"name"`
}

// APIError is a REST API answer other than success.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("GitHub answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("GitHub answered HTTP %d: %s", e.Status, e.Message)
}

func (c *Client) apiRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func apiError(resp *http.Response) error {
	var m struct {
		Message string `json:"message"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&m)
	return &APIError{Status: resp.StatusCode, Message: clean(m.Message)}
}

// User asks GitHub who token belongs to (GET /user). GitHub advises to do
// so after every sign-in: "A user can change which account they are signed
// into when you send them to authorize your app". A token GitHub does not
// accept is an *APIError with Status 401.
func (c *Client) User(ctx context.Context, token string) (*User, error) {
	req, err := c.apiRequest(ctx, http.MethodGet, "/user", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /user: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /user: %w", apiError(resp))
	}
	var u User
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&u); err != nil || u.Login == "" {
		return nil, errors.New("GET /user: the answer names no login")
	}
	u.Login, u.Name = clean(u.Login), clean(u.Name)
	return &u, nil
}

// ErrNoClientSecret means an operation needs the client secret and the
// Config has none.
var ErrNoClientSecret = errors.New("no client secret")

// ErrTokenUnknown means GitHub does not know the token revoked: it was
// already revoked, expired, or belongs to another client.
var ErrTokenUnknown = errors.New("GitHub does not know this token")

// Revoke revokes token (DELETE /applications/{client_id}/token, Basic
// authentication with the client ID and secret, the token in the JSON
// body; https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token).
// It needs the client secret (ErrNoClientSecret) and returns
// ErrTokenUnknown when GitHub answers 404.
func (c *Client) Revoke(ctx context.Context, token string) error {
	if c.conf.ClientSecret == "" {
		return ErrNoClientSecret
	}
	req, err := c.apiRequest(ctx, http.MethodDelete, "/applications/"+url.PathEscape(c.conf.ClientID)+"/token",
		map[string]string{"access_token": token})
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.conf.ClientID, c.conf.ClientSecret)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("revoke the token: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusNotFound:
		return ErrTokenUnknown
	default:
		return fmt.Errorf("revoke the token: %w", apiError(resp))
	}
}
