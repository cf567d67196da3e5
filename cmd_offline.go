package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/demo"
	"github.com/org/app-token/internal/emulator"
)

func (c *cli) cmdDemo(ctx context.Context, args []string) error {
	fs := c.flags("demo", "", `Run the whole action offline: start the GitHub emulator in this process,
run the action's main step (mint a token, mask it, write outputs), use the
token as a later step would, run the post step (revoke it), and tell what
happened at each step. Needs no network and no GitHub account.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments")
	}
	return demo.Run(ctx, c.stdout, c.http, c.demoStep)
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
	fs := c.flags("emulator", "", `Serve the offline GitHub API emulator with a generated test App, for dry
runs with act and for trying app-token without GitHub. It serves the REST
API at / and at /api/v3/ (like GitHub Enterprise Server) and the OAuth
endpoints at /login/. It writes the test App's key and a secrets file for
act into --dir and prints what to put in a workflow. Stop it with Ctrl-C.`)
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "the `address` to listen on (port 0 picks a free one)")
	fs.StringVar(&dir, "dir", "", "the `folder` for the test App's key and act's secrets file (default: a new temporary folder)")
	fs.StringVar(&keyFile, "key-file", "", "use this test App key (PEM) instead of generating one")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	key, err := emulatorKey(keyFile)
	if err != nil {
		return err
	}
	return demo.Emulator(ctx, key, listen, dir, c.stdout, c.stderr)
}

// emulatorKey loads the test App's key from file, or generates one.
func emulatorKey(file string) (*rsa.PrivateKey, error) {
	if file == "" {
		return emulator.GenerateKey()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	k, _, err := appauth.ParsePrivateKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	return k, nil
}
