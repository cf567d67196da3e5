package oauth

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The device code request names the scopes, space-separated (RFC 6749
// §3.3), and sends no scope parameter at all when there are none.
func TestDeviceCodeSendsScopesOnlyWhenThereAreSome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scopes []string
		want   []string // nil: no scope parameter
	}{
		{[]string{"repo", "read:org"}, []string{"repo read:org"}},
		{[]string{"repo"}, []string{"repo"}},
		{nil, nil},
	} {
		s := newScripted(t)
		s.on(deviceCodePath, answer{body: `{"device_code":"dc","user_code":"ABCD-1234","verification_uri":"https://github.com/login/device"}`})
		if _, err := s.client(t, Config{ClientID: "Iv1.x", Scopes: tc.scopes}).DeviceCode(t.Context()); err != nil {
			t.Fatal(err)
		}
		form := s.requests(deviceCodePath)[0].form
		if got, ok := form["scope"]; !slices.Equal(got, tc.want) || ok != (tc.want != nil) {
			t.Errorf("scopes %q: scope parameter = %q (present %v), want %q", tc.scopes, got, ok, tc.want)
		}
		if form.Get("client_id") != "Iv1.x" {
			t.Errorf("client_id = %q", form.Get("client_id"))
		}
	}
}

// What a device code answer leaves out gets RFC 8628's defaults: no
// expires_in is no known expiry (not "expired at once"), no interval is 5 s;
// an interval is kept as announced.
func TestDeviceCodeDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body     string
		interval int64
		expiry   time.Duration // 0: none
	}{
		{`{"device_code":"dc","user_code":"U","verification_uri":"https://h/d"}`, 5, 0},
		{`{"device_code":"dc","user_code":"U","verification_uri":"https://h/d","interval":0,"expires_in":0}`, 5, 0},
		{`{"device_code":"dc","user_code":"U","verification_uri":"https://h/d","interval":1,"expires_in":1}`, 1, time.Second},
		{`{"device_code":"dc","user_code":"U","verification_uri":"https://h/d","interval":12,"expires_in":"900"}`, 12, 900 * time.Second},
	} {
		s := newScripted(t)
		s.on(deviceCodePath, answer{body: tc.body})
		start := s.clock.Now()
		da, err := s.client(t, Config{}).DeviceCode(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if da.Interval != tc.interval {
			t.Errorf("%s: Interval = %d, want %d", tc.body, da.Interval, tc.interval)
		}
		if tc.expiry == 0 && !da.Expiry.IsZero() {
			t.Errorf("%s: Expiry = %v, want none", tc.body, da.Expiry)
		}
		if tc.expiry != 0 && !da.Expiry.Equal(start.Add(tc.expiry)) {
			t.Errorf("%s: Expiry = %v, want %v", tc.body, da.Expiry, start.Add(tc.expiry))
		}
	}
}

// A device code answer without a device code, user code or verification
// URI is an error, not a prompt with blanks; verification_url (an older
// spelling) stands in for verification_uri.
func TestDeviceCodeNeedsEveryField(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"user_code":"U","verification_uri":"https://h/d"}`,
		`{"device_code":"dc","verification_uri":"https://h/d"}`,
		`{"device_code":"dc","user_code":"U"}`,
	} {
		s := newScripted(t)
		s.on(deviceCodePath, answer{body: body})
		if da, err := s.client(t, Config{}).DeviceCode(t.Context()); err == nil || !strings.Contains(err.Error(), "without device_code, user_code or verification_uri") {
			t.Errorf("%s: DeviceCode = %+v, %v", body, da, err)
		}
	}
	s := newScripted(t)
	s.on(deviceCodePath, answer{ctype: "application/x-www-form-urlencoded", body: "device_code=dc&user_code=U&verification_url=https%3A%2F%2Fh%2Fd"})
	if da, err := s.client(t, Config{}).DeviceCode(t.Context()); err != nil || da.VerificationURI != "https://h/d" {
		t.Errorf("verification_url: DeviceCode = %+v, %v", da, err)
	}
}

// An OAuth error keeps the interval it announces (the new polling interval
// of a slow_down, RFC 8628 §3.5) and its description; it announces none
// when the answer has none.
func TestOAuthErrorKeepsTheAnnouncedInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body     string
		interval time.Duration
		text     string
	}{
		{`{"error":"slow_down","error_description":"Too many requests","interval":15}`, 15 * time.Second, "GitHub answered slow_down: Too many requests"},
		{`{"error":"slow_down","interval":"2"}`, 2 * time.Second, "GitHub answered slow_down"},
		{`{"error":"device_flow_disabled"}`, 0, "GitHub answered device_flow_disabled"},
	} {
		s := newScripted(t)
		s.on(deviceCodePath, answer{body: tc.body})
		_, err := s.client(t, Config{}).DeviceCode(t.Context())
		var oe *Error
		if !errors.As(err, &oe) || oe.Interval != tc.interval || err.Error() != tc.text {
			t.Errorf("%s: error = %#v (%v), want interval %v and %q", tc.body, oe, err, tc.interval, tc.text)
		}
	}
}

// An answer that is neither a device code, a token nor an OAuth error is an
// *HTTPError naming the endpoint and status when the status says failure
// (a proxy's HTML page, a 5xx), and an "unreadable" error when it says
// success.
func TestUnreadableAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a      answer
		status int // 0: not an *HTTPError
		text   string
	}{
		{answer{status: 502, ctype: "text/html", body: "<html>Bad gateway</html>"}, 502, "answered HTTP 502"},
		{answer{status: 404, body: "not json"}, 404, "answered HTTP 404"},
		{answer{status: 503, body: `{}`}, 503, "answered HTTP 503"},
		{answer{ctype: "text/html", body: "<html>hello</html>"}, 0, "unreadable JSON answer"},
		{answer{ctype: "application/x-www-form-urlencoded", body: "a=%zz"}, 0, "unreadable form-encoded answer"},
	} {
		for _, path := range []string{deviceCodePath, tokenPath} {
			s := newScripted(t)
			s.on(path, tc.a)
			c := s.client(t, Config{})
			var err error
			if path == deviceCodePath {
				_, err = c.DeviceCode(t.Context())
			} else {
				_, err = c.DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: 5}, nil)
			}
			var he *HTTPError
			if isHTTP := errors.As(err, &he); isHTTP != (tc.status != 0) || (isHTTP && (he.Status != tc.status || he.URL != s.srv.URL+path)) {
				t.Errorf("%s answered %+v: error = %v, want HTTP error %d", path, tc.a, err, tc.status)
			}
			if err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s answered %+v: error = %v, want %q", path, tc.a, err, tc.text)
			}
		}
	}
}

// A poll answered with a token but no access token is an error, not an
// empty credential.
func TestDeviceTokenWithoutAccessTokenIsAnError(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	s.on(tokenPath, answer{body: `{"token_type":"bearer"}`})
	tok, err := s.client(t, Config{}).DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: 5}, nil)
	if err == nil || !strings.Contains(err.Error(), "without access_token") {
		t.Errorf("DeviceToken = %v, %v", tok, err)
	}
}

// A token answer's lifetimes are counted from the poll that got it, on the
// client's clock; none is no expiry.
func TestDeviceTokenLifetimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body             string
		expires, refresh time.Duration // 0: none
	}{
		{`{"access_token":"a","expires_in":28800,"refresh_token":"r","refresh_token_expires_in":15811200}`, 28800 * time.Second, 15811200 * time.Second},
		{`{"access_token":"a","expires_in":1,"refresh_token_expires_in":1}`, time.Second, time.Second},
		{`{"access_token":"a","expires_in":0,"refresh_token_expires_in":0}`, 0, 0},
		{`{"access_token":"a"}`, 0, 0},
	} {
		s := newScripted(t)
		s.on(tokenPath, answer{body: tc.body})
		start := s.clock.Now()
		tok, err := s.client(t, Config{}).DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantLifetimes(t, tc.body, tok, start.Add(5*time.Second), tc.expires, tc.refresh) // counted from the poll
	}
}
