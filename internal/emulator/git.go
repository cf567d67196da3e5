package emulator

// Git over smart HTTP for the installations' repositories, so that a dry
// run can clone and push with the tokens the emulator issues. The protocol
// is git's own `git http-backend` run as CGI (net/http/cgi): the emulator
// writes no git protocol itself, it decides who may do what, as GitHub
// does (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation):
//   - HTTP Basic authentication, username x-access-token (any username is
//     taken), password an installation token;
//   - a token that cannot reach the repository gets 404 "Repository not
//     found.", as GitHub hides private repositories;
//   - fetching needs contents:read, pushing contents:write (else 403).
//
// Repositories live as bare repositories under the directory given to
// WithGit, created on first use with one commit on main (README.md).

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// WithGit serves git's smart HTTP protocol at /{owner}/{repo}(.git) for
// every repository an installation lists, from bare repositories kept
// under dir. It needs the git binary on PATH.
func WithGit(dir string) Option {
	return func(s *Server) { s.git = &gitServer{root: dir, srv: s, ready: map[string]bool{}} }
}

type gitServer struct {
	root  string
	srv   *Server
	mu    sync.Mutex // guards ready and repository creation
	ready map[string]bool
}

// gitPath matches the smart HTTP protocol's three requests.
var gitPath = regexp.MustCompile(`^/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/(info/refs|git-upload-pack|git-receive-pack)$`)

// serve answers a git request and reports true, or reports false for any
// other request.
func (g *gitServer) serve(w http.ResponseWriter, r *http.Request) bool {
	m := gitPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	owner, repo, endpoint := m[1], m[2], m[3]
	service := endpoint
	if endpoint == "info/refs" {
		service = r.URL.Query().Get("service")
	}
	need := map[string]string{"git-upload-pack": "read", "git-receive-pack": "write"}[service]
	if need == "" || (endpoint != "info/refs" && r.Method != http.MethodPost) {
		// The dumb protocol, which GitHub no longer serves.
		http.Error(w, "Only git's smart HTTP protocol is served.", http.StatusForbidden)
		return true
	}

	_, token, ok := r.BasicAuth()
	if ok && token == "" {
		token, _, _ = r.BasicAuth() // a token as the username
	}
	t, account, repos, known := g.srv.liveToken(token)
	switch {
	case !ok || !known:
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return true
	case !strings.EqualFold(account, owner) || !containsFold(repos, repo):
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return true
	case permissionLevels[t.Permissions["contents"]] < permissionLevels[need]:
		if need == "read" {
			http.Error(w, "Repository not found.", http.StatusNotFound)
		} else {
			http.Error(w, fmt.Sprintf("Permission to %s/%s.git denied to %s.", owner, repo, g.srv.botLogin(t.AppID)), http.StatusForbidden)
		}
		return true
	}
	dir, err := g.repository(r.Context(), account, repo)
	if err != nil {
		http.Error(w, "emulator: "+err.Error(), http.StatusInternalServerError)
		return true
	}
	git, _ := exec.LookPath("git")
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + filepath.ToSlash(dir) + "/" + endpoint
	h := &cgi.Handler{
		Path: git, Args: []string{"http-backend"}, Root: "/",
		// REMOTE_USER enables receive-pack (git help http-backend).
		Env: []string{"GIT_PROJECT_ROOT=" + g.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=x-access-token"},
	}
	h.ServeHTTP(w, r2)
	return true
}

// liveToken finds an issued, unrevoked, unexpired installation token, the
// account of its installation and the repositories it reaches.
func (s *Server) liveToken(value string) (t Token, account string, repos []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.tokens[value]
	if value == "" || p == nil || p.Revoked || !s.clock().Before(p.ExpiresAt) {
		return Token{}, "", nil, false
	}
	in := s.installations[p.InstallationID]
	if in == nil {
		return Token{}, "", nil, false
	}
	repos = p.Repositories
	if repos == nil {
		repos = in.Repositories
	}
	return *p, in.Account, slices.Clone(repos), true
}

func (s *Server) botLogin(appID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		return a.Slug + "[bot]"
	}
	return "the app"
}

// repository returns the bare repository for owner/repo, relative to the
// root, creating it with its first commit if need be.
func (g *gitServer) repository(ctx context.Context, owner, repo string) (string, error) {
	rel := filepath.Join(strings.ToLower(owner), strings.ToLower(repo)+".git")
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready[rel] {
		return rel, nil
	}
	dir := filepath.Join(g.root, rel)
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if err := g.create(ctx, dir, owner, repo); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("create repository %s/%s: %w", owner, repo, err)
		}
	}
	g.ready[rel] = true
	return rel, nil
}

// create makes a bare repository whose main branch holds one commit with
// README.md, written with git's plumbing (no work tree), with fixed dates
// so that every run's first commit is the same.
func (g *gitServer) create(ctx context.Context, dir, owner, repo string) error {
	index := dir + ".index"
	defer os.Remove(index)
	env := append(os.Environ(), "GIT_DIR="+dir, "GIT_INDEX_FILE="+index, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Octo Emulator", "GIT_AUTHOR_EMAIL=emulator@github.invalid", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=Octo Emulator", "GIT_COMMITTER_EMAIL=emulator@github.invalid", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(errOut.String()))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if _, err := run("", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return err
	}
	files := map[string]string{"README.md": fmt.Sprintf("# %s/%s\n\nServed by app-token's GitHub emulator.\n", owner, repo)}
	for _, path := range slices.Sorted(maps.Keys(files)) {
		sha, err := run(files[path], "hash-object", "-w", "--stdin")
		if err != nil {
			return err
		}
		if _, err := run("", "update-index", "--add", "--cacheinfo", "100644,"+sha+","+path); err != nil {
			return err
		}
	}
	tree, err := run("", "write-tree")
	if err != nil {
		return err
	}
	commit, err := run("Initial commit\n", "commit-tree", tree)
	if err != nil {
		return err
	}
	_, err = run("", "update-ref", "refs/heads/main", commit)
	return err
}
