package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/gitcred"
)

// Git is what the demo needs to run git with app-token as its credential
// helper.
type Git struct {
	// Exe is app-token, which git runs as "app-token credential".
	Exe string
	// Env is the environment git starts from (PATH, ...); the demo
	// replaces git's configuration, HOME and identity in it.
	Env []string
}

// tokenVar is the variable the demo hands the token to git in, as a
// workflow step would (env: GH_TOKEN: ${{ steps.app-token.outputs.token }}).
const tokenVar = "APP_TOKEN_DEMO_TOKEN"

// gitTour clones octo-org/alpha from the emulator's git server with token,
// commits and pushes a file, through app-token's credential helper: the
// token is in git's environment only, never on a command line or in a URL.
func gitTour(ctx context.Context, w io.Writer, emu *emulator.Server, g *Git, baseURL, dir, token string) error {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	config := filepath.Join(dir, "gitconfig")
	env := slices.DeleteFunc(slices.Clone(g.Env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "HOME" || strings.HasPrefix(k, "GIT_") || k == tokenVar
	})
	env = append(env, "HOME="+home, "GIT_CONFIG_GLOBAL="+config, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Demo Step", "GIT_AUTHOR_EMAIL=demo@example.invalid", "GIT_AUTHOR_DATE=2026-01-02T00:00:00Z",
		"GIT_COMMITTER_NAME=Demo Step", "GIT_COMMITTER_EMAIL=demo@example.invalid", "GIT_COMMITTER_DATE=2026-01-02T00:00:00Z",
		"LANG=C", tokenVar+"="+token)
	helper := []string{"credential", "--host", baseURL, "--token-env", tokenVar}
	// What "app-token setup-git --token-env ..." writes, here into the
	// demo's own git configuration.
	gc := gitcred.GitConfig{Scope: []string{"--file", config}, Env: env}
	if _, err := gc.Replace(ctx, []gitcred.Setting{
		{Key: "credential." + baseURL + ".helper", Values: []string{"", gitcred.HelperCommand(g.Exe, helper...)}},
		{Key: "credential." + baseURL + ".useHttpPath", Values: []string{"true"}},
	}); err != nil {
		return fmt.Errorf("configure git: %w", err)
	}
	run := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env, cmd.Dir = env, dir
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(errOut.String()))
		}
		return strings.TrimSpace(out.String()), nil
	}
	url := baseURL + "/" + emulator.WorldOrg + "/alpha.git"
	fmt.Fprintf(w, `   The step hands the token to git in its environment only:
     env:
       %s: ${{ steps.app-token.outputs.token }}
     run: app-token setup-git --host %s --token-env %s
   (here written to the demo's own git configuration), so git asks
   "app-token credential --token-env %s" for a password
   at each command.
`, tokenVar, baseURL, tokenVar, tokenVar)
	before := len(emu.Requests())
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	fmt.Fprintf(w, "     $ git clone %s\n", url)
	if _, err := run(work, "clone", "--quiet", url); err != nil {
		return err
	}
	alpha := filepath.Join(work, "alpha")
	log, err := run(alpha, "log", "--oneline", "--name-only")
	if err != nil {
		return err
	}
	indent(w, log, "       ")
	fmt.Fprintln(w, "     $ git commit -m 'Add NOTES.md' && git push origin main")
	if err := os.WriteFile(filepath.Join(alpha, "NOTES.md"), []byte("Pushed by the demo with the app's token.\n"), 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{{"add", "NOTES.md"}, {"commit", "--quiet", "-m", "Add NOTES.md"}, {"push", "--quiet", "origin", "main"}} {
		if _, err := run(alpha, args...); err != nil {
			return err
		}
	}
	remote, err := run(alpha, "ls-remote", "origin", "refs/heads/main")
	if err != nil {
		return err
	}
	local, err := run(alpha, "rev-parse", "--short", "HEAD")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(remote, local) {
		return fmt.Errorf("the push did not arrive: the server's main is %q", remote)
	}
	fmt.Fprintf(w, "       the server's main is now %s (Add NOTES.md)\n", local)
	// Each git command asks first without credentials (401), then with
	// the helper's answer; how many requests a fetch takes depends on
	// git's version, so each kind is listed once.
	fmt.Fprintln(w, "   git's requests, each kind once (git asks without credentials first, gets 401, then asks the helper):")
	var kinds []emulator.Request
	for _, r := range emu.Requests()[before:] {
		if !slices.Contains(kinds, r) {
			kinds = append(kinds, r)
		}
	}
	requests(w, kinds)
	return nil
}
