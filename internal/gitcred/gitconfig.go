package gitcred

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// GitConfig edits one scope of git's configuration by running "git config":
// git itself quotes and places values, as "gh auth setup-git" relies on too.
type GitConfig struct {
	// Scope is "--global", or "--file" and a path.
	Scope []string
	// Env is git's environment; nil means the process's.
	Env []string
}

// GitError is git exiting with a failure. It carries git's stderr, which for
// "git config" holds no secret.
type GitError struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *GitError) Error() string {
	msg := fmt.Sprintf("git %s: exit status %d", strings.Join(e.Args[:min(len(e.Args), 3)], " "), e.Code)
	if e.Stderr != "" {
		msg += ": " + strings.ReplaceAll(e.Stderr, "\n", "; ")
	}
	return msg
}

func (g GitConfig) run(ctx context.Context, args ...string) (string, error) {
	args = append(append([]string{"config"}, g.Scope...), args...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = g.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), &GitError{Args: args, Code: ee.ExitCode(), Stderr: strings.TrimSpace(stderr.String())}
		}
		return "", fmt.Errorf("run git: %w", err)
	}
	return stdout.String(), nil
}

// Set runs "git config [args...]", e.g. Set(ctx, "--add", key, value).
func (g GitConfig) Set(ctx context.Context, args ...string) error {
	_, err := g.run(ctx, args...)
	return err
}

// Unset removes every value of key; a key that is not set is no failure
// (git config exits 5 for it).
func (g GitConfig) Unset(ctx context.Context, key string) error {
	_, err := g.run(ctx, "--unset-all", key)
	var ge *GitError
	if errors.As(err, &ge) && ge.Code == 5 {
		return nil
	}
	return err
}

// GetAll returns every value of key; none when it is not set (git config
// exits 1 for it).
func (g GitConfig) GetAll(ctx context.Context, key string) ([]string, error) {
	out, err := g.run(ctx, "--null", "--get-all", key)
	var ge *GitError
	if errors.As(err, &ge) && ge.Code == 1 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vals := strings.Split(out, "\x00")
	return vals[:len(vals)-1], nil // each value ends in NUL
}

// Helpers returns the credential helpers git runs for the URL base
// (https://HOST), as "credential.<base>.helper" lists them in the scopes
// the GitConfig reads: the values after the last empty one, which resets
// the list (gitcredentials(7): "If credential.helper is configured to the
// empty string, this resets the helper list to empty").
func (g GitConfig) Helpers(ctx context.Context, base string) ([]string, error) {
	vals, err := g.GetAll(ctx, "credential."+base+".helper")
	if err != nil {
		return nil, err
	}
	for i := len(vals) - 1; i >= 0; i-- {
		if vals[i] == "" {
			return vals[i+1:], nil
		}
	}
	return vals, nil
}

// Setting is a key and its values (none: the key is not set).
type Setting struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Replace gives each key exactly its values and returns what the keys held
// before, for Restore. On failure it restores what it changed.
func (g GitConfig) Replace(ctx context.Context, sets []Setting) (saved []Setting, err error) {
	defer func() {
		if err != nil {
			g.Restore(context.WithoutCancel(ctx), saved)
			saved = nil
		}
	}()
	for _, set := range sets {
		old, err := g.GetAll(ctx, set.Key)
		if err != nil {
			return saved, err
		}
		saved = append(saved, Setting{Key: set.Key, Values: old})
		if err := g.apply(ctx, set); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// Restore gives each key the values saved by Replace. It goes on past
// failures and reports them all.
func (g GitConfig) Restore(ctx context.Context, saved []Setting) error {
	var errs []error
	for _, s := range saved {
		if err := g.apply(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (g GitConfig) apply(ctx context.Context, s Setting) error {
	if err := g.Unset(ctx, s.Key); err != nil {
		return err
	}
	for _, v := range s.Values {
		if err := g.Set(ctx, "--add", s.Key, v); err != nil {
			return err
		}
	}
	return nil
}

// locationKeys are the variables that say where git's configuration lives.
var locationKeys = []string{"HOME", "USERPROFILE", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"}

// NewGitConfig edits scope of git's configuration. git runs with environ
// (the process's environment), except for the variables that say where
// its configuration lives, which come from getenv: tests point git at
// their own files that way.
func NewGitConfig(environ []string, getenv func(string) string, scope ...string) GitConfig {
	env := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(locationKeys, k)
	})
	for _, k := range locationKeys {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return GitConfig{Scope: scope, Env: env}
}

// helperKeys are the keys SetupHelper sets for base.
func helperKeys(base string) (helper, useHTTPPath string) {
	return "credential." + base + ".helper", "credential." + base + ".useHttpPath"
}

// SetupHelper makes helper (a credential.helper value, HelperCommand) the
// one credential helper of g for the URL base: an empty value first resets
// the helpers configured for base in other scopes (gitcredentials(7)), as
// "gh auth setup-git" does, and credential.useHttpPath makes git say which
// repository it wants.
func (g GitConfig) SetupHelper(ctx context.Context, base, helper string) error {
	helperKey, pathKey := helperKeys(base)
	for _, st := range [][]string{
		{"--replace-all", helperKey, ""},
		{"--add", helperKey, helper},
		{pathKey, "true"},
	} {
		if err := g.Set(ctx, st...); err != nil {
			return err
		}
	}
	return nil
}

// RemoveHelper removes what SetupHelper set for base; removed is false when
// g held none of it.
func (g GitConfig) RemoveHelper(ctx context.Context, base string) (removed bool, err error) {
	helperKey, pathKey := helperKeys(base)
	for _, k := range []string{helperKey, pathKey} {
		vals, err := g.GetAll(ctx, k)
		if err != nil {
			return false, err
		}
		removed = removed || len(vals) > 0
	}
	if !removed {
		return false, nil
	}
	for _, k := range []string{helperKey, pathKey} {
		if err := g.Unset(ctx, k); err != nil {
			return false, err
		}
	}
	return true, nil
}
