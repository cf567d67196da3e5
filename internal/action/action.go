// Package action is the GitHub Action's two steps, as action.yml runs them
// through "app-token action" and "app-token action-post": Main mints,
// masks and outputs an installation token (and configures git), Post undoes
// git and revokes the token. The runner is seen through actionenv; the
// environment only through the Step's Getenv.
package action

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
)

// State names the main step hands to the post step.
const (
	stateToken     = "token"
	stateExpiresAt = "expires-at"
	stateAPIURL    = "api-url"
	stateGit       = "git"
)

// Step is what a step needs of its world.
type Step struct {
	Runner *actionenv.Runner
	// Environ lists the step's environment (NAME=value), so that misspelt
	// permission-* inputs are caught; nil skips that check.
	Environ []string
	// Getenv reads GITHUB_SERVER_URL.
	Getenv func(string) string
	// TempDir is where setup-git keeps the token's file (RUNNER_TEMP).
	TempDir string
	// AppOptions are the appauth options for host (client, clock, waits),
	// with debug as the debug sink.
	AppOptions func(host ghhost.Host, debug func(string, ...any)) []appauth.Option
	// Executable finds this program, which git runs as its helper.
	Executable func() (string, error)
	// Git is the global git configuration setup-git changes.
	Git gitcred.GitConfig
	// Now is the clock.
	Now func() time.Time
}

// Main runs the main step: it reads and checks the inputs, mints the token,
// masks it before anything else is written, configures git when setup-git
// is true, saves what the post step needs and writes the outputs. A
// failure after minting leaves no token alive: until the state is saved
// Main revokes the token itself (and undoes git), after it the post step
// does.
func Main(ctx context.Context, s Step) error {
	r := s.Runner
	if err := r.CheckFiles(); err != nil {
		return err
	}
	in, err := r.ParseInputs(s.Environ)
	if err != nil {
		return err
	}
	if in.PrivateKey.Reencoded {
		// The runner masks the secret as the workflow passed it; the PEM
		// we decoded from it is another string, so mask that too.
		r.Mask(in.PrivateKey.PEM)
	}
	for _, w := range in.Warnings {
		r.Warningf("%s", w)
	}
	host, err := ghhost.New("", in.APIURL)
	if err != nil {
		return fmt.Errorf("github-api-url: %w", err)
	}
	app, err := appauth.New(in.ClientID, in.PrivateKey.Key, s.AppOptions(host, r.Debugf)...)
	if err != nil {
		return err
	}
	req := appauth.Request{Owner: in.Owner, Repositories: in.Repositories, Permissions: in.Permissions, InstallationID: in.InstallationID, Enterprise: in.Enterprise}
	r.Infof("%s", describe(req, in.CurrentRepository))
	tok, err := app.Mint(ctx, req)
	if err != nil {
		return err
	}
	value := tok.Value.Reveal()
	r.Mask(value)
	// A step that fails from here on leaves no token behind: revoke it
	// (and undo setup-git) on the way out.
	undo := func(what string, gitState string) {
		if err := s.undoGit(context.WithoutCancel(ctx), gitState); err != nil {
			r.Warningf("could not undo setup-git after %s failed: %s", what, err)
		}
		if err := app.Revoke(context.WithoutCancel(ctx), value); err != nil {
			r.Warningf("could not revoke the token after %s failed: %s", what, err)
		}
	}

	var gitName, gitEmail, gitState string
	if in.SetupGit {
		gitName, gitEmail, gitState, err = s.git(ctx, app, host, tok)
		if err != nil {
			undo("setup-git", "")
			return fmt.Errorf("setup-git: %w", err)
		}
	}

	// State first: if writing the outputs fails, the post step still
	// revokes the token. If the state cannot be saved there is no post
	// step to do it.
	if err := r.SaveState(stateToken, value, stateExpiresAt, tok.ExpiresAt.UTC().Format(time.RFC3339),
		stateAPIURL, host.APIURL(), stateGit, gitState); err != nil {
		undo("saving the state", gitState)
		return err
	}
	outputs := []string{
		"token", value,
		"installation-id", strconv.FormatInt(tok.InstallationID, 10),
		"app-slug", tok.AppSlug,
		"expires-at", tok.ExpiresAt.UTC().Format(time.RFC3339),
	}
	if in.SetupGit {
		outputs = append(outputs, "git-user-name", gitName, "git-user-email", gitEmail)
	}
	if err := r.SetOutputs(outputs...); err != nil {
		return err
	}
	r.Infof("Created an installation token for %s (installation %d); it expires at %s.",
		scopeOf(tok), tok.InstallationID, tok.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// describe says, as actions/create-github-app-token does, which
// resolution applies.
func describe(req appauth.Request, current bool) string {
	repos := strings.Join(req.Repositories, ", ")
	switch {
	case req.Enterprise != "":
		return fmt.Sprintf("enterprise set: creating a token for the installation on enterprise %q", req.Enterprise)
	case req.InstallationID != 0 && len(req.Repositories) > 0:
		return fmt.Sprintf("installation-id set: creating a token for installation %d, repositories %s", req.InstallationID, repos)
	case req.InstallationID != 0:
		return fmt.Sprintf("installation-id set: creating a token for all repositories of installation %d", req.InstallationID)
	case current:
		return fmt.Sprintf("owner and repositories not set: creating a token for the current repository (%q)", req.Repositories[0])
	case len(req.Repositories) > 0:
		return fmt.Sprintf("creating a token for repositories %s of %q", repos, req.Owner)
	default:
		return fmt.Sprintf("repositories not set: creating a token for all repositories of %q", req.Owner)
	}
}

func scopeOf(tok *appauth.Token) string {
	if len(tok.Repositories) > 0 {
		return strings.Join(tok.Repositories, ", ")
	}
	if tok.Owner != "" {
		return "all repositories of " + tok.Owner
	}
	return "all repositories of the installation"
}

// git configures git for the rest of the job as the app's bot, for
// the host the token came from: the API URL's, never GITHUB_SERVER_URL's,
// which may name another GitHub than the one that minted the token.
func (s Step) git(ctx context.Context, app *appauth.App, host ghhost.Host, tok *appauth.Token) (name, email, state string, err error) {
	r := s.Runner
	slug := tok.AppSlug
	if slug == "" {
		info, err := app.Info(ctx)
		if err != nil {
			return "", "", "", err
		}
		slug = info.Slug
	}
	login, id, err := app.BotUser(ctx, tok.Value.Reveal(), slug)
	if err != nil {
		return "", "", "", fmt.Errorf("look up the app's bot user: %w", err)
	}
	name = login
	email = fmt.Sprintf("%d+%s@users.noreply.github.com", id, login)
	if server, err := ghhost.New(s.Getenv("GITHUB_SERVER_URL"), ""); err == nil && s.Getenv("GITHUB_SERVER_URL") != "" && server.GitHost() != host.GitHost() {
		r.Infof("The workflow runs on %s, but the token is from %s (github-api-url): git gets it for %s only.", server.GitHost(), host.GitHost(), host.GitHost())
	}
	exe, err := s.Executable()
	if err != nil {
		return "", "", "", fmt.Errorf("find this program: %w", err)
	}
	state, err = gitcred.SetupJob(ctx, gitcred.Job{
		Exe: exe, Host: host, Token: tok.Value, Owner: tok.Owner, ExpiresAt: tok.ExpiresAt,
		UserName: name, UserEmail: email, TempDir: s.TempDir, Git: s.Git,
	})
	if err != nil {
		return "", "", "", err
	}
	r.Infof("Configured git for %s as %s <%s>.", host.GitURL(), name, email)
	return name, email, state, nil
}

// undoGit undoes what git did; an empty state undoes nothing.
func (s Step) undoGit(ctx context.Context, state string) error {
	if err := gitcred.UndoJob(ctx, s.Git, state); err != nil {
		return fmt.Errorf("undo setup-git: %w", err)
	}
	return nil
}

// Post runs the post step: it undoes setup-git and revokes the main step's
// token, unless skip-token-revoke is true or the token already expired. Its
// failures are warnings: a post step never fails the job.
func Post(ctx context.Context, s Step) {
	r := s.Runner
	if git := r.State(stateGit); git != "" {
		if err := s.undoGit(ctx, git); err != nil {
			r.Warningf("could not undo setup-git: %s", err)
		} else {
			r.Infof("Removed the git configuration setup-git added.")
		}
	}
	token := r.State(stateToken)
	if token == "" {
		r.Infof("No token to revoke: the main step created none.")
		return
	}
	r.Mask(token)
	if skip, err := r.Bool("skip-token-revoke", false); err != nil || skip {
		r.Infof("Token revocation skipped (skip-token-revoke).")
		return
	}
	if exp, err := time.Parse(time.RFC3339, r.State(stateExpiresAt)); err == nil && !s.Now().Before(exp) {
		r.Infof("The token already expired: nothing to revoke.")
		return
	}
	host, err := ghhost.New("", r.State(stateAPIURL))
	if err != nil {
		r.Warningf("could not revoke the token: the saved API URL: %s", err)
		return
	}
	if err := appauth.Revoke(ctx, token, s.AppOptions(host, r.Debugf)...); err != nil {
		r.Warningf("could not revoke the token: %s", err)
		return
	}
	r.Infof("Token revoked.")
}
