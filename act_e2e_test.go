package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/demo"
	"github.com/org/app-token/internal/emulator"
)

// actVersion is the act that .ci/install-tools.sh pins, read from there.
func actVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(".ci", "install-tools.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/nektos/act@v(\d+\.\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal(".ci/install-tools.sh pins no github.com/nektos/act version")
	}
	return string(m[1])
}

// findAct returns the path of act at actVersion: on PATH, else in Go's bin
// folder. A missing act is installed with .ci/install-tools.sh (go install
// from the Go module proxy, about a minute the first time), so that the
// README's one test command needs nothing installed by hand; a failure to
// install it fails the test.
func findAct(t *testing.T) string {
	t.Helper()
	version := actVersion(t)
	look := func() (string, string) {
		var candidates []string
		if p, err := exec.LookPath("act"); err == nil {
			candidates = append(candidates, p)
		}
		if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if lines[0] != "" {
				candidates = append(candidates, filepath.Join(lines[0], "act"+exeSuffix()))
			}
			if len(lines) > 1 && lines[1] != "" {
				candidates = append(candidates, filepath.Join(strings.Split(lines[1], string(os.PathListSeparator))[0], "bin", "act"+exeSuffix()))
			}
		}
		var seen []string
		for _, c := range candidates {
			out, err := exec.Command(c, "--version").Output()
			if err != nil {
				continue
			}
			if strings.TrimSpace(string(out)) == "act version "+version {
				return c, ""
			}
			seen = append(seen, fmt.Sprintf("%s is %q", c, strings.TrimSpace(string(out))))
		}
		return "", strings.Join(seen, "; ")
	}
	act, other := look()
	if act != "" {
		return act
	}
	t.Logf("act %s is not installed (%s): installing it with .ci/install-tools.sh", version, other)
	cmd := exec.Command("bash", filepath.Join(".ci", "install-tools.sh"), "act")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("act %s is missing; bash .ci/install-tools.sh act: %v\n%s", version, err, out)
	}
	if act, other = look(); act == "" {
		t.Fatalf("act %s is still missing after bash .ci/install-tools.sh act (%s)", version, other)
	}
	return act
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// TestActDryRun runs testdata/act/token.yml with the real act, on the host
// (no Docker), the action coming from this working tree and its launcher
// building app-token from source, against the emulator: the token reaches a
// later step, act's log shows it only as ***, and the post step revokes it.
func TestActDryRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("act runs jobs on the host (-self-hosted) with Unix shells; this dry run covers Linux and macOS")
	}
	act := findAct(t)
	t.Parallel()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	w := newActWorld(t, emulator.WithGit(t.TempDir()))
	work, out, cache := t.TempDir(), t.TempDir(), t.TempDir()
	gitConfig := filepath.Join(t.TempDir(), "gitconfig")
	// A workspace with one commit, so that act can read a ref and a SHA.
	git := exec.Command("git", "-c", "user.name=act", "-c", "user.email=act@example.invalid", "-c", "commit.gpgSign=false",
		"commit", "-q", "--allow-empty", "-m", "act dry run")
	git.Dir = work
	if out, err := exec.Command("git", "init", "-q", work).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}

	// The files `app-token emulator` writes for act: the key in base64
	// (which the action accepts) as a secret, the client ID and the API URL
	// as variables.
	files, err := demo.WriteFiles(t.TempDir(), w.url, testKey())
	if err != nil {
		t.Fatal(err)
	}
	keyB64 := base64.StdEncoding.EncodeToString([]byte(testKeyPEM()))

	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, "push",
		"-W", filepath.Join(root, "testdata", "act", "token.yml"),
		"-C", work,
		"-P", "ubuntu-latest=-self-hosted",
		"--local-repository", "org/app-token-action@v1="+root,
		"--action-cache-path", cache,
		"--secret-file", files.Secrets,
		"--var-file", files.Vars,
		"--var", "OUT_DIR="+out,
		"--env-file", os.DevNull, "--input-file", os.DevNull,
	)
	cmd.Dir = work
	// act copies host variables into the job: setup-git then writes this
	// file, not the global git configuration of whoever runs the tests.
	cmd.Env = append(hostEnvForAct(), "GIT_CONFIG_GLOBAL="+gitConfig, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("act ran for %s", time.Since(start).Round(time.Millisecond))
	if runErr != nil {
		t.Fatalf("act: %v\n%s", runErr, log.String())
	}

	b, err := os.ReadFile(filepath.Join(out, "token"))
	if err != nil {
		t.Fatalf("the later step left no token: %v\n%s", err, log.String())
	}
	token := string(b)
	info, ok := w.emu.TokenInfo(token)
	if !ok {
		t.Fatalf("the later step got %d bytes that the emulator never issued as a token\n%s", len(token), log.String())
	}
	if info.InstallationID != emulator.WorldOrgInstID || strings.Join(info.Repositories, ",") != "alpha" || info.Permissions["contents"] != "read" {
		t.Errorf("token for installation %d, repositories %v, permissions %v; want %d, [alpha], contents:read",
			info.InstallationID, info.Repositories, info.Permissions, emulator.WorldOrgInstID)
	}
	if !info.Revoked {
		t.Errorf("the post step did not revoke the token\n%s", log.String())
	}

	text := log.String()
	for what, secret := range map[string]string{"the token": token, "the private key (base64)": keyB64, "the private key (PEM)": pemBody(testKeyPEM())} {
		if strings.Contains(text, secret) {
			t.Errorf("%s appears in clear in act's log", what)
		}
	}
	if !strings.Contains(text, "token in a later step: ***") {
		t.Errorf("act's log lacks the masked token line \"token in a later step: ***\":\n%s", text)
	}
	if !strings.Contains(text, "app-slug="+emulator.WorldAppSlug+" installation-id=101") {
		t.Errorf("the later step did not see the app-slug and installation-id outputs:\n%s", text)
	}
	if !strings.Contains(text, "cloned: Initial commit by "+emulator.WorldAppSlug+"[bot]") {
		t.Errorf("the later step did not clone octo-org/alpha through setup-git:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(out, "alpha", "README.md")); err != nil {
		t.Errorf("the clone has no README.md: %v", err)
	}
	if _, err := os.Stat(gitConfig); err != nil {
		t.Errorf("setup-git did not write the job's git configuration: %v", err)
	} else if left, err := exec.Command("git", "config", "--file", gitConfig, "--get-regexp", `^credential\.`).Output(); err == nil {
		t.Errorf("the post step left git's credential settings behind:\n%s", left)
	}
	if !strings.Contains(text, "Success - Post org/app-token-action@v1") {
		t.Errorf("act's log does not show the post step succeeding:\n%s", text)
	}
}

// hostEnvForAct is this process's environment without what a real runner
// would add (when the test itself runs in GitHub Actions): act gives its
// jobs its own GITHUB_*, RUNNER_* and INPUT_* values, but copies in any host
// variable it does not set itself.
func hostEnvForAct() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GITHUB_"), strings.HasPrefix(k, "RUNNER_"), strings.HasPrefix(k, "ACTIONS_"),
			strings.HasPrefix(k, "INPUT_"), strings.HasPrefix(k, "STATE_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// pemBody is the longest base64 line of a PEM block: a part of the key that
// no log may contain.
func pemBody(p string) string {
	longest := ""
	for line := range strings.SplitSeq(p, "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) > len(longest) {
			longest = line
		}
	}
	if longest == "" {
		panic(errors.New("pemBody: no PEM body"))
	}
	return longest
}
