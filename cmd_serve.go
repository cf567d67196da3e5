package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/httpclient"
	"github.com/org/app-token/internal/settings"
	"github.com/org/app-token/internal/sts"
)

const serveHelp = `
Run the token exchange: a stateless HTTP service that alone holds the
App's private key and trades a workflow's OIDC ID token for an installation
token, as the trust policy in the target repository or organization allows
(octo-sts's protocol and policies):

  GET|POST /sts/exchange?scope=OWNER[/REPO]&identity=NAME
  Authorization: Bearer <ID token>

Also /healthz, /readyz and /metrics. Logs are JSON lines on stderr, one
audit line per exchange. SIGTERM stops taking requests and drains those in
flight. The README's "The token exchange" section has the protocol, the
policies and deploy/ the manifests.

Example:
  app-token serve --url https://sts.example.com --client-id Iv23li... \
    --private-key-file app.pem
`

func (c *cli) cmdServe(ctx context.Context, args []string) error {
	var s settings.Settings
	var listen string
	var issuers, audiences, owners cliflag.Strings
	fs := c.flags("serve", "", serveHelp)
	s.RegisterApp(fs, "https://api.github.com")
	fs.StringVar(&listen, "listen", "", "the `address` to listen on (default :$"+settings.EnvPort+" when "+settings.EnvPort+" is set, else :8080)")
	fs.StringVar(&s.STSURL, "url", "", "the exchange's public `URL`, the ID tokens' default audience (default $"+settings.EnvSTSURL+"); required")
	fs.Var(&issuers, "issuer", "a trusted OIDC issuer `URL` (repeatable; default $"+settings.EnvSTSIssuers+", else GitHub Actions' issuer for --api-url's host)")
	fs.Var(&audiences, "audience", "an accepted audience (repeatable; default --url)")
	fs.Var(&owners, "owner", "serve only scopes of this `account` (repeatable; default every account the App is installed on)")
	policyTTL := fs.Duration("policy-ttl", sts.DefaultPolicyTTL, "how long a trust policy read is trusted before it is revalidated")
	installTTL := fs.Duration("installation-ttl", sts.DefaultInstallationTTL, "how long an installation lookup is kept")
	rate := fs.Float64("rate-limit", sts.DefaultRateLimit, "exchanges per second one subject may make")
	burst := fs.Int("rate-burst", sts.DefaultRateBurst, "exchanges one subject may make in a burst")
	fs.BoolVar(&s.Debug, "debug", false, "log each GitHub request at level DEBUG; never secrets (or set "+settings.EnvDebug+"=1)")
	host, err := c.appFlags(fs, &s, args)
	if err != nil {
		return err
	}
	if s.STSURL == "" {
		s.STSURL = s.Env(settings.EnvSTSURL)
	}
	if s.STSURL == "" {
		return usagef("serve: no --url: pass the exchange's public URL (--url https://sts.example.com, or set %s); it is the audience workflows request", settings.EnvSTSURL)
	}
	if s.Issuer() == "" {
		return usagef("serve: no app given: pass --client-id (or --app-id), or set %s", settings.EnvClientID)
	}
	if listen == "" {
		listen = defaultListen(s.Env(settings.EnvPort))
	}
	if len(issuers) == 0 {
		issuers.Set(s.Env(settings.EnvSTSIssuers))
	}
	if len(issuers) == 0 {
		issuers = cliflag.Strings{host.ActionsIssuer()}
	}
	key, err := s.LoadKey(ctx)
	if err != nil {
		return err
	}
	defer key.Close()

	level := slog.LevelInfo
	if s.Debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(c.stderr, &slog.HandlerOptions{Level: level}))
	cfg := sts.Config{
		ClientID: s.Issuer(), Signer: key, APIURL: host.APIURL(), URL: s.STSURL,
		Issuers: issuers, Audiences: audiences, Owners: owners,
		HTTPClient: httpclient.ForServer(c.http), Logger: logger, Now: c.now,
		PolicyTTL: *policyTTL, InstallationTTL: *installTTL, RateLimit: *rate, RateBurst: *burst,
		AppOptions: []appauth.Option{appauth.WithWait(c.wait)},
	}
	if s.Debug {
		cfg.AppOptions = append(cfg.AppOptions, appauth.WithDebug(func(format string, args ...any) {
			logger.Debug(fmt.Sprintf(format, args...))
		}))
	}
	srv, err := sts.New(cfg)
	if err != nil {
		return usagef("serve: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return srv.ListenAndServe(ctx, listen)
}

// defaultListen is the address serve listens on without --listen: all
// interfaces on port, as Cloud Run asks ("listen for requests on 0.0.0.0
// on the port defined by the PORT environment variable",
// https://cloud.google.com/run/docs/container-contract#port), else 8080.
func defaultListen(port string) string {
	if port == "" {
		port = "8080"
	}
	return ":" + port
}
