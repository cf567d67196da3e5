package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/org/app-token/internal/demo"
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
