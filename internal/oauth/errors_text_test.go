package oauth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Errors read as one line naming what answered and how.
func TestErrorTexts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&Error{Code: "access_denied"}, "GitHub answered access_denied"},
		{&Error{Code: "access_denied", Description: "The user denied it"}, "GitHub answered access_denied: The user denied it"},
		{&HTTPError{URL: "https://github.com/login/oauth/access_token", Status: 502}, "https://github.com/login/oauth/access_token answered HTTP 502"},
		{&HTTPError{URL: "https://h/t", Status: 500, Message: "boom"}, "https://h/t answered HTTP 500: boom"},
		{&APIError{Status: 401}, "GitHub answered HTTP 401"},
		{&APIError{Status: 401, Message: "Bad credentials"}, "GitHub answered HTTP 401: Bad credentials"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// x/oauth2's errors become ours: an OAuth error code an *Error (text
// cleaned), anything else an *HTTPError with the status, if any. The body
// is never kept: RetrieveError prints it and the server fills it.
func TestRetrieveErrorsBecomeOurs(t *testing.T) {
	t.Parallel()
	const url = "https://github.com/login/oauth/access_token"
	body := []byte("<html>secret-looking body ghu_leak</html>")
	for _, tc := range []struct {
		in     error
		check  func(error) bool
		status int
	}{
		{&oauth2.RetrieveError{ErrorCode: "bad_refresh_token", ErrorDescription: "The refresh token\x1b[0m is bad", Body: body},
			func(err error) bool {
				var e *Error
				return errors.As(err, &e) && e.Code == "bad_refresh_token" && e.Description == "The refresh token [0m is bad"
			}, 0},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 502}, Body: body},
			func(err error) bool { var e *HTTPError; return errors.As(err, &e) && e.Status == 502 && e.URL == url }, 502},
		{&oauth2.RetrieveError{Body: body},
			func(err error) bool { var e *HTTPError; return errors.As(err, &e) && e.Status == 0 && e.URL == url }, 0},
	} {
		got := fromRetrieve(tc.in, url)
		if !tc.check(got) {
			t.Errorf("fromRetrieve(%v) = %#v", tc.in, got)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v", got, got, got), "ghu_leak") {
			t.Errorf("fromRetrieve(%v) keeps the body: %v", tc.in, got)
		}
	}
	other := io.ErrUnexpectedEOF
	if got := fromRetrieve(other, url); got != other {
		t.Errorf("fromRetrieve(%v) = %v, want it unchanged", other, got)
	}
}
