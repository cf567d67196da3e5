package appauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Installation is an installation of the App on an account.
type Installation struct {
	ID                  int64             `json:"id"`
	AppID               int64             `json:"app_id"`
	AppSlug             string            `json:"app_slug"`
	Account             string            `json:"account"`
	AccountType         string            `json:"account_type"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	Suspended           bool              `json:"suspended,omitempty"`
}

// Secret is a credential. It formats as "[REDACTED]" with every fmt verb,
// so that printing a struct that holds one cannot leak it; Reveal returns
// the value for the one place that must send or print it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Format prints a placeholder, whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[REDACTED]") }

// Token is an installation access token and what GitHub said about it. Its
// JSON form is what "app-token token --json" prints; repositories is null
// when the token was not narrowed to a list.
type Token struct {
	Value               Secret            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	InstallationID      int64             `json:"installation_id"`
	AppSlug             string            `json:"app_slug"`
	Owner               string            `json:"owner,omitempty"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection,omitempty"`
	Repositories        []string          `json:"repositories"`
}

// Request says which token to mint. Resolution follows
// actions/create-github-app-token: with InstallationID, no lookup; with
// Enterprise, the enterprise's installation; with Repositories, the
// installation that holds Owner/Repositories[0]; else Owner's installation
// (GET /users/{owner}/installation, which also serves organizations).
type Request struct {
	Owner          string
	Repositories   []string
	Permissions    map[string]string
	InstallationID int64
	// Enterprise is an enterprise's slug. It excludes Owner and
	// Repositories: an enterprise installation reaches no repository.
	Enterprise string
}

// Mint resolves the installation for req and exchanges it for a token:
// two requests, or one when req.InstallationID is set.
func (a *App) Mint(ctx context.Context, req Request) (*Token, error) {
	var inst *Installation
	var err error
	switch {
	case req.Enterprise != "" && (req.Owner != "" || len(req.Repositories) > 0):
		return nil, fmt.Errorf("%s cannot be combined with %s or %s: an enterprise installation's token reaches no repository",
			a.names("enterprise"), a.names("owner"), a.names("repositories"))
	case req.InstallationID != 0:
		inst = &Installation{ID: req.InstallationID, Account: req.Owner}
	case req.Enterprise != "":
		inst, err = a.InstallationForEnterprise(ctx, req.Enterprise)
	case len(req.Repositories) > 0:
		inst, err = a.InstallationForRepo(ctx, req.Owner, req.Repositories[0])
	default:
		inst, err = a.InstallationForOwner(ctx, req.Owner)
	}
	if err != nil {
		return nil, err
	}
	return a.CreateToken(ctx, inst, req.Repositories, req.Permissions)
}

// InstallationForRepo finds the installation that can reach owner/repo.
func (a *App) InstallationForRepo(ctx context.Context, owner, repo string) (*Installation, error) {
	return a.installation(ctx, fmt.Sprintf("repos/%s/%s/installation", url.PathEscape(owner), url.PathEscape(repo)), func(status int, _ string) string {
		if status == http.StatusNotFound {
			return fmt.Sprintf("the app is not installed on %s/%s (or the repository does not exist): install it, or set %s", owner, repo, a.names("owner"))
		}
		return ""
	})
}

// InstallationForOwner finds the App's installation on an account (user or
// organization): GET /users/{owner}/installation serves both.
func (a *App) InstallationForOwner(ctx context.Context, owner string) (*Installation, error) {
	return a.installation(ctx, fmt.Sprintf("users/%s/installation", url.PathEscape(owner)), func(status int, _ string) string {
		if status == http.StatusNotFound {
			return fmt.Sprintf("the app is not installed on the account %q: install it there, or check %s", owner, a.names("owner"))
		}
		return ""
	})
}

// InstallationForEnterprise finds the App's installation on an enterprise
// (GET /enterprises/{enterprise}/installation, "Get an enterprise
// installation for the authenticated app" in GitHub Enterprise Cloud's REST
// description); enterprise is its slug.
func (a *App) InstallationForEnterprise(ctx context.Context, enterprise string) (*Installation, error) {
	return a.installation(ctx, fmt.Sprintf("enterprises/%s/installation", url.PathEscape(enterprise)), func(status int, _ string) string {
		if status == http.StatusNotFound {
			return fmt.Sprintf("the app is not installed on the enterprise %q: install it there, or check %s", enterprise, a.names("enterprise"))
		}
		return ""
	})
}

// installationResponse is GitHub's installation object, the fields we use.
// It is decoded here rather than into github.Installation, whose permission
// struct lacks names GitHub uses (email_addresses, git_ssh_keys), and whose
// size costs a fresh process more to decode than the rest of a lookup.
type installationResponse struct {
	ID      int64  `json:"id"`
	AppID   int64  `json:"app_id"`
	AppSlug string `json:"app_slug"`
	// Account is a simple-user, or an enterprise (slug, no login or type).
	Account struct {
		Login string `json:"login"`
		Type  string `json:"type"`
		Slug  string `json:"slug"`
	} `json:"account"`
	TargetType          string            `json:"target_type"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	SuspendedAt         *string           `json:"suspended_at"`
}

func (r *installationResponse) installation() *Installation {
	account, typ := r.Account.Login, r.Account.Type
	if account == "" && r.TargetType == "Enterprise" {
		account, typ = r.Account.Slug, r.TargetType
	}
	return &Installation{
		ID: r.ID, AppID: r.AppID, AppSlug: r.AppSlug,
		Account: account, AccountType: typ,
		RepositorySelection: r.RepositorySelection, Permissions: r.Permissions,
		Suspended: r.SuspendedAt != nil,
	}
}

// installation GETs one installation object at path (relative to the API).
func (a *App) installation(ctx context.Context, path string, specific func(int, string) string) (*Installation, error) {
	req, err := a.jwtClient.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	var in installationResponse
	resp, err := a.jwtClient.Do(req, &in)
	if err != nil {
		return nil, a.apiError(resp, err, specific)
	}
	return in.installation(), nil
}

// Installations lists every installation of the App, following pages.
func (a *App) Installations(ctx context.Context) ([]*Installation, error) {
	var out []*Installation
	page := 1
	for {
		req, err := a.jwtClient.NewRequest(ctx, http.MethodGet, fmt.Sprintf("app/installations?per_page=100&page=%d", page), nil)
		if err != nil {
			return nil, err
		}
		var list []installationResponse
		resp, err := a.jwtClient.Do(req, &list)
		if err != nil {
			return nil, a.apiError(resp, err, nil)
		}
		for i := range list {
			out = append(out, list[i].installation())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}

// AppInfo is what GET /app says about the App.
type AppInfo struct {
	ID       int64  `json:"id"`
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
}

// Info fetches the App's own description.
func (a *App) Info(ctx context.Context) (*AppInfo, error) {
	app, resp, err := a.jwtClient.Apps.Get(ctx, "")
	if err != nil {
		return nil, a.apiError(resp, err, nil)
	}
	return &AppInfo{ID: app.GetID(), Slug: app.GetSlug(), Name: app.GetName(), ClientID: app.GetClientID()}, nil
}

// tokenResponse is GitHub's answer to a token request. It is decoded here
// rather than into github.InstallationToken because go-github's permission
// struct lacks names GitHub uses (email_addresses, git_ssh_keys).
type tokenResponse struct {
	Token               string            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
	Repositories        []struct {
		Name string `json:"name"`
	} `json:"repositories"`
}

// CreateToken exchanges the installation for a token narrowed to repos (bare
// names; nil: all the installation's) and perms (nil: the installation's).
// It keeps GitHub's expires_at; it assumes nothing of the token's shape.
func (a *App) CreateToken(ctx context.Context, inst *Installation, repos []string, perms map[string]string) (*Token, error) {
	body := struct {
		Repositories []string          `json:"repositories,omitempty"`
		Permissions  map[string]string `json:"permissions,omitempty"`
	}{repos, perms}
	u := fmt.Sprintf("app/installations/%d/access_tokens", inst.ID)
	req, err := a.jwtClient.NewRequest(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	resp, err := a.jwtClient.Do(req, &tr)
	if err != nil {
		return nil, a.apiError(resp, err, func(status int, msg string) string {
			return a.tokenAdvice(inst, repos, perms, status, msg)
		})
	}
	if tr.Token == "" {
		return nil, errors.New("GitHub answered the token request without a token")
	}
	tok := &Token{
		Value:               Secret(tr.Token),
		ExpiresAt:           tr.ExpiresAt,
		InstallationID:      inst.ID,
		AppSlug:             inst.AppSlug,
		Owner:               inst.Account,
		Permissions:         tr.Permissions,
		RepositorySelection: tr.RepositorySelection,
	}
	for _, r := range tr.Repositories {
		tok.Repositories = append(tok.Repositories, r.Name)
	}
	return tok, nil
}

func (a *App) tokenAdvice(inst *Installation, repos []string, perms map[string]string, status int, msg string) string {
	where := fmt.Sprintf("installation %d", inst.ID)
	if inst.Account != "" {
		where = fmt.Sprintf("the installation on %s", inst.Account)
	}
	switch {
	case status == http.StatusNotFound:
		return fmt.Sprintf("the app has no installation %d: check %s", inst.ID, a.names("installation-id"))
	case status == http.StatusForbidden && strings.Contains(msg, "suspended"):
		return fmt.Sprintf("%s is suspended: an owner of the account must unsuspend it", where)
	case status == http.StatusUnprocessableEntity && strings.Contains(msg, "repositor"):
		return fmt.Sprintf("%s cannot reach every repository in %s (%s): add them to the installation, or fix %s",
			where, a.names("repositories"), strings.Join(repos, ", "), a.names("repositories"))
	case status == http.StatusUnprocessableEntity && strings.Contains(msg, "permission"):
		return a.permissionAdvice(where, inst, perms)
	}
	return ""
}

// permissionAdvice names the requested permissions the installation lacks,
// when the lookup told us what it has.
func (a *App) permissionAdvice(where string, inst *Installation, perms map[string]string) string {
	rank := map[string]int{"read": 1, "write": 2, "admin": 3}
	var missing []string
	names := make([]string, 0, len(perms))
	for n := range perms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if inst.Permissions == nil {
			break
		}
		has := inst.Permissions[n]
		if rank[has] < rank[perms[n]] {
			h := "none"
			if has != "" {
				h = has
			}
			missing = append(missing, fmt.Sprintf("%s: %s (it has %s; lower %s)", n, perms[n], h, a.names("permission-"+strings.ReplaceAll(n, "_", "-"))))
		}
	}
	if len(missing) == 0 {
		return fmt.Sprintf("%s was not granted every permission requested: lower the permission settings, or have an owner accept the app's new permissions", where)
	}
	return fmt.Sprintf("%s was not granted %s, or have an owner grant it", where, strings.Join(missing, "; "))
}

// Revoke revokes an installation token (DELETE /installation/token).
func (a *App) Revoke(ctx context.Context, token string) error {
	c := a.newClient(&tokenTransport{token: token, next: a.transport()})
	resp, err := c.Apps.RevokeInstallationToken(ctx)
	if err != nil {
		return a.apiError(resp, err, func(status int, _ string) string {
			if status == http.StatusUnauthorized {
				return "GitHub does not accept the token (already revoked or expired?)"
			}
			return ""
		})
	}
	return nil
}

// BotUser returns the login and user ID of the App's bot user,
// "<slug>[bot]", looked up with token (any installation token).
func (a *App) BotUser(ctx context.Context, token, slug string) (login string, id int64, err error) {
	c := a.newClient(&tokenTransport{token: token, next: a.transport()})
	login = slug + "[bot]"
	u, resp, err := c.Users.Get(ctx, login)
	if err != nil {
		return "", 0, a.apiError(resp, err, nil)
	}
	return u.GetLogin(), u.GetID(), nil
}

// HasRepository reports whether names contains repo, ignoring case.
func HasRepository(names []string, repo string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, repo) })
}
