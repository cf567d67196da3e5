package emulator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRun runs real git with token as its only credential (through a
// credential helper reading the environment, so no token is on a command
// line) and a HOME of its own.
func gitRun(t *testing.T, dir, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", append([]string{"-c", "credential.helper=", "-c",
		`credential.helper=!f() { echo username=x-access-token; echo "password=$EMU_TOKEN"; }; f`,
		"-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "EMU_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mint(t *testing.T, url, body string) string {
	t.Helper()
	status, tok := call(t, "POST", url+"/app/installations/101/access_tokens", map[string]string{"Authorization": "Bearer " + signedJWT(t)}, body)
	if status != 201 {
		t.Fatalf("mint %s: %d %v", body, status, tok)
	}
	return tok["token"].(string)
}

func TestGitCloneAndPushWithTokens(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not installed: .ci/install-tools.sh installs it")
	}
	emu, url := serve(t, WithGit(t.TempDir()))
	work := t.TempDir()
	writer := mint(t, url, `{"repositories":["alpha"],"permissions":{"contents":"write"}}`)
	reader := mint(t, url, `{"repositories":["alpha","beta"],"permissions":{"contents":"read"}}`)
	betaOnly := mint(t, url, `{"repositories":["beta"]}`)

	// Clone (with and without .git, as actions/checkout writes it) and push.
	if out, err := gitRun(t, work, writer, "clone", url+"/octo-org/alpha.git", "a"); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(work, "a", "README.md")); err != nil || !strings.Contains(string(b), "octo-org/alpha") {
		t.Fatalf("README.md: %q %v", b, err)
	}
	a := filepath.Join(work, "a")
	os.WriteFile(filepath.Join(a, "new.txt"), []byte("pushed\n"), 0o644)
	for _, args := range [][]string{{"add", "new.txt"}, {"commit", "-qm", "add new.txt"}, {"push", "origin", "main"}} {
		if out, err := gitRun(t, a, writer, args...); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	if out, err := gitRun(t, work, reader, "clone", url+"/octo-org/alpha", "b"); err != nil {
		t.Fatalf("clone with the read token: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(work, "b", "new.txt")); err != nil || string(b) != "pushed\n" {
		t.Errorf("the push is not in a new clone: %q %v", b, err)
	}

	// What GitHub refuses.
	b := filepath.Join(work, "b")
	os.WriteFile(filepath.Join(b, "x.txt"), []byte("x\n"), 0o644)
	gitRun(t, b, reader, "add", "x.txt")
	gitRun(t, b, reader, "commit", "-qm", "x")
	if out, err := gitRun(t, b, reader, "push", "origin", "main"); err == nil || !strings.Contains(out, "403") {
		t.Errorf("push with contents:read: %v\n%s", err, out)
	}
	if out, err := gitRun(t, work, betaOnly, "clone", url+"/octo-org/alpha.git", "c"); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("clone of a repository the token does not cover: %v\n%s", err, out)
	}
	if out, err := gitRun(t, work, "ghs_not-a-token", "clone", url+"/octo-org/alpha.git", "d"); err == nil || !strings.Contains(out, "Authentication failed") {
		t.Errorf("clone with an unknown token: %v\n%s", err, out)
	}
	call(t, "DELETE", url+"/installation/token", map[string]string{"Authorization": "token " + writer}, "")
	if out, err := gitRun(t, work, writer, "clone", url+"/octo-org/alpha.git", "e"); err == nil {
		t.Errorf("clone with a revoked token succeeded\n%s", out)
	}
	if out, err := gitRun(t, work, reader, "ls-remote", url+"/octocat/hello-world.git"); err == nil {
		t.Errorf("another installation's repository: %s", out)
	}
	for _, dir := range []string{"c", "d", "e"} {
		if _, err := os.Stat(filepath.Join(work, dir, "README.md")); err == nil {
			t.Errorf("refused clone %s has files", dir)
		}
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.Path, writer) || strings.Contains(r.Path, reader) {
			t.Error("a token in a request path")
		}
	}
}
