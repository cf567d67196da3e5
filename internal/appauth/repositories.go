package appauth

import (
	"context"
	"errors"

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
