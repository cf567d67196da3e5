package appauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v89/github"
)

// APIError is a refusal from GitHub, turned into advice.
type APIError struct {
	Status           int
	Message          string // GitHub's own message
	DocumentationURL string
	// Advice says what the user can do, naming their settings.
	Advice string
}

func (e *APIError) Error() string {
	gh := fmt.Sprintf("GitHub answered %d", e.Status)
	if e.Message != "" {
		gh += ": " + e.Message
	}
	if e.Advice == "" {
		return gh
	}
	return fmt.Sprintf("%s (%s)", e.Advice, gh)
}

// IsAuth reports whether GitHub refused the credentials themselves (401).
func (e *APIError) IsAuth() bool { return e.Status == http.StatusUnauthorized }

// apiError turns go-github's error into an *APIError with advice: first
// what specific(status, message) says for this call, else the advice that
// holds for every App call. Errors that are not GitHub's answers (network,
// rate limits, context) pass through.
func (a *App) apiError(resp *github.Response, err error, specific func(status int, msg string) string) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			return rl
		}
		var se *signError
		if errors.As(err, &se) {
			return se
		}
		return fmt.Errorf("reach GitHub at %s: %w", a.apiURL.Host, unwrapURLError(err))
	}
	e := &APIError{Status: er.Response.StatusCode, Message: er.Message, DocumentationURL: er.DocumentationURL}
	if specific != nil {
		e.Advice = specific(e.Status, e.Message)
	}
	if e.Advice == "" {
		e.Advice = a.commonAdvice(e.Status, e.Message)
	}
	return e
}

func (a *App) commonAdvice(status int, msg string) string {
	switch {
	case status == http.StatusUnauthorized && strings.Contains(msg, "Integration not found"):
		return fmt.Sprintf("GitHub knows no app %q: check %s", a.issuer, a.names("client-id"))
	case status == http.StatusUnauthorized && strings.Contains(msg, "could not be decoded"):
		return fmt.Sprintf("GitHub could not verify the app's JWT: check that %s belongs to the app %q", a.names("private-key"), a.issuer)
	case status == http.StatusUnauthorized && containsAny(msg, clockMessages):
		return "GitHub refused the JWT's times even after correcting for the clock difference: check this machine's clock"
	case status == http.StatusUnauthorized:
		return "GitHub refused the credentials"
	case status == http.StatusForbidden:
		return "GitHub refused the request: check the app's permissions and the installation's settings"
	case status == http.StatusNotFound:
		return "not found: check the owner and repository names"
	}
	return ""
}

// unwrapURLError drops net/url's "Post \"https://...\":" prefix: the
// message already names the host, and says what failed.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
