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
// WithGit, created on first use with one commit on main: README.md and the
// files PutFile put there. With git on, git is the one store of files: a
// PutFile on an existing repository is a commit on main, and the contents
// API reads main, so a push shows up there.

import (
	"bytes"
	"context"
	"errors"
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
// It is compiled on first use, not at every start of app-token.
var gitPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/(info/refs|git-upload-pack|git-receive-pack)$`)
})

// serve answers a git request and reports true, or reports false for any
// other request.
func (g *gitServer) serve(w http.ResponseWriter, r *http.Request) bool {
	m := gitPath().FindStringSubmatch(r.URL.Path)
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
// README.md and the files PutFile put in owner/repo.
func (g *gitServer) create(ctx context.Context, dir, owner, repo string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if _, err := gitIn(ctx, dir, "", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return err
	}
	files := map[string][]byte{"README.md": fmt.Appendf(nil, "# %s/%s\n\nServed by app-token's GitHub emulator.\n", owner, repo)}
	maps.Copy(files, g.srv.repoFiles(owner, repo))
	return commitFiles(ctx, dir, files, nil, "Initial commit")
}

// gitIn runs git on the bare repository dir (with index as its index file
// when set), with a fixed identity and dates, so that every run's commits
// are the same.
func gitIn(ctx context.Context, dir, index string, args ...string) (string, error) {
	return gitInput(ctx, dir, index, nil, args...)
}

func gitInput(ctx context.Context, dir, index string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_DIR="+dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Octo Emulator", "GIT_AUTHOR_EMAIL=emulator@github.invalid", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=Octo Emulator", "GIT_COMMITTER_EMAIL=emulator@github.invalid", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	if index != "" {
		cmd.Env = append(cmd.Env, "GIT_INDEX_FILE="+index)
	}
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// commitFiles commits to main of the bare repository dir, with git's
// plumbing (no work tree): put's files written, del's removed.
func commitFiles(ctx context.Context, dir string, put map[string][]byte, del []string, message string) error {
	index := dir + ".index"
	defer os.Remove(index)
	parent, err := gitIn(ctx, dir, "", "rev-parse", "--verify", "--quiet", "refs/heads/main")
	if err == nil {
		if _, err := gitIn(ctx, dir, index, "read-tree", parent); err != nil {
			return err
		}
	}
	for _, path := range slices.Sorted(maps.Keys(put)) {
		sha, err := gitInput(ctx, dir, index, put[path], "hash-object", "-w", "--stdin")
		if err != nil {
			return err
		}
		if _, err := gitIn(ctx, dir, index, "update-index", "--add", "--cacheinfo", "100644,"+sha+","+path); err != nil {
			return err
		}
	}
	for _, path := range del {
		// Mode 0 removes the entry (git help update-index, "USING
		// --INDEX-INFO"); --force-remove would need a work tree.
		if _, err := gitInput(ctx, dir, index, []byte("0 "+strings.Repeat("0", 40)+"\t"+path+"\n"), "update-index", "--index-info"); err != nil {
			return err
		}
	}
	tree, err := gitIn(ctx, dir, index, "write-tree")
	if err != nil {
		return err
	}
	args := []string{"commit-tree", tree}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	commit, err := gitInput(ctx, dir, index, []byte(message+"\n"), args...)
	if err != nil {
		return err
	}
	_, err = gitIn(ctx, dir, index, "update-ref", "refs/heads/main", commit)
	return err
}

// change commits a PutFile (or with del a DeleteFile) to owner/repo when
// its repository exists; one created later starts with PutFile's files.
func (g *gitServer) change(owner, repo, path string, content []byte, del bool) error {
	dir := filepath.Join(g.root, strings.ToLower(owner), strings.ToLower(repo)+".git")
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		return nil
	}
	if del {
		return commitFiles(context.Background(), dir, nil, []string{path}, "Delete "+path)
	}
	return commitFiles(context.Background(), dir, map[string][]byte{path: content}, nil, "Update "+path)
}

// file reads path on main of owner/repo, creating the repository if need
// be; ok is false when main has no such file.
func (g *gitServer) file(ctx context.Context, owner, repo, path string) (content []byte, ok bool, err error) {
	rel, err := g.repository(ctx, owner, repo)
	if err != nil {
		return nil, false, err
	}
	cmd := exec.CommandContext(ctx, "git", "cat-file", "blob", "main:"+path)
	cmd.Env = append(os.Environ(), "GIT_DIR="+filepath.Join(g.root, rel), "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, false, nil // no such path on main (git exits 128)
	}
	return out, err == nil, err
}
