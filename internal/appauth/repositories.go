package appauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v89/github"
)

// InstallationRepositories names the repositories inst reaches. GitHub
// lists them only to an installation token
// (https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation),
// so it mints one narrowed to metadata: read, lists, and revokes it; a
// failed revocation is returned with the list (the token dies within the
// hour anyway).
func (a *App) InstallationRepositories(ctx context.Context, inst *Installation) ([]string, error) {
	tok, err := a.CreateToken(ctx, inst, nil, map[string]string{"metadata": "read"})
	if err != nil {
		return nil, err
	}
	c := a.newClient(&tokenTransport{token: tok.Value.Reveal(), next: a.transport()})
	names := []string{}
	opts := &github.ListOptions{PerPage: 100}
	var listErr error
	for {
		list, resp, err := c.Apps.ListRepos(ctx, opts)
		if err != nil {
			listErr = a.apiError(resp, err, nil)
			break
		}
		for _, r := range list.Repositories {
			names = append(names, r.GetName())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return names, errors.Join(listErr, a.Revoke(ctx, tok.Value.Reveal()))
}

// InstallationWithRepositories is one installation and the names of the
// repositories it reaches: [] when it is suspended (it cannot mint) or an
// enterprise's (it reaches no repository).
type InstallationWithRepositories struct {
	*Installation
	Repositories []string `json:"repositories"`
}

// InstallationsWithRepositories lists the App's installations, each with
// the repositories it reaches (InstallationRepositories: one token per
// installation, revoked after use) and its permissions ({} when none).
func (a *App) InstallationsWithRepositories(ctx context.Context) ([]InstallationWithRepositories, error) {
	list, err := a.Installations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]InstallationWithRepositories, 0, len(list))
	for _, in := range list {
		ir := InstallationWithRepositories{Installation: in, Repositories: []string{}}
		if in.Permissions == nil {
			in.Permissions = map[string]string{}
		}
		if !in.Suspended && in.AccountType != "Enterprise" {
			if ir.Repositories, err = a.InstallationRepositories(ctx, in); err != nil {
				return nil, fmt.Errorf("list the repositories of installation %d: %w", in.ID, err)
			}
		}
		out = append(out, ir)
	}
	return out, nil
}

// NameInstallation fills in tok's app slug and owner, which a token minted
// with an installation ID alone lacks, from the App's installations (one
// request, GET /app/installations).
func (a *App) NameInstallation(ctx context.Context, tok *Token) error {
	list, err := a.Installations(ctx)
	if err != nil {
		return err
	}
	for _, in := range list {
		if in.ID == tok.InstallationID {
			tok.AppSlug, tok.Owner = cmp.Or(tok.AppSlug, in.AppSlug), cmp.Or(tok.Owner, in.Account)
			return nil
		}
	}
	return fmt.Errorf("installation %d is not among the app's installations", tok.InstallationID)
}
