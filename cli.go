package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/httpclient"
	"github.com/org/app-token/internal/settings"
)

// cli holds what every command may use: the process's environment and
// streams, one HTTP client and one clock. Tests build it with newCLI and may
// replace wait to make retries instant.
type cli struct {
	getenv func(string) string
	// environ lists the environment as NAME=value; nil when unknown.
	environ func() []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer

	// executable finds this program, for the credential helper git runs.
	executable func() (string, error)

	http *http.Client
	now  func() time.Time
	// wait sleeps for d or until ctx ends; retries and polls use it.
	wait func(ctx context.Context, d time.Duration) error
}

func newCLI(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *cli {
	return &cli{
		getenv:     getenv,
		stdin:      stdin,
		stdout:     stdout,
		stderr:     stderr,
		http:       httpclient.New(getenv),
		now:        time.Now,
		wait:       sleepCtx,
		executable: os.Executable,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// debugHTTP makes c's client print each request on stderr when s asks
// for debugging (httpclient.WithDebug: never a header or body). Commands
// that mint through appauth have its own debug lines instead.
func (c *cli) debugHTTP(s *settings.Settings) {
	if s.Debug {
		c.http = httpclient.WithDebug(c.http, c.stderr, c.now)
	}
}

// command is one subcommand of app-token.
type command struct {
	name    string
	summary string
	hidden  bool
	run     func(c *cli, ctx context.Context, args []string) error
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{name: "token", summary: "Print an installation access token for a GitHub App", run: (*cli).cmdToken},
		{name: "jwt", summary: "Print a GitHub App JWT (valid for up to 10 minutes)", run: (*cli).cmdJWT},
		{name: "installations", summary: "List the installations of a GitHub App", run: (*cli).cmdInstallations},
		{name: "revoke", summary: "Revoke an installation or user access token", run: (*cli).cmdRevoke},
		{name: "credential", summary: "Act as a git credential helper (get, store, erase)", run: (*cli).cmdCredential},
		{name: "setup-git", summary: "Configure git to use app-token as its credential helper", run: (*cli).cmdSetupGit},
		{name: "login", summary: "Sign a person in with the OAuth device flow or web flow", run: (*cli).cmdLogin},
		{name: "status", summary: "Show who is signed in and where the token is stored", run: (*cli).cmdStatus},
		{name: "user-token", summary: "Print the signed-in user's access token, refreshing it if needed", run: (*cli).cmdUserToken},
		{name: "logout", summary: "Forget (and optionally revoke) the signed-in user's tokens", run: (*cli).cmdLogout},
		{name: "action", summary: "Run the GitHub Action's main step (used by action.yml)", run: (*cli).cmdAction},
		{name: "action-post", summary: "Run the GitHub Action's post step (used by action.yml)", run: (*cli).cmdActionPost},
		{name: "serve", summary: "Run the token exchange: OIDC ID tokens in, installation tokens out", run: (*cli).cmdServe},
		{name: "emulator", summary: "Serve the offline GitHub API emulator", run: (*cli).cmdEmulator},
		{name: "demo", summary: "Run the whole action offline against the emulator", run: (*cli).cmdDemo},
		{name: "version", summary: "Print the version", run: (*cli).cmdVersion},
	}
}

func (c *cli) run(ctx context.Context, args []string) error {
	args = c.globalFlags(args)
	if len(args) == 0 {
		c.usage(c.stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return c.run(ctx, []string{args[1], "-h"})
		}
		c.usage(c.stdout)
		return nil
	case "-v", "-version", "--version":
		name = "version"
	}
	var names []string
	for _, cmd := range commands() {
		if cmd.name == name {
			err := cmd.run(c, ctx, args[1:])
			if errors.Is(err, errHelp) {
				return nil
			}
			return err
		}
		if !cmd.hidden {
			names = append(names, cmd.name)
		}
	}
	if strings.HasPrefix(name, "-") {
		return usagef("unknown global flag %s: only --debug comes before the command; run 'app-token help' for the list of commands", name)
	}
	if near := cliflag.Nearest(name, names); near != "" {
		return usagef("unknown command %q (did you mean %q?): run 'app-token help' for the list", name, near)
	}
	return usagef("unknown command %q: run 'app-token help' for the list", name)
}

// globalFlags takes the flags given before the command: --debug, which
// turns debugging on for every command as APP_TOKEN_DEBUG=1 does.
func (c *cli) globalFlags(args []string) []string {
	for len(args) > 0 && (args[0] == "--debug" || args[0] == "-debug") {
		args = args[1:]
		getenv := c.getenv
		c.getenv = func(k string) string {
			if k == settings.EnvDebug {
				return "1"
			}
			return getenv(k)
		}
	}
	return args
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `app-token gives CI jobs and people short-lived, narrowly scoped GitHub credentials.

Usage:
  app-token <command> [flags]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cmd := range commands() {
		if !cmd.hidden {
			fmt.Fprintf(tw, "  %s\t%s\n", cmd.name, cmd.summary)
		}
	}
	tw.Flush()
	fmt.Fprint(w, `
Run 'app-token <command> -h' for the flags of a command.
Start with 'app-token demo' to see the whole action run offline.
`)
}

func (c *cli) cmdVersion(_ context.Context, args []string) error {
	fs := c.flags("version", "", "Print the version of app-token.")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "app-token %s\n", version)
	return nil
}

// flags returns a flag set for one subcommand, its help on stderr.
func (c *cli) flags(name, argsUsage, description string) *flag.FlagSet {
	return cliflag.New("app-token", name, argsUsage, description, c.stderr)
}

// parse parses args into fs: "-h" prints help (errHelp), any other mistake
// is a one-line usage error naming the flag.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	return cliflag.Parse(fs, "app-token", args)
}

// errHelp ends a command whose help was asked for: exit 0, nothing more.
var errHelp = cliflag.ErrHelp
