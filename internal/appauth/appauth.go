// Package appauth authenticates as a GitHub App: it parses the App's private
// key, signs JWTs, finds installations and exchanges them for installation
// access tokens narrowed to repositories and permissions, and revokes them.
//
// Every request goes through the HTTP client given with WithHTTPClient, with
// retries for GitHub's transient failures and one JWT re-signing when
// GitHub's clock and ours disagree. The package never prints and never reads
// the environment.
package appauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v89/github"
	"github.com/org/app-token/internal/ghhost"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = ghhost.DefaultAPIURL

// App is a GitHub App identified by its client ID or app ID, holding the key
// that signs its JWTs. It is safe for concurrent use.
type App struct {
	issuer  string
	key     crypto.Signer
	apiURL  *url.URL
	base    *http.Client
	now     func() time.Time
	wait    func(ctx context.Context, d time.Duration) error
	debug   func(format string, args ...any)
	names   func(string) string
	retries int
	optErr  error // a bad option, reported by New and Revoke

	mu   sync.Mutex
	skew time.Duration // GitHub's clock minus ours, learned from a 401
	// jwt is the last JWT the transport signed, reused while it has more
	// than jwtReuseMargin left and the skew has not changed.
	jwt       string
	jwtExp    time.Time
	jwtSkewed time.Duration

	jwtClient *github.Client
}

// Option configures an App.
type Option func(*App)

// WithBaseURL sets the REST API root: https://api.github.com (the default),
// https://HOST/api/v3 for GitHub Enterprise Server, or an emulator's URL
// (ghhost.Host.APIURL gives it). A URL ghhost refuses (plain http off
// loopback among them) makes New and Revoke fail.
func WithBaseURL(u string) Option {
	return func(a *App) {
		p, err := parseAPIURL(u)
		if err != nil {
			a.optErr = err
			return
		}
		a.apiURL = p
	}
}

// WithHTTPClient sets the client every request goes through.
func WithHTTPClient(c *http.Client) Option { return func(a *App) { a.base = c } }

// WithClock sets the clock JWTs are signed with.
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// WithWait sets how retries wait; tests pass one that returns at once.
func WithWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(a *App) { a.wait = wait }
}

// WithDebug receives one line per request (method, path, status, time) and
// per retry. Lines never hold a secret.
func WithDebug(f func(format string, args ...any)) Option { return func(a *App) { a.debug = f } }

// WithNames maps the names of settings ("owner", "repositories",
// "installation-id", "client-id", "private-key", "permission-contents") to
// what the user calls them (an action input or a --flag), for error advice.
func WithNames(f func(string) string) Option { return func(a *App) { a.names = f } }

// WithRetries sets how many times a transient failure is retried (default 3).
func WithRetries(n int) Option { return func(a *App) { a.retries = n } }

// ValidateAPIURL reports whether u can serve as the REST API root.
func ValidateAPIURL(u string) error {
	_, err := parseAPIURL(u)
	return err
}

// parseAPIURL is ghhost's API URL with the trailing slash go-github needs.
func parseAPIURL(raw string) (*url.URL, error) {
	u, err := ghhost.ParseAPIURL(raw)
	if err != nil {
		return nil, err
	}
	u.Path += "/"
	return u, nil
}

// New returns an App that signs as issuer (the client ID, or the app ID)
// with key. It fails when issuer is empty or key is nil.
func New(issuer string, key crypto.Signer, opts ...Option) (*App, error) {
	issuer = strings.TrimSpace(issuer)
	if issuer == "" {
		return nil, errors.New("appauth: the app's client ID or app ID is empty")
	}
	if key == nil {
		return nil, errors.New("appauth: no private key")
	}
	a := configure(opts)
	if a.optErr != nil {
		return nil, fmt.Errorf("appauth: API URL: %w", a.optErr)
	}
	a.issuer, a.key = issuer, key
	a.jwtClient = a.newClient(&jwtTransport{app: a, next: a.transport()})
	return a, nil
}

// configure returns an App without identity: enough for calls made with an
// installation token.
func configure(opts []Option) *App {
	def, _ := parseAPIURL(DefaultAPIURL)
	a := &App{
		apiURL:  def,
		base:    &http.Client{Timeout: 30 * time.Second},
		now:     time.Now,
		wait:    sleep,
		debug:   func(string, ...any) {},
		names:   func(s string) string { return s },
		retries: 3,
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Revoke revokes an installation token. It needs no App key: the token
// authenticates its own revocation.
func Revoke(ctx context.Context, token string, opts ...Option) error {
	a := configure(opts)
	if a.optErr != nil {
		return fmt.Errorf("API URL: %w", a.optErr)
	}
	return a.Revoke(ctx, token)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// APIURL returns the REST API root requests go to, ending in a slash.
func (a *App) APIURL() string { return a.apiURL.String() }

// transport is the stack below authentication: debug lines, retries, then
// the caller's client.
func (a *App) transport() http.RoundTripper {
	return &retryTransport{app: a, next: &clientTransport{c: a.base}}
}

// newClient returns a go-github client over rt, rooted at the App's API URL.
// It uses WithURLs rather than WithEnterpriseURLs, which appends /api/v3 to
// hosts not named api.*, and so would break emulators and proxies in front
// of GHES. go-github's own rate-limit bookkeeping is off: retryTransport
// waits out or reports GitHub's limits, with the injected clock.
func (a *App) newClient(rt http.RoundTripper) *github.Client {
	base := a.apiURL.String()
	// No Timeout here: each attempt is bounded by the caller's client
	// (clientTransport); the whole call, retries and waits included, by ctx.
	c, err := github.NewClient(
		github.WithHTTPClient(&http.Client{Transport: rt}),
		github.WithURLs(&base, nil),
		github.WithUserAgent("app-token"),
		github.WithDisableRateLimitCheck(),
	)
	if err != nil {
		// base was validated by parseAPIURL; nothing else can fail.
		panic(fmt.Sprintf("appauth: go-github refused a validated URL: %v", err))
	}
	return c
}

// clientTransport sends through an *http.Client (keeping its Timeout and
// proxy settings) as a RoundTripper.
type clientTransport struct{ c *http.Client }

func (t *clientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// The client must not follow redirects on our behalf here: go-github
	// does not expect them for these endpoints, and a redirect would carry
	// the Authorization header to another host.
	c := *t.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c.Do(r)
}

// JWTLifetime is how long a JWT is valid after its iat. GitHub refuses an
// exp more than 10 minutes ahead of its own clock.
const JWTLifetime = 10 * time.Minute

// jwtBackdate is how far iat lies in the past. GitHub recommends 60 seconds
// "to protect against clock drift"; with exp = iat + 10 min the JWT is then
// valid for 9 minutes from now, inside GitHub's limit.
const jwtBackdate = 60 * time.Second

// JWT returns a fresh JWT for the App and when it expires.
func (a *App) JWT() (string, time.Time, error) {
	a.mu.Lock()
	skew := a.skew
	a.mu.Unlock()
	// Whole seconds: GitHub refuses an iat that is not an integer, and
	// golang-jwt would otherwise keep whatever precision TimePrecision says.
	iat := a.now().Add(skew).Add(-jwtBackdate).Truncate(time.Second)
	exp := iat.Add(JWTLifetime)
	tok := jwt.NewWithClaims(signerMethod{}, jwt.RegisteredClaims{
		Issuer:    a.issuer,
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(exp),
	})
	s, err := tok.SignedString(a.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign JWT: %w", err)
	}
	return s, exp, nil
}

// jwtReuseMargin is how long before its exp a JWT is no longer reused.
const jwtReuseMargin = time.Minute

// requestJWT returns a JWT for a request: the last one while it is still
// good (an RSA signature costs about a millisecond; a token takes two
// requests), else a fresh one.
func (a *App) requestJWT() (string, error) {
	a.mu.Lock()
	if a.jwt != "" && a.jwtSkewed == a.skew && a.now().Add(a.skew).Add(jwtReuseMargin).Before(a.jwtExp) {
		defer a.mu.Unlock()
		return a.jwt, nil
	}
	skew := a.skew
	a.mu.Unlock()
	s, exp, err := a.JWT()
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.jwt, a.jwtExp, a.jwtSkewed = s, exp, skew
	a.mu.Unlock()
	return s, nil
}

// signerMethod is RS256 over a crypto.Signer. golang-jwt's own RS256 method
// takes only an *rsa.PrivateKey; a crypto.Signer also admits keys held in a
// KMS or HSM. The claims and encoding are still golang-jwt's.
type signerMethod struct{}

func (signerMethod) Alg() string { return "RS256" }

func (signerMethod) Verify(string, []byte, any) error {
	return errors.New("appauth: signerMethod only signs")
}

func (signerMethod) Sign(signingString string, key any) ([]byte, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	sum := sha256.Sum256([]byte(signingString))
	return s.Sign(rand.Reader, sum[:], crypto.SHA256)
}

// clockSkew reports GitHub's clock minus ours, as learned so far.
func (a *App) clockSkew() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.skew
}
