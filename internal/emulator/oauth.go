package emulator

// GitHub's OAuth endpoints for people signing in to an App, as documented:
//   - Device flow and web flow: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
//   - Device flow errors: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#error-codes-for-the-device-flow
//   - Token request errors: https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
//   - Refresh: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   - PKCE (S256 only): https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication
//   - Revocation: https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
//
// The /login/... routes belong to the web host (github.com), so they are
// mounted at the root only; GET /user and DELETE
// /applications/{client_id}/token are API routes, also under /api/v3.

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GitHub's documented lifetimes.
const (
	// DefaultDeviceInterval is the polling interval GitHub announces.
	DefaultDeviceInterval = 5 * time.Second
	// DefaultDeviceExpiresIn is how long a device code lives: 900 s.
	DefaultDeviceExpiresIn = 15 * time.Minute
	// UserTokenLifetime is how long an expiring user access token lives:
	// expires_in "will always be 28800 (8 hours)".
	UserTokenLifetime = 8 * time.Hour
	// RefreshTokenLifetime is refresh_token_expires_in, "always 15811200
	// (6 months)".
	RefreshTokenLifetime = 15811200 * time.Second
	// authCodeLifetime: "The temporary code will expire after 10 minutes."
	authCodeLifetime = 10 * time.Minute
	// slowDownStep: "5 extra seconds are added to the minimum interval".
	slowDownStep = 5 * time.Second

	grantDevice  = "urn:ietf:params:oauth:grant-type:device_code"
	grantCode    = "authorization_code"
	grantRefresh = "refresh_token"
)

// OAuthSettings tune the emulator's OAuth endpoints. The zero value means
// GitHub's defaults.
type OAuthSettings struct {
	// DeviceInterval is the interval a device code announces (default 5 s).
	DeviceInterval time.Duration
	// DeviceExpiresIn is the lifetime of a device code (default 15 min).
	DeviceExpiresIn time.Duration
	// NonExpiringTokens issues user tokens without expiry or refresh token,
	// as an App that opted out of expiring tokens (or an OAuth App) gets.
	NonExpiringTokens bool
	// DeviceFlowDisabled answers device_flow_disabled, as for an App whose
	// settings do not enable the device flow.
	DeviceFlowDisabled bool
}

// DeviceDecision is what the emulated person does with a device code.
type DeviceDecision int

const (
	// DeviceWait leaves the code pending until someone approves or denies
	// it through /login/device, ApproveDevice or DenyDevice. The default.
	DeviceWait DeviceDecision = iota
	// DeviceApprove approves it.
	DeviceApprove
	// DeviceDeny clicks cancel: access_denied.
	DeviceDeny
	// DeviceExpire lets the code expire: expired_token.
	DeviceExpire
)

// DeviceBehaviour scripts the person at the other end of the device flow.
// It applies to device codes issued after OnDevice.
type DeviceBehaviour struct {
	// Pending is how many polls are answered authorization_pending before
	// Decision takes effect.
	Pending  int
	Decision DeviceDecision
	// Login is who approves (default WorldUser).
	Login string
	// SlowDownAt lists poll numbers (1 is the first poll) answered
	// slow_down whatever the timing.
	SlowDownAt []int
	// SlowDownTo is the interval a slow_down announces when it is larger
	// than the current interval + 5 s.
	SlowDownTo time.Duration
}

// AuthorizeBehaviour scripts the person at /login/oauth/authorize.
type AuthorizeBehaviour struct {
	// Deny clicks cancel: the browser is sent back with error=access_denied.
	Deny bool
	// Login is who approves (default WorldUser).
	Login string
}

// UserToken is a user access token the emulator issued through OAuth.
type UserToken struct {
	Value    string
	ClientID string
	Login    string
	Scope    string
	// Flow is the sign-in that started the chain of refreshes: "device" or
	// "web". Refreshing a device-flow token needs no client secret.
	Flow string
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt        time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	// RefreshUsed is set once the refresh token was spent: it is dead.
	RefreshUsed bool
	Revoked     bool
}

// DeviceCode is a device code the emulator issued, as tests see it.
type DeviceCode struct {
	DeviceCode string
	UserCode   string
	ClientID   string
	Scope      string
	ExpiresAt  time.Time
	// Interval is the current minimum interval, raised by each slow_down.
	Interval time.Duration
	// Polls counts token requests for this code; SlowDowns those answered
	// slow_down.
	Polls, SlowDowns int
	Approved, Denied bool
	Redeemed         bool
}

type deviceGrant struct {
	DeviceCode
	seq       int // issue order
	behaviour DeviceBehaviour
	lastPoll  time.Time
	pending   int // polls answered authorization_pending
	login     string
}

type authCode struct {
	code, clientID, redirectURI, challenge, scope, login string
	expiresAt                                            time.Time
	used                                                 bool
}

// oauthState holds the OAuth device codes, authorization codes and user
// tokens the emulator has issued. Server.mu guards it.
type oauthState struct {
	settings  OAuthSettings
	device    DeviceBehaviour
	authorize AuthorizeBehaviour
	devices   map[string]*deviceGrant // by device code
	codes     map[string]*authCode
	tokens    map[string]*UserToken // by access token
	refresh   map[string]*UserToken // by refresh token
	grants    map[string]int        // token requests by grant_type
}

// routeOAuth mounts GitHub's OAuth endpoints (/login/...) and GET /user.
func (s *Server) routeOAuth() {
	s.oauth = oauthState{
		devices: map[string]*deviceGrant{},
		codes:   map[string]*authCode{},
		tokens:  map[string]*UserToken{},
		refresh: map[string]*UserToken{},
		grants:  map[string]int{},
	}
	s.mux.HandleFunc("POST /login/device/code", s.deviceCode)
	s.mux.HandleFunc("GET /login/device", s.devicePage)
	s.mux.HandleFunc("POST /login/device", s.deviceDecide)
	s.mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	s.mux.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	s.handle("GET /user", s.authenticatedUser)
	s.handle("DELETE /applications/{client_id}/token", s.deleteAppToken)
}

// SetOAuth changes the OAuth settings for what is issued from now on.
func (s *Server) SetOAuth(o OAuthSettings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.settings = o
}

// OnDevice scripts the person approving device codes issued from now on.
func (s *Server) OnDevice(b DeviceBehaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.device = b
}

// OnAuthorize scripts the person at /login/oauth/authorize.
func (s *Server) OnAuthorize(b AuthorizeBehaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.authorize = b
}

// ApproveDevice approves the device code shown as userCode, for login
// (WorldUser if empty). It fails for an unknown, expired or decided code.
func (s *Server) ApproveDevice(userCode, login string) error {
	return s.decideDevice(userCode, func(g *deviceGrant) error {
		if login == "" {
			login = WorldUser
		}
		if s.users[strings.ToLower(login)] == nil {
			return fmt.Errorf("no user %q", login)
		}
		g.Approved, g.login = true, login
		return nil
	})
}

// DenyDevice denies the device code shown as userCode.
func (s *Server) DenyDevice(userCode string) error {
	return s.decideDevice(userCode, func(g *deviceGrant) error {
		g.Denied = true
		return nil
	})
}

func (s *Server) decideDevice(userCode string, f func(*deviceGrant) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	userCode = strings.ToUpper(strings.TrimSpace(userCode))
	for _, g := range s.oauth.devices {
		if g.UserCode != userCode {
			continue
		}
		if g.Approved || g.Denied || !s.clock().Before(g.ExpiresAt) {
			return fmt.Errorf("code %s is expired or already used", userCode)
		}
		return f(g)
	}
	return fmt.Errorf("no device code %s", userCode)
}

// DeviceCodes returns every device code issued so far, oldest first.
func (s *Server) DeviceCodes() []DeviceCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	grants := make([]*deviceGrant, 0, len(s.oauth.devices))
	for _, g := range s.oauth.devices {
		grants = append(grants, g)
	}
	slices.SortFunc(grants, func(a, b *deviceGrant) int { return a.seq - b.seq })
	out := make([]DeviceCode, len(grants))
	for i, g := range grants {
		out[i] = g.DeviceCode
	}
	return out
}

// TokenRequests counts POST /login/oauth/access_token requests with
// grantType ("refresh_token", "authorization_code" or
// "urn:ietf:params:oauth:grant-type:device_code"), answered or refused.
func (s *Server) TokenRequests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauth.grants[grantType]
}

// UserTokens returns every user token issued so far, in no particular
// order.
func (s *Server) UserTokens() []UserToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UserToken, 0, len(s.oauth.tokens))
	for _, t := range s.oauth.tokens {
		out = append(out, *t)
	}
	return out
}

// UserTokenInfo reports on a user access token: ok is false when the
// emulator never issued it.
func (s *Server) UserTokenInfo(value string) (t UserToken, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.oauth.tokens[value]
	if !ok {
		return UserToken{}, false
	}
	return *p, true
}

// oauthError answers a token or device-code request the way GitHub does:
// HTTP 200 with an error field.
func oauthError(w http.ResponseWriter, r *http.Request, code, description string, extra map[string]any) {
	m := map[string]any{
		"error":             code,
		"error_description": description,
		"error_uri":         "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
	}
	for k, v := range extra {
		m[k] = v
	}
	writeOAuth(w, r, m)
}

// writeOAuth answers JSON when the client accepts it and form-encoded
// otherwise, as GitHub's /login/oauth/access_token and /login/device/code
// do ("By default, the response takes the following form: ...").
func writeOAuth(w http.ResponseWriter, r *http.Request, m map[string]any) {
	w.Header().Set("Cache-Control", "no-store")
	if acceptsJSON(r) {
		writeJSON(w, http.StatusOK, m)
		return
	}
	v := url.Values{}
	for k, x := range m {
		v.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, v.Encode())
}

func acceptsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		if mt == "application/json" {
			return true
		}
	}
	return false
}

// oauthParams reads the request's parameters: GitHub takes them in the
// query, a form body or a JSON body.
func oauthParams(r *http.Request) url.Values {
	v := r.URL.Query()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	switch mt {
	case "application/json":
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for k, x := range m {
				switch x := x.(type) {
				case string:
					v.Set(k, x)
				case float64:
					v.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
				}
			}
		}
	default:
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, xs := range form {
				v[k] = xs
			}
		}
	}
	return v
}

func (s *Server) oauthClient(id string) *App {
	if id == "" {
		return nil
	}
	for _, a := range s.apps {
		if a.ClientID == id {
			return a
		}
	}
	return nil
}

func oauthHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func oauthAlnum(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// userCodeAlphabet leaves out letters and digits people confuse.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// deviceCode answers POST /login/device/code.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	p := oauthParams(r)
	s.mu.Lock()
	app := s.oauthClient(p.Get("client_id"))
	set := s.oauth.settings
	if app == nil {
		s.mu.Unlock()
		oauthError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", nil)
		return
	}
	if set.DeviceFlowDisabled {
		s.mu.Unlock()
		oauthError(w, r, "device_flow_disabled", "Device Flow must be explicitly enabled for this App", nil)
		return
	}
	interval := cmp.Or(set.DeviceInterval, DefaultDeviceInterval)
	expiresIn := cmp.Or(set.DeviceExpiresIn, DefaultDeviceExpiresIn)
	now := s.clock()
	g := &deviceGrant{
		DeviceCode: DeviceCode{
			DeviceCode: oauthHex(20), // "40 characters"
			UserCode:   newUserCode(),
			ClientID:   app.ClientID,
			Scope:      p.Get("scope"),
			ExpiresAt:  now.Add(expiresIn),
			Interval:   interval,
		},
		seq:       len(s.oauth.devices),
		behaviour: s.oauth.device,
		lastPoll:  now,
	}
	s.oauth.devices[g.DeviceCode.DeviceCode] = g
	s.mu.Unlock()
	writeOAuth(w, r, map[string]any{
		"device_code":      g.DeviceCode.DeviceCode,
		"user_code":        g.UserCode,
		"verification_uri": baseURL(r) + "/login/device",
		"expires_in":       int(expiresIn / time.Second),
		"interval":         int(interval / time.Second),
	})
}

// accessToken answers POST /login/oauth/access_token for the three grant
// types. Like GitHub, it answers refusals with HTTP 200 and an error field.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	p := oauthParams(r)
	grant := p.Get("grant_type")
	if grant == "" && p.Get("code") != "" {
		grant = grantCode // GitHub's web flow documents no grant_type
	}
	s.mu.Lock()
	s.oauth.grants[grant]++
	s.mu.Unlock()
	switch grant {
	case grantDevice:
		s.deviceToken(w, r, p)
	case grantCode:
		s.codeToken(w, r, p)
	case grantRefresh:
		s.refreshToken(w, r, p)
	default:
		oauthError(w, r, "unsupported_grant_type", "The grant type is not supported.", nil)
	}
}

// clientAuth checks client_id and, when required or given, client_secret.
// Called with s.mu held.
func (s *Server) clientAuth(p url.Values, secretRequired bool) *App {
	app := s.oauthClient(p.Get("client_id"))
	if app == nil {
		return nil
	}
	secret := p.Get("client_secret")
	if secret == "" && !secretRequired {
		return app
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 || app.ClientSecret == "" {
		return nil
	}
	return app
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request, p url.Values) {
	s.mu.Lock()
	if s.clientAuth(p, false) == nil {
		s.mu.Unlock()
		oauthError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", nil)
		return
	}
	if s.oauth.settings.DeviceFlowDisabled {
		s.mu.Unlock()
		oauthError(w, r, "device_flow_disabled", "Device Flow must be explicitly enabled for this App", nil)
		return
	}
	g := s.oauth.devices[p.Get("device_code")]
	if g == nil || g.ClientID != p.Get("client_id") || g.Redeemed {
		s.mu.Unlock()
		oauthError(w, r, "incorrect_device_code", "The device_code provided is not valid.", nil)
		return
	}
	now := s.clock()
	g.Polls++
	b := g.behaviour
	if !now.Before(g.ExpiresAt) {
		s.mu.Unlock()
		oauthError(w, r, "expired_token", "The device_code has expired.", nil)
		return
	}
	// "If you make more than one access token request within the required
	// minimum timeframe between requests (or interval), you'll hit the rate
	// limit and receive a slow_down error response. The slow_down error
	// response adds 5 seconds to the last interval."
	if now.Sub(g.lastPoll) < g.Interval || slices.Contains(b.SlowDownAt, g.Polls) {
		g.Interval = max(g.Interval+slowDownStep, b.SlowDownTo)
		g.SlowDowns++
		g.lastPoll = now
		interval := int(g.Interval / time.Second)
		s.mu.Unlock()
		oauthError(w, r, "slow_down", "Too many requests have been made in the same timeframe.", map[string]any{"interval": interval})
		return
	}
	g.lastPoll = now
	if !g.Approved && !g.Denied && now.Before(g.ExpiresAt) && g.pending >= b.Pending {
		switch b.Decision {
		case DeviceApprove:
			g.Approved, g.login = true, cmp.Or(b.Login, WorldUser)
		case DeviceDeny:
			g.Denied = true
		case DeviceExpire:
			g.ExpiresAt = now
		}
	}
	switch {
	case !now.Before(g.ExpiresAt):
		s.mu.Unlock()
		oauthError(w, r, "expired_token", "The device_code has expired.", nil)
	case g.Denied:
		s.mu.Unlock()
		oauthError(w, r, "access_denied", "The authorization request was denied.", nil)
	case g.Approved:
		g.Redeemed = true
		t := s.issueUserToken(g.ClientID, g.login, g.Scope, "device")
		s.mu.Unlock()
		writeOAuth(w, r, tokenResponse(t, now))
	default:
		g.pending++
		s.mu.Unlock()
		oauthError(w, r, "authorization_pending", "The authorization request is still pending.", nil)
	}
}

// issueUserToken mints a user token. Called with s.mu held.
func (s *Server) issueUserToken(clientID, login, scope, flow string) *UserToken {
	now := s.clock()
	t := &UserToken{Value: "ghu_" + oauthAlnum(36), ClientID: clientID, Login: login, Scope: scope, Flow: flow}
	if !s.oauth.settings.NonExpiringTokens {
		t.ExpiresAt = now.Add(UserTokenLifetime)
		t.RefreshToken = "ghr_" + oauthAlnum(76)
		t.RefreshExpiresAt = now.Add(RefreshTokenLifetime)
		s.oauth.refresh[t.RefreshToken] = t
	}
	s.oauth.tokens[t.Value] = t
	return t
}

func tokenResponse(t *UserToken, now time.Time) map[string]any {
	m := map[string]any{"access_token": t.Value, "token_type": "bearer", "scope": t.Scope}
	if !t.ExpiresAt.IsZero() {
		m["expires_in"] = int(t.ExpiresAt.Sub(now) / time.Second)
		m["refresh_token"] = t.RefreshToken
		m["refresh_token_expires_in"] = int(t.RefreshExpiresAt.Sub(now) / time.Second)
	}
	return m
}

// isLoopbackRedirect accepts the loopback redirect URIs GitHub lets native
// apps use on any port: "http://127.0.0.1:1234/path".
func isLoopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// authorize answers GET /login/oauth/authorize as if the person, already
// signed in to GitHub, approved (or, scripted by OnAuthorize, denied) at
// once: it redirects the browser to redirect_uri with code and state, or
// with error, error_description and state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	app := s.oauthClient(q.Get("client_id"))
	b := s.oauth.authorize
	s.mu.Unlock()
	if app == nil {
		http.Error(w, "404: this OAuth client does not exist", http.StatusNotFound)
		return
	}
	redirect := q.Get("redirect_uri")
	if !isLoopbackRedirect(redirect) {
		// GitHub cannot send the person anywhere safe: it shows an error page.
		http.Error(w, "redirect_uri_mismatch: the redirect_uri MUST match the registered callback URL for this application", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u, _ := url.Parse(redirect)
		uq := u.Query()
		for k, xs := range v {
			uq[k] = xs
		}
		u.RawQuery = uq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc},
			"error_uri": {"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors"}})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case method == "" && challenge == "":
	case method != "S256":
		// "Only the S256 code challenge method is accepted."
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case len(challenge) != 43:
		fail("invalid_request", "code_challenge must be a 43 character SHA-256 hash")
		return
	}
	if b.Deny {
		fail("access_denied", "The user has denied your application access.")
		return
	}
	s.mu.Lock()
	c := &authCode{
		code: oauthHex(10), clientID: app.ClientID, redirectURI: redirect, challenge: challenge,
		scope: q.Get("scope"), login: cmp.Or(b.Login, WorldUser), expiresAt: s.clock().Add(authCodeLifetime),
	}
	s.oauth.codes[c.code] = c
	s.mu.Unlock()
	back(url.Values{"code": {c.code}})
}

func (s *Server) codeToken(w http.ResponseWriter, r *http.Request, p url.Values) {
	s.mu.Lock()
	// The web flow's client_secret is "Required".
	app := s.clientAuth(p, true)
	if app == nil {
		s.mu.Unlock()
		oauthError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", nil)
		return
	}
	c := s.oauth.codes[p.Get("code")]
	now := s.clock()
	if c == nil || c.used || c.clientID != app.ClientID || !now.Before(c.expiresAt) {
		s.mu.Unlock()
		oauthError(w, r, "bad_verification_code", "The code passed is incorrect or expired.", nil)
		return
	}
	// RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the
	// authorization request, "and their values MUST be identical".
	if p.Get("redirect_uri") != c.redirectURI {
		s.mu.Unlock()
		oauthError(w, r, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.", nil)
		return
	}
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(p.Get("code_verifier")))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		// RFC 7636 §4.6: if the values are not equal, "invalid_grant".
		if p.Get("code_verifier") == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.challenge)) != 1 {
			s.mu.Unlock()
			oauthError(w, r, "invalid_grant", "The code_verifier does not match the code_challenge.", nil)
			return
		}
	}
	c.used = true
	t := s.issueUserToken(app.ClientID, c.login, c.scope, "web")
	s.mu.Unlock()
	writeOAuth(w, r, tokenResponse(t, now))
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request, p url.Values) {
	s.mu.Lock()
	now := s.clock()
	old := s.oauth.refresh[p.Get("refresh_token")]
	// client_secret is "Required unless the user access token was generated
	// using the device flow".
	app := s.clientAuth(p, old == nil || old.Flow != "device")
	if app == nil {
		s.mu.Unlock()
		oauthError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", nil)
		return
	}
	// "Once you use a refresh token, that refresh token and the old user
	// access token will no longer work."
	if old == nil || old.RefreshUsed || old.ClientID != app.ClientID || !now.Before(old.RefreshExpiresAt) {
		s.mu.Unlock()
		oauthError(w, r, "bad_refresh_token", "The refresh token passed is incorrect or expired.", nil)
		return
	}
	old.RefreshUsed = true
	old.Revoked = true
	t := s.issueUserToken(app.ClientID, old.Login, old.Scope, old.Flow)
	s.mu.Unlock()
	writeOAuth(w, r, tokenResponse(t, now))
}

// userFromToken authenticates a request made with a user access token.
// Installation tokens get GitHub's 403 for GET /user.
func (s *Server) userFromToken(w http.ResponseWriter, r *http.Request) (*User, bool) {
	value, ok := headerToken(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.tokens[value]; it != nil && !it.Revoked && s.clock().Before(it.ExpiresAt) {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration")
		return nil, false
	}
	t := s.oauth.tokens[value]
	if t == nil || t.Revoked || (!t.ExpiresAt.IsZero() && !s.clock().Before(t.ExpiresAt)) {
		writeError(w, http.StatusUnauthorized, msgBadCreds)
		return nil, false
	}
	u := s.users[strings.ToLower(t.Login)]
	if u == nil {
		writeError(w, http.StatusUnauthorized, msgBadCreds)
		return nil, false
	}
	return u, true
}

// authenticatedUser answers GET /user.
func (s *Server) authenticatedUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userFromToken(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, userJSON(r, u))
}

// deleteAppToken answers DELETE /applications/{client_id}/token: Basic
// authentication with the client ID and secret, the token in a JSON body.
func (s *Server) deleteAppToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.oauthClient(r.PathValue("client_id"))
	if app == nil || id != app.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if body.AccessToken == "" {
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"access_token\" wasn't supplied.")
		return
	}
	t := s.oauth.tokens[body.AccessToken]
	if t == nil || t.ClientID != app.ClientID || t.Revoked {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	t.Revoked = true
	w.WriteHeader(http.StatusNoContent)
}

// devicePageTmpl is parsed on first use, not at every start of app-token.
var devicePageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("device").Parse(devicePageHTML))
})

const devicePageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Device activation · emulator</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">
<h1>Device activation</h1>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
<p>This is app-token's offline GitHub emulator. Enter the code your terminal shows.</p>
<form method="post" action="/login/device">
<p><label>Code <input name="user_code" autofocus autocomplete="off" placeholder="XXXX-XXXX"></label></p>
<p><label>Sign in as <input name="login" value="{{.Login}}"></label></p>
<p><button name="action" value="approve">Authorize</button> <button name="action" value="deny">Cancel</button></p>
</form></body></html>
`

// devicePage answers GET /login/device with a form where a person enters
// the user code and approves or denies it (for the demo; tests use
// OnDevice or ApproveDevice).
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	devicePageTmpl().Execute(w, map[string]string{"Login": WorldUser})
}

func (s *Server) deviceDecide(w http.ResponseWriter, r *http.Request) {
	p := oauthParams(r)
	var err error
	msg := "Device approved: you can close this tab and return to your terminal."
	if p.Get("action") == "deny" {
		err = s.DenyDevice(p.Get("user_code"))
		msg = "Request denied."
	} else {
		err = s.ApproveDevice(p.Get("user_code"), p.Get("login"))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		msg = err.Error()
	}
	devicePageTmpl().Execute(w, map[string]string{"Message": msg, "Login": WorldUser})
}
