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
// repository if no installation lists it. With WithGit it is a commit on
// main (see git.go); it panics if git fails, as a test fixture would.
func (s *Server) PutFile(owner, repo, path string, content []byte) {
	c := &s.contents
	c.mu.Lock()
	if c.files == nil {
		c.files = map[string][]byte{}
	}
	c.files[fileKey(owner, repo, path)] = slices.Clone(content)
	c.mu.Unlock()
	if s.git != nil {
		if err := s.git.change(owner, repo, strings.Trim(path, "/"), content, false); err != nil {
			panic(fmt.Sprintf("emulator: PutFile %s/%s %s: %v", owner, repo, path, err))
		}
	}
}

// DeleteFile removes a file put with PutFile (with WithGit, from main).
func (s *Server) DeleteFile(owner, repo, path string) {
	c := &s.contents
	c.mu.Lock()
	delete(c.files, fileKey(owner, repo, path))
	c.mu.Unlock()
	if s.git != nil {
		if err := s.git.change(owner, repo, strings.Trim(path, "/"), nil, true); err != nil {
			panic(fmt.Sprintf("emulator: DeleteFile %s/%s %s: %v", owner, repo, path, err))
		}
	}
}

// repoFiles are the files PutFile put in owner/repo, by path.
func (s *Server) repoFiles(owner, repo string) map[string][]byte {
	c := &s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := fileKey(owner, repo, "")
	out := map[string][]byte{}
	for k, b := range c.files {
		if path, ok := strings.CutPrefix(k, prefix); ok {
			out[path] = slices.Clone(b)
		}
	}
	return out
}

// file is owner/repo's file at path on main: from git when it serves
// repositories, else as PutFile put it.
func (s *Server) file(r *http.Request, owner, repo, path string) ([]byte, bool, error) {
	if s.git != nil {
		return s.git.file(r.Context(), owner, repo, path)
	}
	c := &s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[fileKey(owner, repo, path)]
	return b, ok, nil
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
	writeJSON(w, http.StatusOK, s.fullRepoJSON(r, owner, repo))
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
	content, ok, err := s.file(r, owner, repo, path)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "emulator: "+err.Error())
		return
	}
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
