package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/org/app-token/internal/appauth"
)

// appOptions are the appauth options every command shares: the one HTTP
// client, the clock, the waits, names for advice and an optional debug sink.
func (c *cli) appOptions(apiURL string, names func(string) string, debug func(string, ...any)) []appauth.Option {
	opts := []appauth.Option{
		appauth.WithBaseURL(apiURL),
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

// registerApp adds the flags that say which App to act as. They are the
// credential helper's settings (credSettings), so that every command reads
// --client-id, --private-key-file, --api-url and their APP_TOKEN_*
// variables the same way. apiDefault says what an unset --api-url means.
func (s *credSettings) registerApp(fs *flag.FlagSet, apiDefault string) {
	fs.StringVar(&s.clientID, "client-id", "", "the GitHub App's client ID (default $APP_TOKEN_CLIENT_ID)")
	fs.StringVar(&s.appID, "app-id", "", "the GitHub App's numeric app ID, instead of the client ID (default $APP_TOKEN_APP_ID)")
	fs.StringVar(&s.keyFile, "private-key-file", "", "the App's private key `file` (.pem) (default $APP_TOKEN_PRIVATE_KEY_FILE, or the PEM in $APP_TOKEN_PRIVATE_KEY)")
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL`: https://HOST/api/v3 for GitHub Enterprise Server (default $APP_TOKEN_API_URL, else "+apiDefault+")")
}

// registerAppCommand is registerApp for the commands that talk to one API,
// with --debug.
func (s *credSettings) registerAppCommand(fs *flag.FlagSet) {
	s.registerApp(fs, "https://api.github.com")
	fs.BoolVar(&s.debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set APP_TOKEN_DEBUG=1)")
}

// cliNames names settings in advice as the CLI's flags.
func cliNames(setting string) string {
	switch setting {
	case "installation-id":
		return "--installation-id (app-token installations lists them)"
	case "client-id", "owner", "repositories":
		return "--" + setting
	case "private-key":
		return "the private key (--private-key-file or APP_TOKEN_PRIVATE_KEY)"
	}
	if p, ok := strings.CutPrefix(setting, "permission-"); ok {
		return "--permission " + strings.ReplaceAll(p, "-", "_")
	}
	return setting
}

// newApp builds the App the flags and environment name.
func (c *cli) newApp(s *credSettings) (*appauth.App, error) {
	s.fromEnv(c.getenv)
	if s.issuer() == "" {
		return nil, usagef("no app given: pass --client-id (or --app-id), or set APP_TOKEN_CLIENT_ID")
	}
	raw, name, err := c.credKey(s)
	if err != nil {
		return nil, err
	}
	key, err := appauth.ParseKey(string(raw))
	if err != nil {
		return nil, &authError{fmt.Errorf("%s: %w", name, err)}
	}
	apiURL := s.apiURL
	if apiURL == "" {
		apiURL = appauth.DefaultAPIURL
	}
	if err := appauth.ValidateAPIURL(apiURL); err != nil {
		return nil, usagef("--api-url: %v", err)
	}
	var debug func(string, ...any)
	if s.debug {
		debug = func(format string, args ...any) { fmt.Fprintf(c.stderr, "debug: "+format+"\n", args...) }
	}
	return appauth.New(s.issuer(), key.Key, c.appOptions(apiURL, cliNames, debug)...)
}

// authFailure marks GitHub's refusal of the App's credentials for exit 4.
func authFailure(err error) error {
	var ae *appauth.APIError
	if errors.As(err, &ae) && ae.IsAuth() {
		return &authError{err}
	}
	return err
}

func (c *cli) cmdToken(ctx context.Context, args []string) error {
	var s credSettings
	var installationID int64
	var asJSON bool
	fs := c.flags("token", "", `Print an installation access token for a GitHub App on stdout.

Which installation, as in the action:
  --owner only                 the owner's installation, all its repositories
  --repositories (and --owner) the installation holding the first repository,
                               narrowed to the listed ones (name or owner/name)
  --installation-id            that installation, without a lookup
  none of them                 the current repository ($GITHUB_REPOSITORY)

Examples:
  app-token token --client-id Iv23li... --private-key-file app.pem --owner octo-org
  app-token token --repositories octo-org/alpha,beta --permission contents=read --json`)
	s.registerAppCommand(fs)
	fs.StringVar(&s.owner, "owner", "", "the `account` (user or organization) the app is installed on")
	fs.StringVar(&s.repositories, "repositories", "", "narrow the token to these repositories (comma-separated; name or owner/name)")
	fs.Var(&s.permissions, "permission", "narrow the token to `name=level` (repeatable), e.g. contents=read")
	fs.Int64Var(&installationID, "installation-id", 0, "use this installation `ID` directly (one request instead of two)")
	fs.BoolVar(&asJSON, "json", false, "print JSON: token, expires_at, installation_id, app_slug, permissions, repositories")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("token: unexpected argument %q", fs.Arg(0))
	}
	req, err := c.tokenRequest(&s, installationID)
	if err != nil {
		return err
	}
	app, err := c.newApp(&s)
	if err != nil {
		return err
	}
	tok, err := app.Mint(ctx, req)
	if err != nil {
		return authFailure(err)
	}
	if !asJSON {
		_, err := fmt.Fprintln(c.stdout, tok.Value.Reveal())
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(tok)
}

// tokenRequest resolves the flags to a request as the action resolves its
// inputs.
func (c *cli) tokenRequest(s *credSettings, installationID int64) (appauth.Request, error) {
	if s.owner != "" && !appauth.ValidOwner(s.owner) {
		return appauth.Request{}, usagef("--owner: %q is not a GitHub account name", s.owner)
	}
	repos, owner, err := appauth.ParseRepositories(s.repositories, s.owner, "--repositories")
	if err != nil {
		return appauth.Request{}, &usageError{msg: err.Error()}
	}
	if installationID < 0 {
		return appauth.Request{}, usagef("--installation-id: must be a positive number")
	}
	req := appauth.Request{Owner: owner, Repositories: repos, Permissions: s.permissions, InstallationID: installationID}
	if len(req.Permissions) == 0 {
		req.Permissions = nil
	}
	if owner == "" && installationID == 0 {
		current := c.getenv("GITHUB_REPOSITORY")
		o, name, ok := strings.Cut(current, "/")
		switch {
		case !ok:
			return appauth.Request{}, usagef("say which installation: pass --owner, --repositories owner/name or --installation-id")
		case len(repos) == 0:
			req.Owner, req.Repositories = o, []string{name}
		default:
			req.Owner = o
		}
	}
	return req, nil
}

func (c *cli) cmdJWT(ctx context.Context, args []string) error {
	var s credSettings
	var asJSON bool
	fs := c.flags("jwt", "", `Print a JWT signed with the App's private key (RS256), for calls made as the
App itself (curl -H "Authorization: Bearer $(app-token jwt ...)"). It is
valid from 60 seconds ago for 10 minutes.`)
	s.registerAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON: jwt, expires_at")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	app, err := c.newApp(&s)
	if err != nil {
		return err
	}
	j, exp, err := app.JWT()
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"jwt": j, "expires_at": exp.UTC()})
	}
	_, err = fmt.Fprintln(c.stdout, j)
	return err
}

func (c *cli) cmdInstallations(ctx context.Context, args []string) error {
	var s credSettings
	var asJSON bool
	fs := c.flags("installations", "", "List the App's installations: ID, account, repository selection and permissions.")
	s.registerAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	app, err := c.newApp(&s)
	if err != nil {
		return err
	}
	list, err := app.Installations(ctx)
	if err != nil {
		return authFailure(err)
	}
	if asJSON {
		if list == nil {
			list = []*appauth.Installation{}
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stderr, "The app has no installations.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tTYPE\tREPOSITORIES\tPERMISSIONS")
	for _, in := range list {
		sel := in.RepositorySelection
		if in.Suspended {
			sel += " (suspended)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", in.ID, in.Account, in.AccountType, sel, permissionSummary(in.Permissions))
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
	var apiURL string
	fs := c.flags("revoke", "", `Revoke an installation access token. The token is read from stdin (so that it
stays out of the process list and shell history):

  app-token token --owner octo-org ... > token.txt
  app-token revoke < token.txt`)
	fs.StringVar(&apiURL, "api-url", "", "the REST API `URL` (default $APP_TOKEN_API_URL, else https://api.github.com)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if apiURL == "" {
		apiURL = c.getenv("APP_TOKEN_API_URL")
	}
	if apiURL == "" {
		apiURL = appauth.DefaultAPIURL
	}
	if err := appauth.ValidateAPIURL(apiURL); err != nil {
		return usagef("--api-url: %v", err)
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, 1<<16)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the token from stdin: %w", err)
	}
	token := strings.TrimSpace(line)
	if token == "" {
		return usagef("revoke: no token on stdin: pipe the token in (app-token revoke < token.txt)")
	}
	if err := appauth.Revoke(ctx, token, c.appOptions(apiURL, cliNames, nil)...); err != nil {
		return authFailure(fmt.Errorf("revoke: %w", err))
	}
	fmt.Fprintln(c.stderr, "Token revoked.")
	return nil
}
