package emulator

// Repositories and their files, as the REST API serves them to an
// installation token:
//   - https://docs.github.com/en/rest/repos/repos#get-a-repository
//   - https://docs.github.com/en/rest/repos/contents#get-repository-content
//     (a file is {"type": "file", "encoding": "base64", "content": ...})
//   - Conditional requests: https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate
//     (an ETag on every answer; If-None-Match with it answers 304)
//
// Every repository is private: a request whose token cannot reach it gets
// 404, as GitHub hides private repositories.

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

type contentsState struct {
	mu    sync.Mutex
	files map[string][]byte // by fileKey
}

func fileKey(owner, repo, path string) string {
	return strings.ToLower(owner+"/"+repo) + "\x00" + strings.Trim(path, "/")
}

// routeContents mounts the repository and contents routes.
func (s *Server) routeContents() {
	s.handle("GET /repos/{owner}/{repo}", s.getRepository)
	s.handle("GET /repos/{owner}/{repo}/contents/{path...}", s.getContents)
}

// PutFile puts a file in a repository's default branch, creating the
// repository if no installation lists it.
func (s *Server) PutFile(owner, repo, path string, content []byte) {
	c := &s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files = map[string][]byte{}
	}
	c.files[fileKey(owner, repo, path)] = slices.Clone(content)
}

// DeleteFile removes a file put with PutFile.
func (s *Server) DeleteFile(owner, repo, path string) {
	c := &s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.files, fileKey(owner, repo, path))
}

func (s *Server) file(owner, repo, path string) ([]byte, bool) {
	c := &s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[fileKey(owner, repo, path)]
	return b, ok
}

// repoFor authenticates the request and finds the repository it names,
// answering 401 or 404 itself.
func (s *Server) repoFor(w http.ResponseWriter, r *http.Request, perm string) (owner, repo string, ok bool) {
	t, ok := s.tokenFromRequest(w, r)
	if !ok {
		return "", "", false
	}
	owner, repo = r.PathValue("owner"), r.PathValue("repo")
	// perm ("" for metadata, which every token has) at read or above.
	s.mu.Lock()
	level := permissionLevels[t.Permissions[perm]]
	s.mu.Unlock()
	if !s.Authorize(t.Value, owner, repo) || perm != "" && level < permissionLevels["read"] {
		writeError(w, http.StatusNotFound, msgNotFound)
		return "", "", false
	}
	return owner, repo, true
}

func (s *Server) getRepository(w http.ResponseWriter, r *http.Request) {
	owner, repo, ok := s.repoFor(w, r, "")
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.fullRepositoryJSON(r, owner, repo))
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request) {
	owner, repo, ok := s.repoFor(w, r, "contents")
	if !ok {
		return
	}
	path := strings.Trim(r.PathValue("path"), "/")
	if ref := r.URL.Query().Get("ref"); ref != "" && ref != "main" && ref != "refs/heads/main" {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	content, ok := s.file(owner, repo, path)
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	sha := blobSHA(content)
	etag := `W/"` + sha + `"`
	w.Header().Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), sha) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	api := apiPrefix(r) + "/repos/" + owner + "/" + repo
	self := api + "/contents/" + path + "?ref=main"
	html := "https://github.com/" + owner + "/" + repo + "/blob/main/" + path
	git := api + "/git/blobs/" + sha
	name := path[strings.LastIndex(path, "/")+1:]
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "file", "encoding": "base64", "size": len(content), "name": name, "path": path,
		"content": wrapBase64(content), "sha": sha,
		"url": self, "git_url": git, "html_url": html,
		"download_url": "https://raw.githubusercontent.com/" + owner + "/" + repo + "/main/" + path,
		"_links":       map[string]any{"self": self, "git": git, "html": html},
	})
}

// blobSHA is git's object id of a blob: sha1("blob <size>\0" + content).
func blobSHA(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// etagMatch compares If-None-Match weakly (RFC 9110 §13.1.2).
func etagMatch(header, sha string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == `"`+sha+`"` || tag == "*" {
			return true
		}
	}
	return false
}

// wrapBase64 encodes as GitHub does: base64 in lines of 60 characters,
// each ending in "\n".
func wrapBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		sb.WriteString(enc + "\n")
	}
	return sb.String()
}

// fullRepositoryJSON is GitHub's full-repository object, every required
// field present.
func (s *Server) fullRepositoryJSON(r *http.Request, owner, repo string) map[string]any {
	api := apiPrefix(r)
	u := api + "/repos/" + owner + "/" + repo
	html := "https://github.com/" + owner + "/" + repo
	id := repoID(owner, repo)
	m := map[string]any{
		"id": id, "node_id": "R_" + base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "%d", id)),
		"name": repo, "full_name": owner + "/" + repo, "owner": s.simpleUserJSON(api, owner),
		"private": true, "visibility": "private", "html_url": html, "description": nil, "fork": false, "url": u,
		"homepage": nil, "language": nil, "license": nil, "mirror_url": nil,
		"default_branch": "main", "archived": false, "disabled": false,
		"has_issues": true, "has_projects": true, "has_wiki": false, "has_pages": false, "has_discussions": false,
		"forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 1,
		"stargazers_count": 0, "watchers": 0, "watchers_count": 0, "network_count": 0, "subscribers_count": 0,
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "pushed_at": "2026-01-01T00:00:00Z",
		"clone_url": html + ".git", "git_url": "git://github.com/" + owner + "/" + repo + ".git",
		"ssh_url": "git@github.com:" + owner + "/" + repo + ".git", "svn_url": html,
	}
	for _, name := range []string{"archive_url", "assignees_url", "blobs_url", "branches_url", "collaborators_url", "comments_url",
		"commits_url", "compare_url", "contents_url", "contributors_url", "deployments_url", "downloads_url", "events_url",
		"forks_url", "git_commits_url", "git_refs_url", "git_tags_url", "hooks_url", "issue_comment_url", "issue_events_url",
		"issues_url", "keys_url", "labels_url", "languages_url", "merges_url", "milestones_url", "notifications_url",
		"pulls_url", "releases_url", "stargazers_url", "statuses_url", "subscribers_url", "subscription_url", "tags_url",
		"teams_url", "trees_url"} {
		m[name] = u + "/" + strings.TrimSuffix(name, "_url")
	}
	return m
}

// simpleUserJSON is GitHub's simple-user object for login.
func (s *Server) simpleUserJSON(api, login string) map[string]any {
	typ := "User"
	s.mu.Lock()
	if u := s.users[strings.ToLower(login)]; u != nil {
		typ, login = u.Type, u.Login
	}
	s.mu.Unlock()
	u := api + "/users/" + login
	m := map[string]any{
		"login": login, "id": s.accountID(login), "type": typ, "site_admin": false, "url": u,
		"html_url": "https://github.com/" + login, "gravatar_id": "",
		"avatar_url": fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", s.accountID(login)),
	}
	m["node_id"] = "U_" + base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "%d", m["id"]))
	for _, name := range []string{"events_url", "followers_url", "following_url", "gists_url", "organizations_url", "received_events_url", "repos_url", "starred_url", "subscriptions_url"} {
		m[name] = u + "/" + strings.TrimSuffix(name, "_url")
	}
	return m
}
