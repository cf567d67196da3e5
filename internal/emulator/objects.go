package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// The JSON objects the emulator answers with. Each carries every field that
// GitHub's REST description (components.schemas, vendored in
// internal/openapi/responses.json) marks as required, with the type it gives;
// the schema check (schemacheck.go) holds every answer to that.

// created is the fixed creation time of every emulated object.
const created = "2026-01-01T00:00:00Z"

// nodeID makes a GraphQL node ID of GitHub's shape for an object.
func nodeID(kind string, id int64) string {
	return base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", kind, id))
}

// apiPrefix is the API root the request came in on: the host, plus /api/v3
// when the client spoke to the emulator as to GitHub Enterprise Server.
func apiPrefix(r *http.Request) string {
	prefix := baseURL(r)
	if strings.HasPrefix(r.URL.Path, "/api/v3/") {
		prefix += "/api/v3"
	}
	return prefix
}

// simpleUserJSON is components.schemas.simple-user.
func simpleUserJSON(r *http.Request, login string, id int64, typ string) map[string]any {
	api, web := apiPrefix(r)+"/users/"+login, baseURL(r)+"/"+login
	return map[string]any{
		"login": login, "id": id, "node_id": nodeID(typ, id), "type": typ, "site_admin": false,
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d", baseURL(r), id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            web,
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"user_view_type":      "public",
	}
}

// userJSON is components.schemas.public-user: GET /users/{username}, and
// GET /user.
func userJSON(r *http.Request, u *User) map[string]any {
	m := simpleUserJSON(r, u.Login, u.ID, u.Type)
	var name, email any
	if u.Name != "" {
		name = u.Name
	}
	if u.Email != "" {
		email = u.Email
	}
	for k, v := range map[string]any{
		"name": name, "email": email, "company": nil, "blog": "", "location": nil, "hireable": nil, "bio": nil,
		"public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": created, "updated_at": created,
	} {
		m[k] = v
	}
	return m
}

// accountJSON is an installation's account: a simple-user (users and
// organizations) or an enterprise.
func (s *Server) accountJSON(r *http.Request, in *Installation) map[string]any {
	// GET /app/installations describes its items' account as allOf
	// simple-user and enterprise (the single-installation endpoints say
	// anyOf): so every account carries the required fields of both, a
	// user's or organization's the enterprise's name, slug and times, an
	// enterprise's the simple-user's login, type and URLs.
	m := simpleUserJSON(r, in.Account, in.AccountID, in.AccountType)
	m["name"], m["slug"], m["created_at"], m["updated_at"] = in.Account, strings.ToLower(in.Account), created, created
	if in.AccountType == "Enterprise" {
		slug := strings.ToLower(in.Account)
		m["node_id"], m["slug"] = nodeID("Enterprise", in.AccountID), slug
		m["html_url"] = baseURL(r) + "/enterprises/" + slug
		m["avatar_url"] = fmt.Sprintf("%s/avatars/b/%d", baseURL(r), in.AccountID)
		m["description"], m["website_url"] = nil, nil
	}
	return m
}

// integrationJSON is components.schemas.integration: GET /app.
func integrationJSON(r *http.Request, app *App) map[string]any {
	return map[string]any{
		"id": app.ID, "slug": app.Slug, "client_id": app.ClientID, "name": app.Name,
		"node_id":      nodeID("Integration", app.ID),
		"owner":        simpleUserJSON(r, WorldOrg, 9001, "Organization"),
		"description":  nil,
		"external_url": "https://example.invalid/" + app.Slug,
		"html_url":     baseURL(r) + "/apps/" + app.Slug,
		"created_at":   created, "updated_at": created,
		"permissions": map[string]string{"metadata": "read"},
		"events":      []string{},
	}
}

// repoJSON is components.schemas.repository for an installation's
// repository name.
func (s *Server) repoJSON(r *http.Request, in *Installation, name string) map[string]any {
	return repositoryJSON(r, in.Account, in.AccountID, ownerType(in), name)
}

// fullRepoJSON is components.schemas.full-repository (GET
// /repos/{owner}/{repo}): a repository with the counts and flags only the
// single-repository answer carries.
func (s *Server) fullRepoJSON(r *http.Request, owner, name string) map[string]any {
	typ := "Organization"
	s.mu.Lock()
	if u := s.users[strings.ToLower(owner)]; u != nil {
		owner, typ = u.Login, u.Type
	}
	s.mu.Unlock()
	m := repositoryJSON(r, owner, s.accountID(owner), typ, name)
	m["network_count"], m["subscribers_count"], m["has_discussions"] = 0, 0, false
	return m
}

// repositoryJSON is components.schemas.repository for owner/name.
func repositoryJSON(r *http.Request, owner string, ownerID int64, ownerType, name string) map[string]any {
	full := owner + "/" + name
	api, web := apiPrefix(r)+"/repos/"+full, baseURL(r)+"/"+full
	id := repoID(owner, name)
	m := map[string]any{
		"id": id, "node_id": nodeID("Repository", id), "name": name, "full_name": full,
		"owner": simpleUserJSON(r, owner, ownerID, ownerType), "private": true,
		"html_url": web, "description": nil, "fork": false, "url": api,
		"clone_url": web + ".git", "git_url": "git://" + r.Host + "/" + full + ".git", "ssh_url": "git@" + r.Host + ":" + full + ".git",
		"svn_url": web, "mirror_url": nil, "homepage": nil, "language": nil,
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "size": 0,
		"default_branch": "main", "open_issues": 0, "open_issues_count": 0,
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false, "has_downloads": true,
		"archived": false, "disabled": false, "visibility": "private", "license": nil,
		"pushed_at": created, "created_at": created, "updated_at": created,
	}
	for k, suffix := range map[string]string{
		"archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}", "blobs_url": "/git/blobs{/sha}",
		"branches_url": "/branches{/branch}", "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
		"commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}", "contents_url": "/contents/{+path}",
		"contributors_url": "/contributors", "deployments_url": "/deployments", "downloads_url": "/downloads",
		"events_url": "/events", "forks_url": "/forks", "git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}",
		"git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks", "issue_comment_url": "/issues/comments{/number}",
		"issue_events_url": "/issues/events{/number}", "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}",
		"labels_url": "/labels{/name}", "languages_url": "/languages", "merges_url": "/merges", "milestones_url": "/milestones{/number}",
		"notifications_url": "/notifications{?since,all,participating}", "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}",
		"stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}", "subscribers_url": "/subscribers",
		"subscription_url": "/subscription", "tags_url": "/tags", "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
	} {
		m[k] = api + suffix
	}
	return m
}

// ownerType is the type of an installation's account as a repository owner.
func ownerType(in *Installation) string {
	if in.AccountType == "User" {
		return "User"
	}
	return "Organization"
}
