package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/gitcred"
)

// credGitEnv is an isolated environment for git: its own HOME and global
// configuration, no system configuration, no prompts.
func credGitEnv(dir string, extra ...string) []string {
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.invalid",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.invalid",
		"LANG=C",
	}, extra...)
}

// credGetenv reads an environment list such as credGitEnv's.
func credGetenv(env []string) func(string) string {
	return func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
}

func credRunGit(t *testing.T, env []string, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func credMustGit(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	out, err := credRunGit(t, env, dir, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func credNeedGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

func TestSetupGitWritesAndUnsets(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	w := newCredWorld(t)
	env := credGitEnv(w.dir)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		w.env[k] = v
	}
	const key = "credential.https://github.com.helper"
	credMustGit(t, env, w.dir, "config", "--global", "--add", key, "osxkeychain")
	credMustGit(t, env, w.dir, "config", "--global", "user.name", "Someone")

	_, stderr, err := w.run(t, "", "setup-git", "--client-id", emulator.WorldClientID, "--private-key-file", w.keyFile, "--permission", "contents=write", "--owner", "octo-org")
	if err != nil {
		t.Fatalf("setup-git: %v (%s)", err, stderr)
	}
	got := strings.Split(strings.TrimSuffix(credMustGit(t, env, w.dir, "config", "--global", "--get-all", key), "\n"), "\n")
	exe, _ := os.Executable()
	want := []string{"", "!" + gitcred.ShellQuote(exe) + " credential --client-id " + emulator.WorldClientID + " --private-key-file " + gitcred.ShellQuote(w.keyFile) + " --owner octo-org --permission contents=write"}
	if !slices.Equal(got, want) {
		t.Errorf("helpers = %q\nwant      %q", got, want)
	}
	if v := credMustGit(t, env, w.dir, "config", "--global", "credential.https://github.com.useHttpPath"); v != "true\n" {
		t.Errorf("useHttpPath = %q", v)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want no notes when every setting was given", stderr)
	}
	// Again: still one reset line and one helper.
	if _, _, err := w.run(t, "", "setup-git", "--client-id", emulator.WorldClientID, "--private-key-file", w.keyFile); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(credMustGit(t, env, w.dir, "config", "--global", "--get-all", key), "\n"); n != 2 {
		t.Errorf("after a second setup-git, %d helper lines, want 2", n)
	}

	if _, _, err := w.run(t, "", "setup-git", "--unset"); err != nil {
		t.Fatal(err)
	}
	if out, err := credRunGit(t, env, w.dir, "", "config", "--global", "--get-regexp", `^credential\.`); err == nil {
		t.Errorf("after --unset, credential settings remain: %q", out)
	}
	if v := credMustGit(t, env, w.dir, "config", "--global", "user.name"); v != "Someone\n" {
		t.Errorf("--unset touched user.name: %q", v)
	}
	if _, _, err := w.run(t, "", "setup-git", "--unset"); err != nil {
		t.Errorf("a second --unset failed: %v", err)
	}
}

func TestSetupGitFileHostAndRefusals(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	w := newCredWorld(t)
	file := filepath.Join(w.dir, "custom.gitconfig")
	_, stderr, err := w.run(t, "", "setup-git", "--file", file, "--host", "ghe.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "APP_TOKEN_CLIENT_ID") || !strings.Contains(stderr, "APP_TOKEN_PRIVATE_KEY") {
		t.Errorf("stderr = %q, want notes about the settings left to the environment", stderr)
	}
	env := credGitEnv(w.dir)
	out := credMustGit(t, env, w.dir, "config", "--file", file, "--get-all", "credential.https://ghe.example.com.helper")
	if !strings.HasSuffix(out, " credential --host ghe.example.com\n") {
		t.Errorf("helper = %q", out)
	}
	for _, args := range [][]string{
		{"--host", "http://ghe.example.com"},
		{"--host", "https://ghe.example.com/path"},
		{"--private-key-file", filepath.Join(w.dir, "missing.pem")},
		{"--permission", "contents=admin"},
		{"--repositories", "a/b,c/d"},
		{"--owner", "not an owner"},
		{"--api-url", "nope"},
		{"stray"},
	} {
		if _, _, err := w.run(t, "", append([]string{"setup-git", "--file", file}, args...)...); exitCode(err) != exitUsage {
			t.Errorf("setup-git %q = %v, want a usage error", args, err)
		}
	}
}
