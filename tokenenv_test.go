package main

// --token-env (issue 10): the credential helper's third source, a plain
// token from the environment, such as a job's own GITHUB_TOKEN. Real git,
// the built binary as its helper, against the emulator's git server.

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/gitcred"
)

func TestTokenEnvWithGit(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := credBuild(t, t.TempDir())
	w := newActWorld(t, emulator.WithGit(t.TempDir()))
	// The job's own token: an installation token of the emulator that may
	// push to octo-org/alpha.
	out, stderr, err := runEnv(t, cliEnv(t, w), "token", "--owner", "octo-org", "--repositories", "alpha", "--permission", "contents=write")
	if err != nil {
		t.Fatalf("token: %v (%s)", err, stderr)
	}
	token := strings.TrimSpace(out)

	dir := t.TempDir()
	env := credGitEnv(dir, "APP_TOKEN_STORE=file", "APP_TOKEN_CONFIG_DIR="+filepath.Join(dir, "config"), "APP_TOKEN_CACHE_DIR="+filepath.Join(dir, "cache"))
	withToken := append(env[:len(env):len(env)], "GITHUB_TOKEN="+token)
	run := func(env []string, args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}

	// setup-git where the variable is not set: configured, with a note.
	stdout, stderr, err := run(env, "setup-git", "--host", w.url, "--token-env", "GITHUB_TOKEN")
	if err != nil {
		t.Fatalf("setup-git: %v (%s)", err, stderr)
	}
	if !strings.Contains(stdout, "Configured git to use app-token for "+w.url) || !strings.Contains(stderr, "$GITHUB_TOKEN is not set here") {
		t.Errorf("setup-git said %q, %q", stdout, stderr)
	}
	helpers := credMustGit(t, env, dir, "config", "--global", "--get-all", "credential."+w.url+".helper")
	want := "\n!" + gitcred.ShellQuote(bin) + " credential --host " + w.url + " --token-env GITHUB_TOKEN\n"
	if helpers != want {
		t.Errorf("helpers = %q, want %q", helpers, want)
	}

	// Clone and push with the job's token through the helper.
	work := t.TempDir()
	credMustGit(t, withToken, work, "clone", "--quiet", w.url+"/octo-org/alpha.git")
	alpha := filepath.Join(work, "alpha")
	if _, err := os.Stat(filepath.Join(alpha, "README.md")); err != nil {
		t.Fatalf("the clone has no README.md: %v", err)
	}
	os.WriteFile(filepath.Join(alpha, "from-the-job"), []byte("pushed with GITHUB_TOKEN\n"), 0o644)
	credMustGit(t, withToken, alpha, "add", "from-the-job")
	credMustGit(t, withToken, alpha, "commit", "--quiet", "-m", "from the job")
	credMustGit(t, withToken, alpha, "push", "--quiet", "origin", "main")
	local := strings.TrimSpace(credMustGit(t, withToken, alpha, "rev-parse", "HEAD"))
	remote := credMustGit(t, withToken, work, "ls-remote", w.url+"/octo-org/alpha.git", "refs/heads/main")
	if !strings.HasPrefix(remote, local) {
		t.Errorf("after the push the server's main is %q, want %s", remote, local)
	}
	// Nothing written to disk: no file under HOME, the caches or the clone
	// holds the token.
	for _, root := range []string{dir, work} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(path); strings.Contains(string(b), token) {
					t.Errorf("%s holds the token", path)
				}
			}
			return nil
		})
	}
	if n := len(w.emu.Requests()); n < 4 {
		t.Errorf("%d requests reached the emulator, want the mint's and git's", n)
	}

	// The variable unset where git runs: git fails, and says why.
	_, err = credRunGit(t, env, work, "", "clone", "--quiet", w.url+"/octo-org/alpha.git", "again")
	if err == nil || !strings.Contains(err.Error(), "$GITHUB_TOKEN is empty or not set") {
		t.Errorf("clone without GITHUB_TOKEN: %v, want git to show the helper's reason naming $GITHUB_TOKEN", err)
	}

	// status says which source the helper uses (nobody signed in: exit 4).
	stdout, _, err = run(withToken, "status", "--github-url", w.url)
	if code := exitCodeOf(err); code != exitAuth {
		t.Errorf("status exit %d, want %d (not signed in)", code, exitAuth)
	}
	if want := "Git helper:  app-token credential, with the token in $GITHUB_TOKEN\n"; !strings.Contains(stdout, want) {
		t.Errorf("status = %q, want it to contain %q", stdout, want)
	}
	if strings.Contains(stdout, token) {
		t.Error("status printed the token")
	}
}

// exitCodeOf is the exit status of a finished command.
func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestTokenEnvInProcess(t *testing.T) {
	t.Parallel()
	w := newCredWorld(t)
	w.env["GITHUB_TOKEN"] = "ghs_theJobsOwnToken"
	args := []string{"credential", "--host", credGitHost, "--token-env", "GITHUB_TOKEN", "get"}
	out, stderr, err := w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), args...)
	if err != nil || out != "username=x-access-token\npassword=ghs_theJobsOwnToken\n\n" {
		t.Errorf("get = %q, %v (%s)", out, err, stderr)
	}
	if n := len(w.em.Requests()); n != 0 {
		t.Errorf("%d requests, want none: the token is given", n)
	}
	w.env["GITHUB_TOKEN"] = "  "
	out, stderr, err = w.run(t, credAsk(credGitHost, "octo-org/alpha.git"), args...)
	if out != "" || exitCode(err) != exitUsage || !strings.Contains(errString(err), "$GITHUB_TOKEN is empty or not set") {
		t.Errorf("get with GITHUB_TOKEN blank = %q, exit %d, %v (%s)", out, exitCode(err), err, stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token-env", "1TOKEN"}, `--token-env: "1TOKEN" is not an environment variable name`},
		{[]string{"--token-env", "MY-TOKEN"}, `--token-env: "MY-TOKEN" is not an environment variable name`},
		{[]string{"--token-env", "GITHUB_TOKEN", "--user"}, "--token-env and --user exclude each other"},
		{[]string{"--token-env", "GITHUB_TOKEN", "--client-id", emulator.WorldClientID}, "--token-env and --client-id exclude each other"},
		{[]string{"--token-env", "GITHUB_TOKEN", "--permission", "contents=read"}, "--token-env and --permission exclude each other"},
		{[]string{"--token-env", "GITHUB_TOKEN", "--token-file", "f.json"}, "--token-env and --token-file exclude each other"},
	} {
		for _, cmd := range []string{"credential", "setup-git"} {
			if cmd == "setup-git" && tc.args[len(tc.args)-2] == "--token-file" {
				continue // setup-git has no --token-file
			}
			a := append([]string{cmd}, tc.args...)
			if cmd == "credential" {
				a = append(a, "get")
			}
			out, stderr, err := w.run(t, credAsk(credGitHost, ""), a...)
			if exitCode(err) != exitUsage || !strings.Contains(stderr+errString(err), tc.want) || out != "" {
				t.Errorf("%q: exit %d, %q, %v; want %d and %q", a, exitCode(err), out, err, exitUsage, tc.want)
			}
		}
	}
}
