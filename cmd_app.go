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
	"github.com/org/app-token/internal/ghhost"
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
func (c *cli) debugf(s *settings, prefix string) func(string, ...any) {
	if !s.debug {
		return nil
	}
	return func(format string, args ...any) { fmt.Fprintf(c.stderr, prefix+format+"\n", args...) }
}

// newApp builds the App the settings name, for host.
func (c *cli) newApp(s *settings, host ghhost.Host) (*appauth.App, error) {
	if s.issuer() == "" {
		return nil, usagef("no app given: pass --client-id (or --app-id), or set %s", envClientID)
	}
	raw, name, err := s.key()
	if err != nil {
		return nil, err
	}
	key, err := appauth.ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return appauth.New(s.issuer(), key.Key, c.appOptions(host, flagNames, c.debugf(s, "debug: "))...)
}

// appFlags parses the flags of a command that acts as the App, which
// takes no arguments, and resolves its host.
func (c *cli) appFlags(fs *flag.FlagSet, s *settings, args []string) (ghhost.Host, error) {
	if err := c.parse(fs, args); err != nil {
		return ghhost.Host{}, err
	}
	if fs.NArg() > 0 {
		return ghhost.Host{}, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	s.resolve(fs, c.getenv)
	return s.ghHost()
}

// appCommand is appFlags, then the App.
func (c *cli) appCommand(fs *flag.FlagSet, s *settings, args []string) (*appauth.App, error) {
	host, err := c.appFlags(fs, s, args)
	if err != nil {
		return nil, err
	}
	return c.newApp(s, host)
}

func (c *cli) cmdToken(ctx context.Context, args []string) error {
	var s settings
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
	fs.Int64Var(&s.installationID, "installation-id", 0, "use this installation `ID` directly (one request instead of two)")
	fs.BoolVar(&asJSON, "json", false, "print JSON: token, expires_at, installation_id, app_slug, permissions, repositories")
	host, err := c.appFlags(fs, &s, args)
	if err != nil {
		return err
	}
	sel := appauth.Selection{
		Owner: s.owner, Repositories: s.repositories, InstallationID: s.installationID, Permissions: s.permissions,
		CurrentRepository: s.env("GITHUB_REPOSITORY"), CurrentOwner: s.env("GITHUB_REPOSITORY_OWNER"),
	}
	req, _, err := sel.Resolve(func(name string) string { return "--" + name })
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	app, err := c.newApp(&s, host)
	if err != nil {
		return err
	}
	tok, err := app.Mint(ctx, req)
	if err != nil {
		return err
	}
	if !asJSON {
		_, err := fmt.Fprintln(c.stdout, tok.Value.Reveal())
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(tok)
}

func (c *cli) cmdJWT(ctx context.Context, args []string) error {
	var s settings
	var asJSON bool
	fs := c.flags("jwt", "", `Print a JWT signed with the App's private key (RS256), for calls made as the
App itself (curl -H "Authorization: Bearer $(app-token jwt ...)"). It is
valid from 60 seconds ago for 10 minutes.`)
	s.registerAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON: jwt, expires_at")
	app, err := c.appCommand(fs, &s, args)
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
	var s settings
	var asJSON bool
	fs := c.flags("installations", "", "List the App's installations: ID, account, repository selection and permissions.")
	s.registerAppCommand(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	app, err := c.appCommand(fs, &s, args)
	if err != nil {
		return err
	}
	list, err := app.Installations(ctx)
	if err != nil {
		return err
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
	var s settings
	fs := c.flags("revoke", "", `Revoke an installation access token. The token is read from stdin (so that it
stays out of the process list and shell history):

  app-token token --owner octo-org ... > token.txt
  app-token revoke < token.txt`)
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL` (default $"+envAPIURL+", else "+ghhost.DefaultAPIURL+")")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	s.resolve(fs, c.getenv)
	host, err := s.ghHost()
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, 1<<16)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the token from stdin: %w", err)
	}
	token := strings.TrimSpace(line)
	if token == "" {
		return usagef("revoke: no token on stdin: pipe the token in (app-token revoke < token.txt)")
	}
	if err := appauth.Revoke(ctx, token, c.appOptions(host, flagNames, nil)...); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	fmt.Fprintln(c.stderr, "Token revoked.")
	return nil
}
