package gitcred

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
)

func job(t *testing.T) Job {
	t.Helper()
	host, err := ghhost.New("https://GHE.example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	return Job{
		Exe: "/opt/app token/app-token", Host: host, Token: appauth.Secret("ghs_setupjob"), Owner: "octo-org",
		ExpiresAt: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC), UserName: "octo-app[bot]", UserEmail: "1+octo-app[bot]@users.noreply.github.com",
		TempDir: t.TempDir(), Git: GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}},
	}
}

// SetupJob makes git ask app-token for the host's credentials (and only
// that host's, other helpers reset), with the token in a 0600 file of its
// own folder, never in the configuration; UndoJob puts back what was there
// and deletes the folder.
func TestSetupJobAndUndo(t *testing.T) {
	t.Parallel()
	j := job(t)
	ctx := t.Context()
	if err := j.Git.Set(ctx, "user.name", "Someone"); err != nil {
		t.Fatal(err)
	}
	state, err := SetupJob(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	var st jobState
	if err := json.Unmarshal([]byte(state), &st); err != nil || !strings.HasPrefix(filepath.Base(st.Dir), jobDirPrefix) || filepath.Dir(st.Dir) != j.TempDir {
		t.Fatalf("state %s: %v", state, err)
	}
	if strings.Contains(state, "ghs_setupjob") {
		t.Error("the state holds the token")
	}
	file := filepath.Join(st.Dir, "token.json")
	helper, _ := j.Git.GetAll(ctx, "credential.https://ghe.example.com.helper")
	want := []string{"", "!'/opt/app token/app-token' credential --token-file " + ShellQuote(file)}
	if !slices.Equal(helper, want) {
		t.Errorf("helpers = %q, want %q", helper, want)
	}
	for key, want := range map[string]string{"credential.https://ghe.example.com.useHttpPath": "true", "user.name": "octo-app[bot]", "user.email": j.UserEmail} {
		if got, _ := j.Git.GetAll(ctx, key); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	config, _ := os.ReadFile(j.Git.Scope[1])
	if strings.Contains(string(config), "ghs_setupjob") {
		t.Error("the git configuration holds the token")
	}
	tf, err := ReadTokenFile(file)
	if err != nil || tf.Token != j.Token || tf.Host != "ghe.example.com" || tf.Owner != "octo-org" || !tf.ExpiresAt.Equal(j.ExpiresAt) {
		t.Errorf("token file = %+v, %v", tf, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, %v", fi.Mode(), err)
	}

	if err := UndoJob(ctx, j.Git, state); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]string{"credential.https://ghe.example.com.helper": nil, "credential.https://ghe.example.com.useHttpPath": nil, "user.name": {"Someone"}, "user.email": nil} {
		if got, _ := j.Git.GetAll(ctx, key); !slices.Equal(got, want) {
			t.Errorf("after UndoJob %s = %q, want %q", key, got, want)
		}
	}
	if _, err := os.Stat(st.Dir); !os.IsNotExist(err) {
		t.Errorf("the token's folder is still there: %v", err)
	}
}

// Without a user name or email, SetupJob leaves git's identity alone.
func TestSetupJobWithoutIdentity(t *testing.T) {
	t.Parallel()
	j := job(t)
	j.UserName, j.UserEmail = "", ""
	state, err := SetupJob(t.Context(), j)
	if err != nil {
		t.Fatal(err)
	}
	defer UndoJob(context.WithoutCancel(t.Context()), j.Git, state)
	for _, key := range []string{"user.name", "user.email"} {
		if got, _ := j.Git.GetAll(t.Context(), key); got != nil {
			t.Errorf("%s = %q, want it unset", key, got)
		}
	}
}

// A SetupJob that fails leaves nothing behind: no folder, no settings.
func TestSetupJobFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	j := job(t)
	j.Git = GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "no", "such", "dir", "config")}}
	if state, err := SetupJob(t.Context(), j); err == nil || state != "" {
		t.Fatalf("SetupJob = %q, %v; want a failure and no state", state, err)
	}
	if left, _ := os.ReadDir(j.TempDir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	j.TempDir = filepath.Join(t.TempDir(), "missing")
	if _, err := SetupJob(t.Context(), j); err == nil {
		t.Error("SetupJob with a missing temporary folder succeeded")
	}
}

// UndoJob undoes nothing for an empty state, refuses a state that is not
// app-token's, and deletes no folder it did not make.
func TestUndoJobIsCareful(t *testing.T) {
	t.Parallel()
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	if err := UndoJob(t.Context(), g, " \n"); err != nil {
		t.Errorf("empty state: %v", err)
	}
	if err := UndoJob(t.Context(), g, "{not json"); err == nil || !strings.Contains(err.Error(), "not app-token's") {
		t.Errorf("bad state: %v", err)
	}
	other := filepath.Join(t.TempDir(), "precious")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jobState{Dir: other})
	if err := UndoJob(t.Context(), g, string(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("UndoJob deleted a folder it did not make: %v", err)
	}
	b, _ = json.Marshal(jobState{Keys: []Setting{{Key: "not a valid key", Values: []string{"x"}}}})
	if err := UndoJob(t.Context(), g, string(b)); err == nil {
		t.Error("UndoJob hid git's refusal")
	}
	// A token folder that cannot be removed is reported, not hidden: here
	// its parent is a file (ENOTDIR, which even root gets).
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(jobState{Dir: filepath.Join(file, jobDirPrefix+"1")})
	if err := UndoJob(t.Context(), g, string(b)); err == nil || !strings.Contains(err.Error(), "a-file") {
		t.Errorf("UndoJob of an unremovable token folder = %v, want the failure", err)
	}
}

// Helper commands are shell snippets with every argument quoted for sh
// when it is not plainly safe.
func TestHelperCommandQuoting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain-1.0_a/b:c=d,e@f+g%h", "plain-1.0_a/b:c=d,e@f+g%h"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
	} {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := HelperCommand("/bin/app-token", "credential", "--token-file", "/tmp/a b/token.json"); got != "!/bin/app-token credential --token-file '/tmp/a b/token.json'" {
		t.Errorf("HelperCommand = %q", got)
	}
}

// A helper line written by hand may escape with a backslash, as sh does;
// a backslash with nothing after it is not a line HelperCommand writes.
func TestSplitHelperCommandBackslashes(t *testing.T) {
	t.Parallel()
	exe, args, ok := SplitHelperCommand(`!/opt/my\ tools/app-token credential --token-env A\$B`)
	if !ok || exe != "/opt/my tools/app-token" || len(args) != 3 || args[2] != "A$B" {
		t.Errorf("split = %q %q %v", exe, args, ok)
	}
	if exe, args, ok := SplitHelperCommand(`!/bin/app-token credential \`); ok {
		t.Errorf("a trailing backslash split as %q %q, want not ok", exe, args)
	}
}
