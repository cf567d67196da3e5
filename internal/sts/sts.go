// Package sts is app-token's token exchange: a stateless HTTP service that
// holds a GitHub App's key and trades a workload's OIDC ID token (a GitHub
// Actions job's, typically) for an installation token, as a trust policy
// in the target repository or organization allows. Its protocol is
// octo-sts's (https://github.com/octo-sts/app), so octo-sts users switch by
// changing a URL:
//
//	GET|POST /sts/exchange?scope=OWNER[/REPO]&identity=NAME
//	Authorization: Bearer <ID token>
//	→ 200 {"token": ..., "expires_at": ..., "installation_id": ...,
//	       "permissions": {...}, "repositories": [...]}
//
// Alongside: /healthz, /readyz, /metrics (Prometheus) and one JSON audit
// line per exchange. Replicas share nothing: caches are per process and
// short-lived. The package never prints and never reads the environment;
// package main hands it a Config.
package sts

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// DefaultIssuer is GitHub Actions' OIDC issuer on github.com. GitHub
// Enterprise Server's is https://HOST/_services/token.
const DefaultIssuer = "https://token.actions.githubusercontent.com"

// Defaults of Config.
const (
	DefaultPolicyTTL       = time.Minute
	DefaultInstallationTTL = 10 * time.Minute
	DefaultRateLimit       = 10 // exchanges per second per subject
	DefaultRateBurst       = 50
	DefaultShutdownTimeout = 10 * time.Second
)

// Config is what the exchange needs. ClientID, Signer and URL are required.
type Config struct {
	// ClientID is the App's client ID (or app ID), the JWTs' issuer.
	ClientID string
	// Signer holds the App's private key: an *rsa.PrivateKey, or a KMS or
	// HSM key behind crypto.Signer.
	Signer crypto.Signer
	// APIURL is GitHub's REST API root (default https://api.github.com;
	// GHES: https://HOST/api/v3).
	APIURL string
	// URL is where callers reach this exchange, e.g. https://sts.example.com.
	// It is the default audience.
	URL string
	// Issuers are the OIDC issuers trusted (default DefaultIssuer).
	Issuers []string
	// Audiences are the audiences accepted (default URL). A token must be
	// for one of them, whatever its policy says.
	Audiences []string
	// Owners, when set, are the only accounts whose scopes are served.
	Owners []string
	// HTTPClient carries every request to GitHub and to the issuers
	// (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Logger receives the audit lines and operational messages (default:
	// discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PolicyTTL is how long a policy read is trusted before it is
	// revalidated with its ETag (default 1 minute).
	PolicyTTL time.Duration
	// InstallationTTL is how long an installation lookup is kept (default
	// 10 minutes).
	InstallationTTL time.Duration
	// RateLimit is how many exchanges per second one subject (issuer and
	// sub) may make, with RateBurst in a burst (defaults 10 and 50). A
	// matrix of jobs shares one subject.
	RateLimit float64
	RateBurst int
	// ShutdownTimeout bounds the drain on shutdown (default 10 s).
	ShutdownTimeout time.Duration
	// AppOptions are passed on to appauth.New (e.g. appauth.WithDebug).
	AppOptions []appauth.Option
}

// Server is the exchange. It is safe for concurrent use.
type Server struct {
	cfg      Config
	app      *appauth.App
	api      *url.URL
	client   *http.Client
	verifier *verifier
	installs *installCache
	policies *policyCache
	limiter  *limiter
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
	handler  http.Handler
	draining atomic.Bool
}

// New checks cfg and returns a Server. It fails, naming the setting, when
// a required one is missing or a URL is not one.
func New(cfg Config) (*Server, error) {
	var errs []error
	if strings.TrimSpace(cfg.ClientID) == "" {
		errs = append(errs, errors.New("the App's client ID is empty"))
	}
	if cfg.Signer == nil {
		errs = append(errs, errors.New("no App private key"))
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("the exchange's URL %q is not an http(s) URL such as https://sts.example.com", cfg.URL))
	}
	if cfg.APIURL == "" {
		cfg.APIURL = appauth.DefaultAPIURL
	}
	if err := appauth.ValidateAPIURL(cfg.APIURL); err != nil {
		errs = append(errs, fmt.Errorf("API URL: %w", err))
	}
	if len(cfg.Issuers) == 0 {
		cfg.Issuers = []string{DefaultIssuer}
	}
	for _, iss := range cfg.Issuers {
		if u, err := url.Parse(iss); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("the issuer %q is not an http(s) URL such as %s", iss, DefaultIssuer))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if len(cfg.Audiences) == 0 {
		cfg.Audiences = []string{cfg.URL}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PolicyTTL <= 0 {
		cfg.PolicyTTL = DefaultPolicyTTL
	}
	if cfg.InstallationTTL <= 0 {
		cfg.InstallationTTL = DefaultInstallationTTL
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}

	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, metrics: newMetrics()}
	s.api, _ = url.Parse(strings.TrimSuffix(cfg.APIURL, "/") + "/")
	// One instrumented client for GitHub and the issuers: metrics count
	// every request, the App's included.
	c := *cfg.HTTPClient
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &instrumented{next: next, m: s.metrics, api: s.api}
	s.client = &c

	opts := append([]appauth.Option{
		appauth.WithBaseURL(cfg.APIURL),
		appauth.WithHTTPClient(s.client),
		appauth.WithClock(cfg.Now),
		appauth.WithNames(settingNames),
	}, cfg.AppOptions...)
	app, err := appauth.New(cfg.ClientID, cfg.Signer, opts...)
	if err != nil {
		return nil, err
	}
	s.app = app
	s.verifier = &verifier{issuers: cfg.Issuers, audiences: cfg.Audiences, client: s.client, now: cfg.Now}
	s.installs = &installCache{ttl: cfg.InstallationTTL, now: cfg.Now}
	s.policies = &policyCache{ttl: cfg.PolicyTTL, now: cfg.Now}
	s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now)
	s.handler = s.routes()
	return s, nil
}

// settingNames says, in appauth's advice, what the exchange calls things.
func settingNames(s string) string {
	switch s {
	case "owner":
		return "the scope"
	case "repositories":
		return "the policy's repositories"
	case "installation-id":
		return "the App's installation"
	}
	if p, ok := strings.CutPrefix(s, "permission-"); ok {
		return "the policy's permission " + strings.ReplaceAll(p, "-", "_")
	}
	return s
}

// Handler returns the exchange's HTTP handler: /sts/exchange, /healthz,
// /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// maxBody bounds a request body; an exchange's parameters fit in a URL.
const maxBody = 64 << 10

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sts/exchange", s.exchange)
	mux.HandleFunc("POST /sts/exchange", s.exchange)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.handler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		mux.ServeHTTP(w, r)
	})
}

// ready answers 200 once every trusted issuer's discovery document has
// been read (the exchange can verify tokens), and 503 while draining.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "shutting down\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	for _, iss := range s.cfg.Issuers {
		if _, err := s.verifier.get(ctx, iss); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	io.WriteString(w, "ok\n")
}

// HTTPServer returns an http.Server for the handler with timeouts that
// bound slow clients: headers in 5 s, a request in 10 s, an answer
// (GitHub's retries included) in 60 s, idle connections kept 2 minutes.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxIDToken + 16<<10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe listens on addr and serves until ctx is done, then stops
// taking requests (/readyz answers 503 at once), lets those in flight
// finish within ShutdownTimeout and returns nil. It returns the listener's
// or the server's error otherwise.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener the caller opened.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.HTTPServer(ln.Addr().String())
	s.log.Info("serving", "addr", ln.Addr().String(), "url", s.cfg.URL, "issuers", s.cfg.Issuers)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // http.ErrServerClosed
	s.log.Info("stopped", "drained", err == nil)
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
