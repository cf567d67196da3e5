package gitcred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
)

// Job is what SetupJob configures git with for the rest of a job.
type Job struct {
	// Exe is the program git runs as its credential helper (this one).
	Exe string
	// Host is the GitHub the token came from: git gets it for this host
	// only.
	Host ghhost.Host
	// Token, Owner (the installation's account; "" serves every owner) and
	// ExpiresAt describe the token.
	Token     appauth.Secret
	Owner     string
	ExpiresAt time.Time
	// UserName and UserEmail set user.name and user.email when not empty.
	UserName, UserEmail string
	// TempDir is where the token's folder is made (the runner's
	// RUNNER_TEMP).
	TempDir string
	// Git is the configuration to change (the global one).
	Git GitConfig
}

// jobState is what SetupJob changed, for UndoJob: the token's folder, and
// the earlier values of each key it set.
type jobState struct {
	Dir  string    `json:"dir"`
	Keys []Setting `json:"keys"`
}

// jobDirPrefix starts the name of the folder SetupJob makes; UndoJob
// deletes nothing else.
const jobDirPrefix = "app-token-git-"

// SetupJob makes j.Git answer for j.Host with j.Token through a credential
// helper that reads it from a 0600 file under j.TempDir, so that no git
// configuration holds the token. It returns the state UndoJob needs (which
// holds no secret). On failure it undoes what it did.
func SetupJob(ctx context.Context, j Job) (state string, err error) {
	dir, err := os.MkdirTemp(j.TempDir, jobDirPrefix+"*")
	if err != nil {
		return "", err
	}
	st := jobState{Dir: dir}
	defer func() {
		if err != nil {
			b, _ := json.Marshal(st)
			UndoJob(context.WithoutCancel(ctx), j.Git, string(b))
			state = ""
		}
	}()
	file := filepath.Join(dir, "token.json")
	if err := WriteTokenFile(file, TokenFile{Host: j.Host.GitHost(), Owner: j.Owner, Token: j.Token, ExpiresAt: j.ExpiresAt}); err != nil {
		return "", fmt.Errorf("write the token file: %w", err)
	}
	base := j.Host.GitURL()
	// The empty value first resets the helpers set for the host elsewhere
	// (gitcredentials(7): "If credential.helper is configured to the empty
	// string, this resets the helper list to empty").
	sets := []Setting{
		{Key: "credential." + base + ".helper", Values: []string{"", HelperCommand(j.Exe, "credential", "--token-file", file)}},
		{Key: "credential." + base + ".useHttpPath", Values: []string{"true"}},
	}
	if j.UserName != "" {
		sets = append(sets, Setting{Key: "user.name", Values: []string{j.UserName}})
	}
	if j.UserEmail != "" {
		sets = append(sets, Setting{Key: "user.email", Values: []string{j.UserEmail}})
	}
	if st.Keys, err = j.Git.Replace(ctx, sets); err != nil {
		return "", err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// UndoJob restores what SetupJob changed in git and deletes the token
// file. An empty state undoes nothing. It goes on past failures and
// reports them all.
func UndoJob(ctx context.Context, git GitConfig, state string) error {
	if strings.TrimSpace(state) == "" {
		return nil
	}
	var st jobState
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		return fmt.Errorf("the saved state is not app-token's: %w", err)
	}
	var errs []error
	if err := git.Restore(ctx, st.Keys); err != nil {
		errs = append(errs, err)
	}
	if st.Dir != "" && strings.HasPrefix(filepath.Base(st.Dir), jobDirPrefix) {
		if err := os.RemoveAll(st.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HelperCommand returns a credential.helper value that runs exe with args:
// a shell snippet ("!..."), as git runs helpers through the shell, with
// every argument quoted.
func HelperCommand(exe string, args ...string) string {
	quoted := []string{ShellQuote(exe)}
	for _, a := range args {
		quoted = append(quoted, ShellQuote(a))
	}
	return "!" + strings.Join(quoted, " ")
}

// ShellQuote quotes s for sh when it holds anything but plainly safe
// characters.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
