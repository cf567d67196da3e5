package appauth

import "testing"

// A refusal reads as the advice first, then what GitHub said.
func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  APIError
		want string
	}{
		{APIError{Status: 404}, "GitHub answered 404"},
		{APIError{Status: 404, Message: "Not Found"}, "GitHub answered 404: Not Found"},
		{APIError{Status: 404, Advice: "install the app"}, "install the app (GitHub answered 404)"},
		{APIError{Status: 403, Message: "Resource not accessible", Advice: "check the permissions"}, "check the permissions (GitHub answered 403: Resource not accessible)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.err, got, tc.want)
		}
	}
	if !(&APIError{Status: 401}).IsAuth() || (&APIError{Status: 403}).IsAuth() {
		t.Error("IsAuth: only 401 is a refusal of the credentials")
	}
}
