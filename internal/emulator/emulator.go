// Package emulator is an offline GitHub API: the parts of GitHub's REST API
// and OAuth endpoints that app-token calls, behaving as GitHub documents
// them. Tests serve it over real HTTP with httptest; `app-token demo` and
// `app-token emulator` serve it for people and for dry runs with act.
//
// It deliberately imports nothing from app-token's client packages: an
// emulator that shared the client's code would pass the client's own bugs.
// It follows GitHub's documentation instead:
//   - JWTs: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
//   - Installation tokens: https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
//   - Revocation: https://docs.github.com/en/rest/apps/installations#revoke-an-installation-access-token
//
// Every route is mounted at the root (like api.github.com) and again under
// /api/v3/ (like GitHub Enterprise Server). Anything else answers 501 and is
// recorded, so a test can fail on a request the emulator does not know.
package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// App is a GitHub App registered with the emulator.
type App struct {
	ID       int64
	ClientID string
	Slug     string
	Name     string
	// Key is the App's private key; the emulator verifies JWTs with its
	// public half. Tests and the demo sign with it.
	Key *rsa.PrivateKey
	// ClientSecret authenticates the App's OAuth requests.
	ClientSecret string
	// BotUserID is the id of the App's bot user, "<slug>[bot]".
	BotUserID int64
}

// Installation is an App installed on an account.
type Installation struct {
	ID          int64
	AppID       int64
	Account     string
	AccountID   int64
	AccountType string // "Organization" or "User"
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	// Repositories are the names (without owner) the installation can reach.
	Repositories []string
	// Permissions are what the installation was granted, e.g. "contents": "write".
	Permissions map[string]string
	Suspended   bool
}

// TokenStyle picks the shape of installation tokens the emulator issues.
type TokenStyle int

const (
	// TokenAlternate issues classic and stateless tokens in turn, so that no
	// client can assume one shape. It is the default.
	TokenAlternate TokenStyle = iota
	// TokenClassic issues 40-character "ghs_" tokens.
	TokenClassic
	// TokenStateless issues long "ghs_<appid>_..." tokens of about 520
	// characters with dots, as GitHub now does.
	TokenStateless
)

// Token is an installation access token the emulator issued.
type Token struct {
	Value          string
	InstallationID int64
	AppID          int64
	ExpiresAt      time.Time
	Repositories   []string // nil: every repository of the installation
	Permissions    map[string]string
	Revoked        bool
}

// Request is one request the emulator answered.
type Request struct {
	Method string
	Path   string
	Status int
}

// Fault is a failure the emulator injects into matching requests.
type Fault struct {
	// Method and Path select requests; empty matches any. Path matches
	// when the request path (without /api/v3) has it as a prefix.
	Method string
	Path   string
	// Status is answered instead of the real response (e.g. 503, 429).
	Status int
	// Header is added to the faulty response (e.g. Retry-After).
	Header http.Header
	// Message is the JSON message of the faulty response.
	Message string
	// Drop closes the connection without an answer.
	Drop bool
	// Times is how many requests it applies to; 0 means once.
	Times int
}

// Server is the emulator. Its zero value is not usable; call New.
type Server struct {
	mu            sync.Mutex
	apps          map[int64]*App
	installations map[int64]*Installation
	tokens        map[string]*Token
	users         map[string]*User
	offset        time.Duration
	now           func() time.Time
	faults        []*Fault
	// reqMu guards requests, recorded as an answer's status is sent, which
	// some handlers do while they hold mu.
	reqMu      sync.Mutex
	requests   []Request
	unexpected []string
	style      TokenStyle
	issued     int
	nextID     int64
	oauth      oauthState
	violations []string
	// check holds REST answers to GitHub's description (schemacheck.go);
	// nil sends them unchecked.
	check answerCheck
	git   *gitServer
	// rest holds the patterns of REST routes (mounted with handle), whose
	// answers the schema check holds to the description; other routes
	// (OAuth's web flow, OIDC) are not in GitHub's REST description.
	rest     map[string]bool
	oidc     oidcState
	contents contentsState

	mux *http.ServeMux
}

// User is a GitHub user known to the emulator.
type User struct {
	Login string
	ID    int64
	Type  string // "User", "Organization" or "Bot"
	Name  string
	Email string
}

// Option configures a Server.
type Option func(*Server)

// WithClock makes the emulator read real time from now (before its offset).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithoutSchemaCheck sends answers unchecked. By default every answer of
// a REST route is validated against the response schema GitHub's
// description gives (internal/openapi); one that breaks it is recorded
// (Violations) and replaced by a 500. Only benchmarks should turn this off.
// A build with the noschemacheck tag (releases) has no check to turn on.
func WithoutSchemaCheck() Option { return func(s *Server) { s.check = nil } }

// answerCheck says how an answer of the REST route pattern ("/": the
// catch-all) breaks GitHub's description, or returns "" if it does not.
type answerCheck func(pattern string, status int, header http.Header, body []byte) string

// SchemaChecked reports whether the emulator holds its answers to GitHub's
// description: not with WithoutSchemaCheck, nor in a build with the
// noschemacheck tag, which leaves the check (and its validator) out.
func (s *Server) SchemaChecked() bool { return s.check != nil }

// WithTokenStyle picks the shape of issued tokens.
func WithTokenStyle(st TokenStyle) Option { return func(s *Server) { s.style = st } }

// New returns an empty emulator.
func New(opts ...Option) *Server {
	s := &Server{
		apps:          map[int64]*App{},
		installations: map[int64]*Installation{},
		tokens:        map[string]*Token{},
		users:         map[string]*User{},
		now:           time.Now,
		nextID:        1000,
		check:         builtInCheck,
	}
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.rest = map[string]bool{}
	s.routes()
	return s
}

// Fixture names of NewWorld.
const (
	WorldAppID    = 1
	WorldClientID = "Iv23liEmuLat0rApp01"
	// WorldClientSecret is the App's client secret (the web flow, revoking
	// user tokens).
	WorldClientSecret = "emulator-client-secret"
	WorldAppSlug      = "octo-app"
	WorldOrg          = "octo-org"
	WorldOrgInstID    = 101
	WorldUser         = "octocat"
	WorldUserInst     = 102
)

// NewWorld returns an emulator holding a typical world, signed by key:
//   - App 1 "octo-app" (client ID WorldClientID), bot user 41898282+1.
//   - Organization "octo-org", installation 101 on all its repositories
//     (alpha, beta, gamma) with contents:write, issues:write,
//     pull_requests:write, metadata:read.
//   - User "octocat", installation 102 on the selected repository
//     hello-world with contents:read, metadata:read.
//   - "lonely-org" exists without any installation.
func NewWorld(key *rsa.PrivateKey, opts ...Option) *Server {
	s := New(opts...)
	s.AddApp(&App{ID: WorldAppID, ClientID: WorldClientID, Slug: WorldAppSlug, Name: "Octo App", Key: key, ClientSecret: WorldClientSecret, BotUserID: 41898282})
	s.AddUser(&User{Login: WorldOrg, ID: 9001, Type: "Organization"})
	s.AddUser(&User{Login: WorldUser, ID: 583231, Type: "User", Name: "The Octocat", Email: "octocat@github.invalid"})
	s.AddUser(&User{Login: "lonely-org", ID: 9002, Type: "Organization"})
	s.AddInstallation(&Installation{
		ID: WorldOrgInstID, AppID: WorldAppID, Account: WorldOrg, AccountID: 9001, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"alpha", "beta", "gamma"},
		Permissions: map[string]string{"contents": "write", "issues": "write", "pull_requests": "write", "metadata": "read"},
	})
	s.AddInstallation(&Installation{
		ID: WorldUserInst, AppID: WorldAppID, Account: WorldUser, AccountID: 583231, AccountType: "User",
		RepositorySelection: "selected", Repositories: []string{"hello-world"},
		Permissions: map[string]string{"contents": "read", "metadata": "read"},
	})
	return s
}

// WorldTrustPolicy is a trust policy (octo-sts's format) for the token
// exchange, as octo-org/alpha would hold it in
// .github/chainguard/ci.sts.yaml: it trusts alpha's ci.yml workflow on
// main, from the ID tokens of any loopback emulator, with contents:read and
// issues:write. The keyless demo and the exchange's benchmark use it.
const WorldTrustPolicy = `issuer_pattern: 'http://127\.0\.0\.1:[0-9]+/_services/token'
subject: repo:octo-org/alpha:ref:refs/heads/main
claim_pattern:
  workflow_ref: 'octo-org/alpha/\.github/workflows/ci\.yml@refs/heads/main'
permissions:
  contents: read
  issues: write
`

// Fixture names of AddWorldEnterprise.
const (
	WorldEnterprise       = "octo-enterprise"
	WorldEnterpriseInstID = 103
)

// AddWorldEnterprise adds to a NewWorld the enterprise "octo-enterprise"
// with App 1's installation 103 on it, granted
// enterprise_custom_properties_for_organizations:write. An enterprise
// installation reaches no repository.
func (s *Server) AddWorldEnterprise() {
	s.AddInstallation(&Installation{
		ID: WorldEnterpriseInstID, AppID: WorldAppID, Account: WorldEnterprise, AccountID: 9100, AccountType: "Enterprise",
		RepositorySelection: "selected",
		Permissions:         map[string]string{"enterprise_custom_properties_for_organizations": "write"},
	})
}

// GenerateKey returns a fresh 2048-bit RSA key for a test App.
func GenerateKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// AddApp registers an App and its bot user.
func (s *Server) AddApp(a *App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.ID] = a
	bot := a.Slug + "[bot]"
	s.users[strings.ToLower(bot)] = &User{Login: bot, ID: a.BotUserID, Type: "Bot"}
}

// AddInstallation registers an installation of an App.
func (s *Server) AddInstallation(in *Installation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installations[in.ID] = in
}

// AddUser registers a user or organization.
func (s *Server) AddUser(u *User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[strings.ToLower(u.Login)] = u
}

// Shift moves the emulator's clock by d relative to real time, as if GitHub's
// clock and the client's disagreed.
func (s *Server) Shift(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset = d
}

// Now is the emulator's current time.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

func (s *Server) clock() time.Time { return s.now().Add(s.offset) }

// Inject queues a fault for the next matching requests.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return slices.Clone(s.requests)
}

// Unexpected returns the requests that matched no route.
func (s *Server) Unexpected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unexpected)
}

// Tokens returns a copy of every installation token issued so far, in no
// particular order.
func (s *Server) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		c := *t
		out = append(out, c)
	}
	return out
}

// TokenInfo reports on an installation token: ok is false when the emulator
// never issued it.
func (s *Server) TokenInfo(value string) (t Token, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[value]
	if !ok {
		return Token{}, false
	}
	return *p, true
}

// Authorize reports whether token is a live (issued, unrevoked, unexpired)
// installation token that may reach owner/repo. A git server in tests uses
// it to accept only valid tokens.
func (s *Server) Authorize(token, owner, repo string) bool {
	_, account, repos, ok := s.liveToken(token)
	return ok && strings.EqualFold(account, owner) && containsFold(repos, repo)
}

// ServeHTTP answers one request, applying any injected fault first. Git
// requests go to the git server (git.go); every other answer is held to
// GitHub's description before it is sent (see WithoutSchemaCheck).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The request is recorded as its status is sent, before the body: a
	// client may have read a whole answer before the handler returns.
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, record: func(status int) {
		s.reqMu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status})
		s.reqMu.Unlock()
	}}
	defer rec.done()
	w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
	w.Header().Set("X-GitHub-Request-Id", strconv.FormatInt(time.Now().UnixNano()%1e9, 16))
	if s.git != nil && s.git.serve(rec, r) {
		return
	}
	var out http.ResponseWriter = rec
	if s.check != nil {
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		out = buf
		defer s.flushChecked(rec, r, buf)
	}
	if f := s.takeFault(r); f != nil {
		if f.Drop {
			rec.status = 0
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					panic(http.ErrAbortHandler)
				}
			}
			panic(http.ErrAbortHandler)
		}
		for k, v := range f.Header {
			out.Header()[k] = v
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		writeError(out, f.Status, msg)
		return
	}
	if _, pattern := s.mux.Handler(r); s.rest[pattern] && !checkAPIVersion(out, r) {
		return
	}
	s.mux.ServeHTTP(out, r)
}

// apiVersions are the REST API versions GitHub serves
// (https://docs.github.com/en/rest/about-the-rest-api/api-versions).
var apiVersions = []string{"2022-11-28", "2026-03-10"}

// checkAPIVersion answers 400, as GitHub does, when a request names an API
// version in X-GitHub-Api-Version that GitHub does not serve. Without the
// header GitHub uses its default version.
func checkAPIVersion(w http.ResponseWriter, r *http.Request) bool {
	v, set := r.Header["X-Github-Api-Version"]
	if !set || slices.Contains(apiVersions, strings.TrimSpace(v[0])) {
		return true
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{
		"message":           fmt.Sprintf("Invalid API version provided: %q. Supported versions: %s", v[0], strings.Join(apiVersions, ", ")),
		"documentation_url": "https://docs.github.com/rest/about-the-rest-api/api-versions",
		"status":            "400",
	})
	return false
}

// bufferedWriter holds an answer until the schema check has seen it.
type bufferedWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wroteHeader {
		b.status, b.wroteHeader = code, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// flushChecked sends buf's answer, or, when it breaks GitHub's description,
// records the violation and answers 500 naming it, so that the test (or dry
// run) that provoked it fails even if it never calls Violations.
func (s *Server) flushChecked(w http.ResponseWriter, r *http.Request, buf *bufferedWriter) {
	if p := recover(); p != nil {
		panic(p)
	}
	_, pattern := s.mux.Handler(r)
	msg := ""
	if !s.rest[pattern] && pattern != "/" {
		// Not a REST route: nothing in the description to check against.
	} else {
		msg = s.check(pattern, buf.status, buf.header, buf.body.Bytes())
	}
	if msg != "" {
		s.mu.Lock()
		s.violations = append(s.violations, fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, msg))
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, "emulator: answer breaks GitHub's description: "+msg)
		return
	}
	maps.Copy(w.Header(), buf.header)
	w.WriteHeader(buf.status)
	w.Write(buf.body.Bytes())
}

// Violations returns every answer that broke GitHub's description (each
// was replaced by a 500): a test that uses the emulator can fail on any.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

type statusRecorder struct {
	http.ResponseWriter
	status   int
	record   func(status int)
	recorded bool
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	if !r.recorded {
		r.recorded = true
		r.record(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if !r.recorded {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(p)
}

// done records a request whose handler sent nothing (a dropped connection
// records status 0).
func (r *statusRecorder) done() {
	if !r.recorded {
		r.recorded = true
		r.record(r.status)
	}
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(path, f.Path) {
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// handle mounts h at pattern ("METHOD /path") and at the same path under
// /api/v3, as GitHub Enterprise Server serves its API.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(pattern, h)
	s.mux.HandleFunc(method+" /api/v3"+path, h)
	s.rest[pattern], s.rest[method+" /api/v3"+path] = true, true
}

func (s *Server) routes() {
	s.handle("GET /app", s.getApp)
	s.handle("GET /app/installations", s.listInstallations)
	s.handle("GET /app/installations/{installation_id}", s.getInstallation)
	s.handle("POST /app/installations/{installation_id}/access_tokens", s.createToken)
	s.handle("GET /repos/{owner}/{repo}/installation", s.repoInstallation)
	s.handle("GET /orgs/{org}/installation", s.orgInstallation)
	s.handle("GET /users/{username}/installation", s.userInstallation)
	s.handle("GET /enterprises/{enterprise}/installation", s.enterpriseInstallation)
	s.handle("GET /users/{username}", s.getUser)
	s.handle("GET /installation/repositories", s.installationRepositories)
	s.handle("DELETE /installation/token", s.revokeToken)
	s.routeOAuth()
	s.routeOIDC()
	s.routeContents()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.unexpected = append(s.unexpected, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("emulator: %s %s is not implemented", r.Method, r.URL.Path))
	})
}

// docsURL is what GitHub puts in documentation_url.
const docsURL = "https://docs.github.com/rest"

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers as GitHub does: {"message", "documentation_url", "status"}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{
		"message":           msg,
		"documentation_url": docsURL,
		"status":            strconv.Itoa(status),
	})
}
