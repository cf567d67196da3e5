package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/org/app-token/internal/demo"
)

func (c *cli) cmdDemo(ctx context.Context, args []string) error {
	fs := c.flags("demo", "", `Run the whole action offline: start the GitHub emulator in this process,
run the action's main step (mint a token, mask it, write outputs), use the
token as later steps would (the API, and git clone and push through
app-token's credential helper), run the post step (revoke it), and tell
what happened at each step. Needs no network and no GitHub account.

With --keyless, the action has no key at all: the token exchange
(app-token serve) runs in this process too, and the step trades the job's
OIDC ID token there, as a trust policy allows.`)
	keyless := fs.Bool("keyless", false, "run the action keyless, through the token exchange")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments")
	}
	if *keyless {
		return demo.RunKeyless(ctx, c.stdout, c.http, c.demoStep)
	}
	var git *demo.Git
	if exe, err := c.executable(); err == nil {
		git = &demo.Git{Exe: exe, Env: os.Environ()}
	}
	return demo.Run(ctx, c.stdout, c.http, c.demoStep, git)
}

// demoStep runs one action subcommand as the runner would, with env as the
// step's environment, and returns what it wrote to its log.
func (c *cli) demoStep(ctx context.Context, env map[string]string, post bool) (string, error) {
	var log bytes.Buffer
	step := &cli{
		getenv: func(k string) string { return env[k] },
		environ: func() []string {
			out := make([]string, 0, len(env))
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
		stdin:      strings.NewReader(""),
		stdout:     &log,
		stderr:     &log,
		http:       c.http,
		now:        c.now,
		wait:       c.wait,
		executable: c.executable,
	}
	cmd := (*cli).cmdAction
	if post {
		cmd = (*cli).cmdActionPost
	}
	err := cmd(step, ctx, nil)
	if err != nil && err.Error() == "" {
		err = fmt.Errorf("see the ::error:: line above")
	}
	return log.String(), err
}

func (c *cli) cmdEmulator(ctx context.Context, args []string) error {
	var listen, dir, keyFile string
	var offset time.Duration
	var faults demo.Faults
	fs := c.flags("emulator", "", `Serve the offline GitHub API emulator with a generated test App, for dry
runs with act and for trying app-token without GitHub. It serves the REST
API at / and at /api/v3/ (like GitHub Enterprise Server) and the OAuth
endpoints at /login/ (approve sign-ins at /login/device). It writes into
--dir the test App's key, act's secrets and variables files and
emulator.env (every setting the CLI needs, for a shell), prints what to do
with them, and logs each request it serves (method, path, status, time).
Stop it with Ctrl-C; without --dir its temporary folder is removed then.

Examples:
  app-token emulator --listen 127.0.0.1:8787 --dir /tmp/emu
  app-token emulator --clock-offset 2m --fault "POST /app/installations=503*2"`)
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "the `address` to listen on (port 0 picks a free one)")
	fs.StringVar(&dir, "dir", "", "the `folder` for the test App's key and the files for act and a shell (default: a temporary folder, removed on exit)")
	fs.StringVar(&keyFile, "key-file", "", "use this test App key (PEM) instead of generating one")
	fs.DurationVar(&offset, "clock-offset", 0, "shift the emulator's clock by this `duration` (e.g. 2m, -90s), as if GitHub's clock and this machine's disagreed")
	fs.Var(&faults, "fault", "answer matching requests with an error: `[METHOD ]PATH=STATUS[*TIMES]` or PATH=drop (repeatable)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("emulator takes no arguments, got %q", fs.Arg(0))
	}
	key, err := demo.LoadKey(keyFile)
	if err != nil {
		return err
	}
	return demo.Emulator(ctx, demo.EmulatorConfig{
		Key: key, Listen: listen, Dir: dir, ClockOffset: offset, Faults: faults,
		Out: c.stdout, Log: c.stderr, Now: c.now,
	})
}
