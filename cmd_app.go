package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/settings"
	"github.com/org/app-token/internal/signin"
)

// appOptions are the appauth options every command shares: the one HTTP
// client, the clock, the waits, names for advice and an optional debug sink.
func (c *cli) appOptions(host ghhost.Host, names func(string) string, debug func(string, ...any)) []appauth.Option {
	opts := []appauth.Option{
		appauth.WithBaseURL(host.APIURL()),
		appauth.WithHTTPClient(c.http),
		appauth.WithClock(c.now),
		appauth.WithWait(c.wait),
		appauth.WithNames(names),
	}
	if debug != nil {
		opts = append(opts, appauth.WithDebug(debug))
	}
	return opts
}

// debugf is the debug sink of a command run with --debug, else nil.
func (c *cli) debugf(s *settings.Settings, prefix string) func(string, ...any) {
	if !s.Debug {
		return nil
	}
	return func(format string, args ...any) { fmt.Fprintf(c.stderr, prefix+format+"\n", args...) }
}

// newApp builds the App the settings name, for host, with its key loaded
// (loadKey: a signer is opened here, once). done releases the key; call it
// when the command is finished with the App.
func (c *cli) newApp(ctx context.Context, s *settings.Settings, host ghhost.Host) (app *appauth.App, done func(), err error) {
	if err := s.CheckApp(); err != nil {
		return nil, nil, err
	}
	if s.Issuer() == "" {
		return nil, nil, usagef("no app given: pass --client-id (or --app-id), or set %s (or %s)", settings.EnvClientID, settings.EnvAppID)
	}
	key, err := s.LoadKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	app, err = appauth.New(s.Issuer(), key, c.appOptions(host, key.Names(s), c.debugf(s, "debug: "))...)
	if err != nil {
		key.Close()
		return nil, nil, err
	}
	return app, func() { key.Close() }, nil
}

// appFlags parses the flags of a command that acts as the App, which
// takes no arguments, and resolves its host.
func (c *cli) appFlags(fs *flag.FlagSet, s *settings.Settings, args []string) (ghhost.Host, error) {
	if err := c.parse(fs, args); err != nil {
		return ghhost.Host{}, err
	}
	if fs.NArg() > 0 {
		return ghhost.Host{}, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	s.Resolve(fs, c.getenv)
	return s.GHHost()
}

// appCommand is appFlags, then the App.
func (c *cli) appCommand(ctx context.Context, fs *flag.FlagSet, s *settings.Settings, args []string) (*appauth.App, func(), error) {
	host, err := c.appFlags(fs, s, args)
	if err != nil {
		return nil, nil, err
	}
	return c.newApp(ctx, s, host)
}

func (c *cli) cmdToken(ctx context.Context, args []string) error {
	var s settings.Settings
	var asJSON bool
	fs := c.flags("token", "", `Print an installation access token for a GitHub App on stdout.

Which installation, as in the action:
  --owner only                 the owner's installation, all its repositories
  --repositories (and --owner) the installation holding the first repository,
                               narrowed to the listed ones (name or owner/name)
  --installation-id            that installation, without a lookup
  --enterprise                 the enterprise's installation (its enterprise
                               permissions; the token reaches no repository)
  none of them                 the current repository ($GITHUB_REPOSITORY)

With --sts-url, a token exchange mints the token as its trust policy
--identity allows, for one repository (a repository policy) or --owner
alone (an organization policy), from the job's OIDC ID token (in a job with
id-token: write) or --id-token-file; no key or permission is given.

The App's key is a .pem (--private-key-file), or stays in a KMS or HSM that
signs for it (--signer URI); the AWS SDK and Google's Application Default
Credentials find their own credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID,
GOOGLE_APPLICATION_CREDENTIALS, ...).

Examples:
  app-token token --client-id Iv23li... --private-key-file app.pem --owner octo-org
  app-token token --repositories octo-org/alpha,beta --permission contents=read --json
  app-token token --sts-url https://sts.example.com --identity ci --repositories octo-org/alpha
  app-token token --client-id Iv23li... --signer awskms://alias/github-app --owner octo-org`)
	s.RegisterAppCommand(fs)
	fs.StringVar(&s.Owner, "owner", "", "the `account` (user or organization) the app is installed on")
	fs.StringVar(&s.Repositories, "repositories", "", "narrow the token to these `repositories` (comma-separated; name or owner/name)")
	fs.Var(&s.Permissions, "permission", "narrow the token to `name=level` (repeatable, or comma-separated: contents=read,issues=write)")
	fs.Int64Var(&s.InstallationID, "installation-id", 0, "use this installation `ID` directly (one request instead of two)")
	fs.StringVar(&s.Enterprise, "enterprise", "", "the enterprise (its `slug`) the app is installed on; not with --owner, --repositories or --installation-id")
	fs.BoolVar(&asJSON, "json", false, "print JSON: token, expires_at, installation_id, app_slug, permissions, repositories")
	s.RegisterExchange(fs)
	host, err := c.appFlags(fs, &s, args)
	if err != nil {
		return err
	}
	sel := appauth.Selection{
		Owner: s.Owner, Repositories: s.Repositories, InstallationID: s.InstallationID, Enterprise: s.Enterprise, Permissions: s.Permissions,
		CurrentRepository: s.Env("GITHUB_REPOSITORY"), CurrentOwner: s.Env("GITHUB_REPOSITORY_OWNER"),
	}
	req, _, err := sel.Resolve(func(name string) string { return "--" + name })
	if err != nil {
		return &cliflag.UsageError{Msg: err.Error()}
	}
	if s.STSURL != "" {
		tok, err := s.ExchangeToken(ctx, c.http, req)
		if err != nil {
			return err
		}
		return c.printToken(ctx, nil, tok, asJSON)
	}
	app, done, err := c.newApp(ctx, &s, host)
	if err != nil {
		return err
	}
	defer done()
	tok, err := app.Mint(ctx, req)
	if err != nil {
		return err
	}
	return c.printToken(ctx, app, tok, asJSON)
}

// printToken prints tok's value, or with asJSON all of it. app, when not
// nil (a token from an exchange has none), names what the mint left out.
func (c *cli) printToken(ctx context.Context, app *appauth.App, tok *appauth.Token, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(c.stdout, tok.Value.Reveal())
		return err
	}
	if app != nil && (tok.AppSlug == "" || tok.Owner == "") {
		// --installation-id skipped the lookup that names them: one
		// request (GET /app/installations) fills them in.
		if err := app.NameInstallation(ctx, tok); err != nil {
			return fmt.Errorf("name the installation's owner for --json: %w", err)
		}
	}
	if tok.Permissions == nil {
		tok.Permissions = map[string]string{}
	}
	if tok.Repositories == nil {
		tok.Repositories = []string{} // all of the installation's: repository_selection says so
	}
	return c.printJSON(tok)
}

// printJSON writes v as every --json does: one document, indented by two
// spaces, ending in a newline.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) cmdJWT(ctx context.Context, args []string) error {
	var s settings.Settings
	var asJSON bool
	fs := c.flags("jwt", "", `Print a JWT signed with the App's private key (RS256), for calls made as the
App itself (curl -H "Authorization: Bearer $(app-token jwt ...)"). It is
valid from 60 seconds ago for 10 minutes.`)
	s.RegisterAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON: jwt, expires_at")
	app, done, err := c.appCommand(ctx, fs, &s, args)
	if err != nil {
		return err
	}
	defer done()
	j, exp, err := app.JWT()
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(map[string]any{"jwt": j, "expires_at": exp.UTC()})
	}
	_, err = fmt.Fprintln(c.stdout, j)
	return err
}

func (c *cli) cmdInstallations(ctx context.Context, args []string) error {
	var s settings.Settings
	var asJSON bool
	fs := c.flags("installations", "", `List the App's installations: ID, account, the repositories each reaches
and its permissions. GitHub names an installation's repositories only to
one of its tokens, so app-token mints one per installation (metadata: read),
lists, and revokes it.`)
	s.RegisterAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON: a list of id, app_id, app_slug, account, account_type, repository_selection, permissions, repositories")
	app, done, err := c.appCommand(ctx, fs, &s, args)
	if err != nil {
		return err
	}
	defer done()
	out, err := app.InstallationsWithRepositories(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(c.stderr, "The app has no installations.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tTYPE\tREPOSITORIES\tPERMISSIONS")
	for _, in := range out {
		repos := strings.Join(in.Repositories, ",")
		switch {
		case in.RepositorySelection == "all":
			repos = "all: " + repos
		case repos == "":
			repos = "-"
		}
		if in.Suspended {
			repos = "(suspended)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", in.ID, in.Account, in.AccountType, repos, permissionSummary(in.Permissions))
	}
	return tw.Flush()
}

func permissionSummary(p map[string]string) string {
	if len(p) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(p))
	for n, l := range p {
		parts = append(parts, n+":"+l)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (c *cli) cmdRevoke(ctx context.Context, args []string) error {
	var s settings.Settings
	fs := c.flags("revoke", "", `Revoke an installation access token (ghs_...) or a user access token
(ghu_..., gho_...). The token is read from stdin, so that it stays out of
the process list and shell history; on a terminal app-token asks for it
without echoing it:

  app-token token --owner octo-org ... > token.txt
  app-token revoke < token.txt

An installation token revokes itself (DELETE /installation/token). A user
token is revoked by its app (DELETE /applications/{client_id}/token), which
needs the app's client ID and client secret.`)
	fs.StringVar(&s.APIURL, "api-url", "", "the REST API `URL` (default $"+settings.EnvAPIURL+", else "+ghhost.DefaultAPIURL+")")
	fs.StringVar(&s.ClientID, "client-id", "", "for a user token: the app's client `ID` (default $"+settings.EnvClientID+")")
	fs.StringVar(&s.ClientSecret, "client-secret", "", "for a user token: the app's client `secret` (default $"+settings.EnvClientSecret+")")
	fs.BoolVar(&s.Debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+settings.EnvDebug+"=1)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("revoke takes the token on stdin, not as an argument (an argument lands in shell history and the process list): app-token revoke < token.txt")
	}
	s.Resolve(fs, c.getenv)
	c.debugHTTP(&s)
	host, err := s.GHHost()
	if err != nil {
		return err
	}
	token, err := c.readSecret("Token to revoke: ")
	if err != nil {
		return fmt.Errorf("read the token from stdin: %w", err)
	}
	if token == "" {
		return usagef("revoke: no token on stdin: pipe the token in (app-token revoke < token.txt)")
	}
	if signin.IsUserToken(token) {
		return c.session().RevokeUserToken(ctx, host, s.ClientID, s.ClientSecret, token)
	}
	if err := appauth.Revoke(ctx, token, c.appOptions(host, settings.FlagNames, nil)...); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	fmt.Fprintln(c.stderr, "Token revoked.")
	return nil
}

// readSecret reads one line from stdin: on a terminal after prompt on
// stderr, without echo.
func (c *cli) readSecret(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		return strings.TrimSpace(string(b)), err
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, 1<<16)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
