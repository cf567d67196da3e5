package main

import (
	"context"
	"fmt"
	"os"
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

func (c *cli) cmdAction(ctx context.Context, args []string) error {
	fs := c.flags("action", "", `Run the GitHub Action's main step: read the step's inputs (INPUT_*),
mint an installation token, mask it and write the outputs token,
installation-id, app-slug and expires-at. action.yml runs this; it reads
the environment the Actions runner gives a step.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("action takes no arguments; it reads the step's inputs from the environment")
	}
	r := actionenv.New(c.getenv, c.stdout)
	if err := c.actionMain(ctx, r); err != nil {
		r.Errorf("%s", err)
		return silent(err)
	}
	return nil
}

// silent is errSilent with err's exit code.
func silent(err error) error {
	if exitCode(err) == exitAuth {
		return errSilentAuth
	}
	return errSilent
}

// actionNames are the action's names for settings, used in advice.
func actionNames(setting string) string { return setting }

func (c *cli) actionMain(ctx context.Context, r *actionenv.Runner) error {
	if err := r.CheckFiles(); err != nil {
		return err
	}
	var environ []string
	if c.environ != nil {
		environ = c.environ()
	}
	in, err := r.ParseInputs(environ)
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
	app, err := appauth.New(in.ClientID, in.PrivateKey.Key, c.appOptions(host, actionNames, r.Debugf)...)
	if err != nil {
		return err
	}
	req := appauth.Request{Owner: in.Owner, Repositories: in.Repositories, Permissions: in.Permissions, InstallationID: in.InstallationID}
	r.Infof("%s", describeRequest(req, in.CurrentRepository))
	tok, err := app.Mint(ctx, req)
	if err != nil {
		return err
	}
	value := tok.Value.Reveal()
	r.Mask(value)
	// A step that fails from here on leaves no token behind: revoke it
	// (and undo setup-git) on the way out.
	undo := func(what string, gitState string) {
		if err := c.actionUndoGit(context.WithoutCancel(ctx), gitState); err != nil {
			r.Warningf("could not undo setup-git after %s failed: %s", what, err)
		}
		if err := app.Revoke(context.WithoutCancel(ctx), value); err != nil {
			r.Warningf("could not revoke the token after %s failed: %s", what, err)
		}
	}

	var gitName, gitEmail, gitState string
	if in.SetupGit {
		gitName, gitEmail, gitState, err = c.actionGit(ctx, r, app, host, tok)
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

// describeRequest says, as actions/create-github-app-token does, which
// resolution applies.
func describeRequest(req appauth.Request, current bool) string {
	repos := strings.Join(req.Repositories, ", ")
	switch {
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

// actionGit configures git for the rest of the job as the app's bot, for
// the host the token came from: the API URL's, never GITHUB_SERVER_URL's,
// which may name another GitHub than the one that minted the token.
func (c *cli) actionGit(ctx context.Context, r *actionenv.Runner, app *appauth.App, host ghhost.Host, tok *appauth.Token) (name, email, state string, err error) {
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
	if server, err := ghhost.New(c.getenv("GITHUB_SERVER_URL"), ""); err == nil && c.getenv("GITHUB_SERVER_URL") != "" && server.GitHost() != host.GitHost() {
		r.Infof("The workflow runs on %s, but the token is from %s (github-api-url): git gets it for %s only.", server.GitHost(), host.GitHost(), host.GitHost())
	}
	exe, err := c.executable()
	if err != nil {
		return "", "", "", fmt.Errorf("find this program: %w", err)
	}
	tmp := c.getenv("RUNNER_TEMP")
	if tmp == "" {
		tmp = os.TempDir()
	}
	state, err = gitcred.SetupJob(ctx, gitcred.Job{
		Exe: exe, Host: host, Token: tok.Value, Owner: tok.Owner, ExpiresAt: tok.ExpiresAt,
		UserName: name, UserEmail: email, TempDir: tmp, Git: c.gitConfig("--global"),
	})
	if err != nil {
		return "", "", "", err
	}
	r.Infof("Configured git for %s as %s <%s>.", host.GitURL(), name, email)
	return name, email, state, nil
}

// actionUndoGit undoes what actionGit did; an empty state undoes nothing.
func (c *cli) actionUndoGit(ctx context.Context, state string) error {
	if err := gitcred.UndoJob(ctx, c.gitConfig("--global"), state); err != nil {
		return fmt.Errorf("undo setup-git: %w", err)
	}
	return nil
}

func (c *cli) cmdActionPost(ctx context.Context, args []string) error {
	fs := c.flags("action-post", "", `Run the GitHub Action's post step: revoke the token the main step created
(unless skip-token-revoke is true or it already expired) and undo setup-git.
A failed revocation is a warning, not a failure.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	r := actionenv.New(c.getenv, c.stdout)
	c.actionPost(ctx, r)
	return nil
}

func (c *cli) actionPost(ctx context.Context, r *actionenv.Runner) {
	if git := r.State(stateGit); git != "" {
		if err := c.actionUndoGit(ctx, git); err != nil {
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
	if exp, err := time.Parse(time.RFC3339, r.State(stateExpiresAt)); err == nil && !c.now().Before(exp) {
		r.Infof("The token already expired: nothing to revoke.")
		return
	}
	host, err := ghhost.New("", r.State(stateAPIURL))
	if err != nil {
		r.Warningf("could not revoke the token: the saved API URL: %s", err)
		return
	}
	if err := appauth.Revoke(ctx, token, c.appOptions(host, actionNames, r.Debugf)...); err != nil {
		r.Warningf("could not revoke the token: %s", err)
		return
	}
	r.Infof("Token revoked.")
}
