package main

import (
	"context"
	"crypto"
	"os"

	"github.com/org/app-token/internal/action"
	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/signer"
)

func (c *cli) cmdAction(ctx context.Context, args []string) error {
	fs := c.flags("action", "", `Run the GitHub Action's main step: read the step's inputs (INPUT_*),
mint an installation token, mask it and write the outputs token,
installation-id, app-slug and expires-at. action.yml runs this; it reads
the environment the Actions runner gives a step.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("action takes no arguments; it reads the step's inputs from the environment")
	}
	r := actionenv.New(c.getenv, c.stdout)
	if err := action.Main(ctx, c.actionStep(r)); err != nil {
		r.Errorf("%s", err)
		return silent(err)
	}
	return nil
}

// silent is errSilent with err's exit code.
func silent(err error) error {
	if exitCode(err) == exitAuth {
		return errSilentAuth
	}
	return errSilent
}

// actionStep is the world of an action step: the runner, this process's
// client, clock and git.
func (c *cli) actionStep(r *actionenv.Runner) action.Step {
	s := action.Step{
		Runner: r, Getenv: c.getenv, Executable: c.executable, Git: c.gitConfig("--global"), Now: c.now, HTTPClient: c.http,
		OpenSigner: func(ctx context.Context, uri string) (crypto.Signer, error) {
			return signer.Open(ctx, uri, signer.WithGetenv(c.getenv))
		},
		// The action names its settings by their inputs in advice.
		AppOptions: func(host ghhost.Host, debug func(string, ...any)) []appauth.Option {
			return c.appOptions(host, func(setting string) string { return setting }, debug)
		},
	}
	if c.environ != nil {
		s.Environ = c.environ()
	}
	if s.TempDir = c.getenv("RUNNER_TEMP"); s.TempDir == "" {
		s.TempDir = os.TempDir()
	}
	return s
}

func (c *cli) cmdActionPost(ctx context.Context, args []string) error {
	fs := c.flags("action-post", "", `Run the GitHub Action's post step: revoke the token the main step created
(unless skip-token-revoke is true or it already expired) and undo setup-git.
A failed revocation is a warning, not a failure.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	r := actionenv.New(c.getenv, c.stdout)
	action.Post(ctx, c.actionStep(r))
	return nil
}
