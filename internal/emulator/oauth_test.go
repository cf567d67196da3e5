package emulator

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

// oauthClock is a settable clock for the emulator, so that intervals and
// lifetimes pass without sleeping.
type oauthClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *oauthClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *oauthClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newOAuthWorld(t *testing.T) (*Server, *httptest.Server, *oauthClock) {
	t.Helper()
	clock := &oauthClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	s := NewWorld(testKey(), WithClock(clock.Now))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := s.Unexpected(); len(u) > 0 {
			t.Errorf("unexpected requests: %v", u)
		}
	})
	return s, srv, clock
}

// post sends form to path with Accept: application/json and decodes the
// JSON answer, which must be HTTP 200 as GitHub's OAuth endpoints are.
func post(t *testing.T, srv *httptest.Server, path string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return m
}

func errorOf(m map[string]any) string {
	s, _ := m["error"].(string)
	return s
}

func startDevice(t *testing.T, srv *httptest.Server) map[string]any {
	t.Helper()
	m := post(t, srv, "/login/device/code", url.Values{"client_id": {WorldClientID}, "scope": {"repo"}})
	if errorOf(m) != "" {
		t.Fatalf("device code: %v", m)
	}
	return m
}

func pollDevice(t *testing.T, srv *httptest.Server, deviceCode string) map[string]any {
	t.Helper()
	return post(t, srv, "/login/oauth/access_token", url.Values{
		"client_id": {WorldClientID}, "device_code": {deviceCode}, "grant_type": {grantDevice},
	})
}

func TestDeviceFlowApprovesAfterPendingPolls(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	s.OnDevice(DeviceBehaviour{Pending: 2, Decision: DeviceApprove})
	dc := startDevice(t, srv)
	if dc["verification_uri"] != srv.URL+"/login/device" || dc["expires_in"] != 900.0 || dc["interval"] != 5.0 {
		t.Errorf("device code answer = %v", dc)
	}
	if uc, _ := dc["user_code"].(string); len(uc) != 9 || uc[4] != '-' {
		t.Errorf("user_code = %q, want XXXX-XXXX", uc)
	}
	if code, _ := dc["device_code"].(string); len(code) != 40 {
		t.Errorf("device_code = %q, want 40 characters", code)
	}
	code := dc["device_code"].(string)
	for i := range 2 {
		clock.Advance(5 * time.Second)
		if m := pollDevice(t, srv, code); errorOf(m) != "authorization_pending" {
			t.Fatalf("poll %d = %v, want authorization_pending", i+1, m)
		}
	}
	clock.Advance(5 * time.Second)
	m := pollDevice(t, srv, code)
	tok, _ := m["access_token"].(string)
	if !strings.HasPrefix(tok, "ghu_") || m["expires_in"] != 28800.0 || m["refresh_token_expires_in"] != 15811200.0 ||
		!strings.HasPrefix(m["refresh_token"].(string), "ghr_") || m["token_type"] != "bearer" {
		t.Fatalf("token answer = %v", m)
	}
	info, ok := s.UserTokenInfo(tok)
	if !ok || info.Login != WorldUser || info.Flow != "device" || info.Scope != "repo" {
		t.Errorf("UserTokenInfo = %+v, %v", info, ok)
	}
	// A redeemed code is spent.
	clock.Advance(5 * time.Second)
	if m := pollDevice(t, srv, code); errorOf(m) != "incorrect_device_code" {
		t.Errorf("poll after redeeming = %v", m)
	}
	if n := s.TokenRequests(grantDevice); n != 4 {
		t.Errorf("TokenRequests = %d, want 4", n)
	}
}

func TestDeviceFlowSlowDown(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	s.OnDevice(DeviceBehaviour{Pending: 10, Decision: DeviceApprove})
	code := startDevice(t, srv)["device_code"].(string)
	clock.Advance(4 * time.Second) // too soon
	m := pollDevice(t, srv, code)
	if errorOf(m) != "slow_down" || m["interval"] != 10.0 {
		t.Fatalf("early poll = %v, want slow_down with interval 10", m)
	}
	clock.Advance(9 * time.Second) // still under the new interval
	if m := pollDevice(t, srv, code); errorOf(m) != "slow_down" || m["interval"] != 15.0 {
		t.Fatalf("second early poll = %v, want slow_down with interval 15", m)
	}
	clock.Advance(15 * time.Second)
	if m := pollDevice(t, srv, code); errorOf(m) != "authorization_pending" {
		t.Fatalf("poll after the interval = %v", m)
	}
	// A scripted slow_down may announce a longer interval than +5 s.
	s.OnDevice(DeviceBehaviour{SlowDownAt: []int{1}, SlowDownTo: 42 * time.Second})
	code = startDevice(t, srv)["device_code"].(string)
	clock.Advance(5 * time.Second)
	if m := pollDevice(t, srv, code); errorOf(m) != "slow_down" || m["interval"] != 42.0 {
		t.Fatalf("scripted slow_down = %v, want interval 42", m)
	}
	codes := s.DeviceCodes()
	if last := codes[len(codes)-1]; last.Interval != 42*time.Second || last.SlowDowns != 1 {
		t.Errorf("DeviceCodes = %+v", last)
	}
}

func TestDeviceFlowRefusals(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)

	s.OnDevice(DeviceBehaviour{Pending: 1, Decision: DeviceDeny})
	code := startDevice(t, srv)["device_code"].(string)
	clock.Advance(5 * time.Second)
	pollDevice(t, srv, code)
	clock.Advance(5 * time.Second)
	if m := pollDevice(t, srv, code); errorOf(m) != "access_denied" {
		t.Errorf("denied = %v", m)
	}

	s.OnDevice(DeviceBehaviour{Decision: DeviceExpire})
	code = startDevice(t, srv)["device_code"].(string)
	clock.Advance(5 * time.Second)
	if m := pollDevice(t, srv, code); errorOf(m) != "expired_token" {
		t.Errorf("expired = %v", m)
	}

	// A code left alone expires after expires_in.
	s.OnDevice(DeviceBehaviour{})
	code = startDevice(t, srv)["device_code"].(string)
	clock.Advance(15 * time.Minute)
	if m := pollDevice(t, srv, code); errorOf(m) != "expired_token" {
		t.Errorf("after 900 s = %v", m)
	}

	if m := pollDevice(t, srv, "nope"); errorOf(m) != "incorrect_device_code" {
		t.Errorf("unknown code = %v", m)
	}
	m := post(t, srv, "/login/oauth/access_token", url.Values{"client_id": {"Iv1.unknown"}, "device_code": {code}, "grant_type": {grantDevice}})
	if errorOf(m) != "incorrect_client_credentials" {
		t.Errorf("unknown client = %v", m)
	}
	if m := post(t, srv, "/login/device/code", url.Values{"client_id": {"Iv1.unknown"}}); errorOf(m) != "incorrect_client_credentials" {
		t.Errorf("device code for unknown client = %v", m)
	}
	if m := post(t, srv, "/login/oauth/access_token", url.Values{"client_id": {WorldClientID}, "grant_type": {"password"}}); errorOf(m) != "unsupported_grant_type" {
		t.Errorf("password grant = %v", m)
	}
	s.SetOAuth(OAuthSettings{DeviceFlowDisabled: true})
	if m := post(t, srv, "/login/device/code", url.Values{"client_id": {WorldClientID}}); errorOf(m) != "device_flow_disabled" {
		t.Errorf("disabled = %v", m)
	}
}

func TestDeviceApprovedThroughPage(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	dc := startDevice(t, srv)
	resp, err := srv.Client().PostForm(srv.URL+"/login/device", url.Values{"user_code": {strings.ToLower(dc["user_code"].(string))}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "approved") {
		t.Fatalf("approve page: %d %s", resp.StatusCode, body)
	}
	clock.Advance(5 * time.Second)
	if m := pollDevice(t, srv, dc["device_code"].(string)); m["access_token"] == nil {
		t.Errorf("poll after approval = %v", m)
	}
	if err := s.ApproveDevice(dc["user_code"].(string), ""); err == nil {
		t.Error("approving a used code succeeded")
	}
}

func TestFormEncodedByDefault(t *testing.T) {
	t.Parallel()
	_, srv, _ := newOAuthWorld(t)
	resp, err := srv.Client().PostForm(srv.URL+"/login/device/code", url.Values{"client_id": {WorldClientID}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v, err := url.ParseQuery(string(body))
	if err != nil || v.Get("device_code") == "" || v.Get("interval") != "5" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Errorf("form answer = %q (%s)", body, resp.Header.Get("Content-Type"))
	}
}

// authorizeAs follows /login/oauth/authorize with a client that does not
// follow redirects and returns the Location it was sent to.
func authorizeAs(t *testing.T, srv *httptest.Server, q url.Values) (*url.URL, int) {
	t.Helper()
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.URL + "/login/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc, resp.StatusCode
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestWebFlowWithPKCE(t *testing.T) {
	t.Parallel()
	s, srv, _ := newOAuthWorld(t)
	const redirect = "http://127.0.0.1:49152/callback"
	verifier := strings.Repeat("v", 43)
	q := url.Values{"client_id": {WorldClientID}, "redirect_uri": {redirect}, "state": {"st8"},
		"code_challenge": {pkce(verifier)}, "code_challenge_method": {"S256"}}
	loc, status := authorizeAs(t, srv, q)
	if status != http.StatusFound || loc.Host != "127.0.0.1:49152" || loc.Path != "/callback" || loc.Query().Get("state") != "st8" {
		t.Fatalf("authorize answered %d to %v", status, loc)
	}
	code := loc.Query().Get("code")
	exchange := func(v url.Values) map[string]any {
		base := url.Values{"client_id": {WorldClientID}, "client_secret": {"emulator-client-secret"}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier}}
		for k, x := range v {
			if x[0] == "" {
				base.Del(k)
			} else {
				base[k] = x
			}
		}
		return post(t, srv, "/login/oauth/access_token", base)
	}
	for name, tc := range map[string]struct {
		change url.Values
		want   string
	}{
		"wrong verifier": {url.Values{"code_verifier": {strings.Repeat("w", 43)}}, "invalid_grant"},
		"no verifier":    {url.Values{"code_verifier": {""}}, "invalid_grant"},
		"no secret":      {url.Values{"client_secret": {""}}, "incorrect_client_credentials"},
		"wrong secret":   {url.Values{"client_secret": {"nope"}}, "incorrect_client_credentials"},
		"other redirect": {url.Values{"redirect_uri": {"http://127.0.0.1:1/callback"}}, "redirect_uri_mismatch"},
		"unknown code":   {url.Values{"code": {"0000"}}, "bad_verification_code"},
		"unknown client": {url.Values{"client_id": {"Iv1.nope"}}, "incorrect_client_credentials"},
	} {
		if m := exchange(tc.change); errorOf(m) != tc.want {
			t.Errorf("%s: %v, want %s", name, m, tc.want)
		}
	}
	m := exchange(nil)
	tok, _ := m["access_token"].(string)
	if info, ok := s.UserTokenInfo(tok); !ok || info.Flow != "web" || info.Login != WorldUser {
		t.Fatalf("exchange = %v (%+v)", m, info)
	}
	if m := exchange(nil); errorOf(m) != "bad_verification_code" {
		t.Errorf("second exchange of one code = %v", m)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	s, srv, _ := newOAuthWorld(t)
	base := url.Values{"client_id": {WorldClientID}, "redirect_uri": {"http://127.0.0.1:5000/cb"}, "state": {"s"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for a, b := range base {
			q[a] = b
		}
		q.Set(k, v)
		return q
	}
	if _, status := authorizeAs(t, srv, with("redirect_uri", "https://evil.example/cb")); status != http.StatusBadRequest {
		t.Errorf("non-loopback redirect: HTTP %d", status)
	}
	if _, status := authorizeAs(t, srv, with("client_id", "nope")); status != http.StatusNotFound {
		t.Errorf("unknown client: HTTP %d", status)
	}
	loc, _ := authorizeAs(t, srv, with("code_challenge_method", "plain"))
	if loc.Query().Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v", loc)
	}
	s.OnAuthorize(AuthorizeBehaviour{Deny: true})
	loc, _ = authorizeAs(t, srv, base)
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("state") != "s" || q.Get("code") != "" || q.Get("error_description") == "" {
		t.Errorf("denied: %v", loc)
	}
}

func issueDeviceToken(t *testing.T, s *Server, srv *httptest.Server, clock *oauthClock) map[string]any {
	t.Helper()
	s.OnDevice(DeviceBehaviour{Decision: DeviceApprove})
	code := startDevice(t, srv)["device_code"].(string)
	clock.Advance(5 * time.Second)
	m := pollDevice(t, srv, code)
	if m["access_token"] == nil {
		t.Fatalf("device token: %v", m)
	}
	return m
}

func getUser(t *testing.T, srv *httptest.Server, prefix, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+prefix+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	first := issueDeviceToken(t, s, srv, clock)
	refresh := func(rt string, secret string) map[string]any {
		v := url.Values{"client_id": {WorldClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if secret != "" {
			v.Set("client_secret", secret)
		}
		return post(t, srv, "/login/oauth/access_token", v)
	}
	clock.Advance(8 * time.Hour)
	if status, _ := getUser(t, srv, "", first["access_token"].(string)); status != http.StatusUnauthorized {
		t.Errorf("GET /user with an expired token: HTTP %d", status)
	}
	// Device-flow tokens refresh without the client secret.
	second := refresh(first["refresh_token"].(string), "")
	if second["access_token"] == nil || second["refresh_token"] == first["refresh_token"] || second["expires_in"] != 28800.0 {
		t.Fatalf("refresh = %v", second)
	}
	if status, u := getUser(t, srv, "/api/v3", second["access_token"].(string)); status != 200 || u["login"] != WorldUser {
		t.Errorf("GET /api/v3/user with the new token: %d %v", status, u)
	}
	// The spent refresh token is dead.
	if m := refresh(first["refresh_token"].(string), ""); errorOf(m) != "bad_refresh_token" {
		t.Errorf("reused refresh token = %v", m)
	}
	if m := refresh(second["refresh_token"].(string), "wrong"); errorOf(m) != "incorrect_client_credentials" {
		t.Errorf("wrong secret = %v", m)
	}
	// A refresh token dies after six months.
	clock.Advance(RefreshTokenLifetime)
	if m := refresh(second["refresh_token"].(string), ""); errorOf(m) != "bad_refresh_token" {
		t.Errorf("expired refresh token = %v", m)
	}
	if n := s.TokenRequests("refresh_token"); n != 4 {
		t.Errorf("TokenRequests(refresh_token) = %d, want 4", n)
	}
}

func TestWebFlowRefreshNeedsSecret(t *testing.T) {
	t.Parallel()
	_, srv, _ := newOAuthWorld(t)
	loc, _ := authorizeAs(t, srv, url.Values{"client_id": {WorldClientID}, "redirect_uri": {"http://127.0.0.1:1/cb"}})
	m := post(t, srv, "/login/oauth/access_token", url.Values{"client_id": {WorldClientID}, "client_secret": {"emulator-client-secret"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {"http://127.0.0.1:1/cb"}})
	rt := m["refresh_token"].(string)
	if m := post(t, srv, "/login/oauth/access_token", url.Values{"client_id": {WorldClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}); errorOf(m) != "incorrect_client_credentials" {
		t.Errorf("refresh of a web token without secret = %v", m)
	}
	m = post(t, srv, "/login/oauth/access_token", url.Values{"client_id": {WorldClientID}, "client_secret": {"emulator-client-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if m["access_token"] == nil {
		t.Errorf("refresh with secret = %v", m)
	}
}

func TestNonExpiringTokens(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	s.SetOAuth(OAuthSettings{NonExpiringTokens: true})
	m := issueDeviceToken(t, s, srv, clock)
	if _, has := m["expires_in"]; has || m["refresh_token"] != nil {
		t.Errorf("non-expiring token answer = %v", m)
	}
	clock.Advance(365 * 24 * time.Hour)
	if status, _ := getUser(t, srv, "", m["access_token"].(string)); status != 200 {
		t.Errorf("GET /user a year later: HTTP %d", status)
	}
}

func TestUserEndpointRefusesOtherTokens(t *testing.T) {
	t.Parallel()
	_, srv, _ := newOAuthWorld(t)
	if status, _ := getUser(t, srv, "", "ghu_unknown"); status != http.StatusUnauthorized {
		t.Errorf("unknown token: HTTP %d", status)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/user", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", resp.StatusCode)
	}
}

func TestDeleteAppToken(t *testing.T) {
	t.Parallel()
	s, srv, clock := newOAuthWorld(t)
	tok := issueDeviceToken(t, s, srv, clock)["access_token"].(string)
	del := func(prefix, id, secret, body string) int {
		req, _ := http.NewRequest("DELETE", srv.URL+prefix+"/applications/"+id+"/token", strings.NewReader(body))
		if secret != "" {
			req.SetBasicAuth(id, secret)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := `{"access_token":"` + tok + `"}`
	if got := del("", WorldClientID, "", body); got != http.StatusUnauthorized {
		t.Errorf("without Basic auth: %d", got)
	}
	if got := del("", WorldClientID, "wrong", body); got != http.StatusNotFound {
		t.Errorf("wrong secret: %d", got)
	}
	if got := del("", WorldClientID, "emulator-client-secret", `{}`); got != http.StatusUnprocessableEntity {
		t.Errorf("no token: %d", got)
	}
	if got := del("/api/v3", WorldClientID, "emulator-client-secret", body); got != http.StatusNoContent {
		t.Errorf("revoke: %d", got)
	}
	if status, _ := getUser(t, srv, "", tok); status != http.StatusUnauthorized {
		t.Errorf("GET /user after revoking: %d", status)
	}
	if got := del("", WorldClientID, "emulator-client-secret", body); got != http.StatusNotFound {
		t.Errorf("revoking twice: %d", got)
	}
}

func TestLoginRoutesOnlyOnWebHost(t *testing.T) {
	t.Parallel()
	s, srv, _ := newOAuthWorld(t)
	resp, err := srv.Client().PostForm(srv.URL+"/api/v3/login/device/code", url.Values{"client_id": {WorldClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("/api/v3/login/device/code: HTTP %d, want 501", resp.StatusCode)
	}
	if u := s.Unexpected(); len(u) != 1 {
		t.Fatalf("Unexpected = %v", u)
	}
	// Clear it so the cleanup check passes: this one was intended.
	s.mu.Lock()
	s.unexpected = nil
	s.mu.Unlock()
}
