package gitcred

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A git failure reads as one line: the first three words of the command,
// git's exit status, and git's stderr with its line breaks joined.
func TestGitErrorIsOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  GitError
		want string
	}{
		{GitError{Args: []string{"config", "--file", "/x/config", "--add", "k", "v"}, Code: 1, Stderr: "error: one\nhint: two"}, "git config --file /x/config: exit status 1: error: one; hint: two"},
		{GitError{Args: []string{"config", "--global"}, Code: 5}, "git config --global: exit status 5"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	config := filepath.Join(t.TempDir(), "config")
	err := GitConfig{Scope: []string{"--file", config}}.Set(t.Context(), "not a valid key", "x")
	var ge *GitError
	if !errors.As(err, &ge) || ge.Code == 0 || ge.Stderr == "" || !strings.HasPrefix(err.Error(), "git config --file "+config+": exit status ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("git config with a bad key: %v", err)
	}
}

// Restore goes on past a setting git refuses, and reports the refusal.
func TestRestoreReportsFailuresAndGoesOn(t *testing.T) {
	t.Parallel()
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	err := g.Restore(t.Context(), []Setting{
		{Key: "not a valid key", Values: []string{"x"}},
		{Key: "user.name", Values: []string{"Someone"}},
	})
	var ge *GitError
	if !errors.As(err, &ge) {
		t.Errorf("Restore = %v, want the GitError", err)
	}
	if got, _ := g.GetAll(t.Context(), "user.name"); len(got) != 1 || got[0] != "Someone" {
		t.Errorf("user.name = %q after a failed setting, want it restored", got)
	}
}
