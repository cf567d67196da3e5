package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
)

// credBuild builds app-token into dir: the process-level tests run the
// real binary, as git does.
func credBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "app-token")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// credGitServer serves the bare repositories under root over git's smart
// HTTP (git http-backend as CGI), behind Basic auth that accepts only a
// live installation token of the emulator that reaches the repository, as
// GitHub does. It counts refusals and records the usernames it saw.
type credGitServer struct {
	*httptest.Server
	refused   atomic.Int32
	mu        sync.Mutex
	usernames map[string]bool
}

func newCredGitServer(t *testing.T, em *emulator.Server, root string) *credGitServer {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  root,
		// REMOTE_USER turns on receive-pack (push) in http-backend.
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=app", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
	}
	s := &credGitServer{usernames: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
		user, pass, ok := r.BasicAuth()
		if len(parts) < 2 || !ok || !em.Authorize(pass, parts[0], strings.TrimSuffix(parts[1], ".git")) {
			if ok {
				s.refused.Add(1)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.usernames[user] = true
		s.mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// users returns the usernames of accepted requests, sorted.
func (s *credGitServer) users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.usernames))
	for u := range s.usernames {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// credRepos makes bare repositories owner/name.git under root, each with
// one commit on main.
func credRepos(t *testing.T, root string, names ...string) {
	t.Helper()
	env := credGitEnv(t.TempDir())
	os.MkdirAll(root, 0o755)
	for _, n := range names {
		bare := filepath.Join(root, n+".git")
		credMustGit(t, env, root, "init", "--quiet", "--bare", "--initial-branch=main", bare)
		work := t.TempDir()
		credMustGit(t, env, work, "init", "--quiet", "--initial-branch=main")
		os.WriteFile(filepath.Join(work, "README"), []byte(n+"\n"), 0o644)
		credMustGit(t, env, work, "add", "README")
		credMustGit(t, env, work, "commit", "--quiet", "-m", "first")
		credMustGit(t, env, work, "push", "--quiet", bare, "main")
	}
}

// TestCredentialWithGit runs real git against a git server that accepts
// only the emulator's tokens, with the built binary as its credential
// helper, configured by the binary's own setup-git.
func TestCredentialWithGit(t *testing.T) {
	t.Parallel()
	credNeedGit(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := credBuild(t, t.TempDir())

	// world is one emulator, git server and git configuration per subtest,
	// so that their request counts are their own.
	type world struct {
		*credWorld
		git  *credGitServer
		host string
		env  []string
	}
	newWorld := func(t *testing.T) *world {
		w := &world{credWorld: newCredWorld(t)}
		root := filepath.Join(w.dir, "srv")
		credRepos(t, root, "octo-org/alpha", "octo-org/beta", "octo-org/gamma", "octocat/hello-world")
		w.git = newCredGitServer(t, w.em, root)
		w.host = strings.TrimPrefix(w.git.URL, "http://")
		w.env = credGitEnv(w.dir, "APP_TOKEN_CACHE_DIR="+w.credWorld.env["APP_TOKEN_CACHE_DIR"])
		cmd := exec.Command(bin, "setup-git", "--host", w.git.URL, "--client-id", emulator.WorldClientID,
			"--private-key-file", w.keyFile, "--api-url", w.api.URL)
		cmd.Env = w.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("setup-git: %v\n%s", err, out)
		}
		return w
	}

	t.Run("clone fetch push with one token", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		work := t.TempDir()
		for _, repo := range []string{"alpha", "beta", "gamma"} {
			credMustGit(t, w.env, work, "clone", "--quiet", w.git.URL+"/octo-org/"+repo+".git")
		}
		alpha := filepath.Join(work, "alpha")
		credMustGit(t, w.env, alpha, "fetch", "--quiet")
		os.WriteFile(filepath.Join(alpha, "change"), []byte("x\n"), 0o644)
		credMustGit(t, w.env, alpha, "add", "change")
		credMustGit(t, w.env, alpha, "commit", "--quiet", "-m", "change")
		credMustGit(t, w.env, alpha, "push", "--quiet", "origin", "main")
		// The push arrived.
		other := t.TempDir()
		credMustGit(t, w.env, other, "clone", "--quiet", w.git.URL+"/octo-org/alpha.git")
		if _, err := os.Stat(filepath.Join(other, "alpha", "change")); err != nil {
			t.Error("the pushed commit is not on the server")
		}
		if n := w.count("POST", "/access_tokens"); n != 1 {
			t.Errorf("%d tokens minted for 3 clones, a fetch, a push and a clone, want 1", n)
		}
		if n := len(w.em.Requests()); n != 2 {
			t.Errorf("%d API requests in all, want 2", n)
		}
		if n := w.git.refused.Load(); n != 0 {
			t.Errorf("the git server refused %d requests", n)
		}
		if u := w.git.users(); !slices.Equal(u, []string{"x-access-token"}) {
			t.Errorf("usernames = %q, want only x-access-token", u)
		}
		// Another owner mints its own; a repository the app cannot reach fails.
		credMustGit(t, w.env, work, "clone", "--quiet", w.git.URL+"/octocat/hello-world.git")
		if n := w.count("POST", "/access_tokens"); n != 2 {
			t.Errorf("%d tokens minted after octocat's clone, want 2", n)
		}
		if _, err := credRunGit(t, w.env, work, "", "clone", "--quiet", w.git.URL+"/lonely-org/x.git"); err == nil {
			t.Error("clone of a repository without an installation succeeded")
		} else if !strings.Contains(err.Error(), "not installed on lonely-org/x") {
			t.Errorf("git's stderr does not carry the helper's reason: %v", err)
		}
	})

	t.Run("16 parallel credential fills mint one token", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		ask := fmt.Sprintf("protocol=http\nhost=%s\npath=octo-org/alpha.git\n\n", w.host)
		var wg sync.WaitGroup
		passwords := make([]string, 16)
		for i := range passwords {
			wg.Go(func() {
				out, err := credRunGit(t, w.env, w.dir, ask, "credential", "fill")
				if err != nil {
					t.Error(err)
					return
				}
				c, err := gitcred.Parse(strings.NewReader(out))
				if err != nil {
					t.Error(err)
					return
				}
				passwords[i] = c.Password
			})
		}
		wg.Wait()
		if n := w.count("POST", "/access_tokens"); n != 1 {
			t.Errorf("16 parallel fills minted %d tokens, want 1", n)
		}
		if n := w.count("GET", "/installation"); n != 1 {
			t.Errorf("16 parallel fills looked the installation up %d times, want 1", n)
		}
		for _, p := range passwords {
			if p == "" || p != passwords[0] {
				t.Fatalf("fills answered different or no tokens")
			}
		}
	})

	t.Run("revoked token is erased and replaced", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		work := t.TempDir()
		credMustGit(t, w.env, work, "clone", "--quiet", w.git.URL+"/octo-org/alpha.git")
		first := w.em.Tokens()[0].Value
		req, _ := http.NewRequest(http.MethodDelete, w.api.URL+"/installation/token", nil)
		req.Header.Set("Authorization", "token "+first)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %v %v", resp, err)
		}
		alpha := filepath.Join(work, "alpha")
		// git sends the cached (revoked) token, gets 401 and tells the
		// helper to erase it. Git 2.39 then gives up on this command
		// (newer gits may ask again at once); the next one gets a fresh
		// token either way.
		_, firstErr := credRunGit(t, w.env, alpha, "", "fetch", "--quiet")
		if w.git.refused.Load() == 0 {
			t.Fatal("the git server never saw the revoked token")
		}
		t.Logf("first fetch after the revocation: %v", firstErr)
		if firstErr != nil {
			credMustGit(t, w.env, alpha, "fetch", "--quiet")
		}
		if n := w.count("POST", "/access_tokens"); n != 2 {
			t.Errorf("%d tokens minted, want 2 (the revoked one and its replacement)", n)
		}
		if n := w.count("GET", "/installation"); n != 1 {
			t.Errorf("%d lookups, want 1", n)
		}
	})

	t.Run("corrupt cache is rebuilt", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		work := t.TempDir()
		credMustGit(t, w.env, work, "clone", "--quiet", w.git.URL+"/octo-org/alpha.git")
		cacheDir := filepath.Join(w.credWorld.env["APP_TOKEN_CACHE_DIR"], "git-credential")
		entries, err := os.ReadDir(cacheDir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("cache folder: %v, %d entries", err, len(entries))
		}
		for _, e := range entries {
			if err := os.WriteFile(filepath.Join(cacheDir, e.Name()), []byte("\x00garbage{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		credMustGit(t, w.env, filepath.Join(work, "alpha"), "fetch", "--quiet")
		credMustGit(t, w.env, filepath.Join(work, "alpha"), "fetch", "--quiet")
		if n := w.count("POST", "/access_tokens"); n != 2 {
			t.Errorf("%d tokens minted, want 2 (one before, one to rebuild the cache)", n)
		}
		fi, _ := os.Stat(cacheDir)
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
			t.Errorf("cache folder mode %v", fi.Mode().Perm())
		}
	})

	t.Run("action setup and undo", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		runnerTemp := filepath.Join(w.dir, "runner-temp")
		os.MkdirAll(runnerTemp, 0o700)
		// The job starts from a config of its own.
		credMustGit(t, w.env, w.dir, "config", "--global", "--unset-all", "credential."+w.git.URL+".helper")
		credMustGit(t, w.env, w.dir, "config", "--global", "--add", "credential."+w.git.URL+".helper", "store")
		credMustGit(t, w.env, w.dir, "config", "--global", "user.name", "Previous Name")
		before := credMustGit(t, w.env, w.dir, "config", "--global", "--list")

		app, err := appauth.New(emulator.WorldClientID, testKey(), appauth.WithBaseURL(w.api.URL))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := app.Mint(t.Context(), appauth.Request{Owner: emulator.WorldOrg})
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		c := newCLI(credGetenv(append(w.env, "RUNNER_TEMP="+runnerTemp)), strings.NewReader(""), &stdout, &stderr)
		const botName, botEmail = "octo-app[bot]", "41898282+octo-app[bot]@users.noreply.github.com"
		host, err := ghhost.ForGit(w.git.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		state, err := gitcred.SetupJob(t.Context(), gitcred.Job{
			Exe: bin, Host: host, Token: tok.Value, Owner: tok.Owner, ExpiresAt: tok.ExpiresAt,
			UserName: botName, UserEmail: botEmail, TempDir: runnerTemp, Git: c.gitConfig("--global"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(state, tok.Value.Reveal()) {
			t.Error("the state holds the token")
		}
		global, _ := os.ReadFile(credGetenv(w.env)("GIT_CONFIG_GLOBAL"))
		if bytes.Contains(global, []byte(tok.Value.Reveal())) {
			t.Error("the global git config holds the token in clear")
		}
		helperKey := "credential." + w.git.URL + ".helper"
		helpers := strings.Split(strings.TrimSuffix(credMustGit(t, w.env, w.dir, "config", "--global", "--get-all", helperKey), "\n"), "\n")
		prefix := "!" + gitcred.ShellQuote(bin) + " credential --token-file "
		if len(helpers) != 2 || helpers[0] != "" || !strings.HasPrefix(helpers[1], prefix) {
			t.Fatalf("helpers = %q, want a reset and %q...", helpers, prefix)
		}
		tokenFile := strings.Trim(strings.TrimPrefix(helpers[1], prefix), "'")
		if !strings.HasPrefix(tokenFile, runnerTemp) {
			t.Errorf("token file %s is not under RUNNER_TEMP", tokenFile)
		}
		if fi, err := os.Stat(tokenFile); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Errorf("token file: %v, %v", fi, err)
		}

		work := t.TempDir()
		credMustGit(t, w.env, work, "clone", "--quiet", w.git.URL+"/octo-org/beta.git")
		beta := filepath.Join(work, "beta")
		os.WriteFile(filepath.Join(beta, "bot"), []byte("x\n"), 0o644)
		credMustGit(t, w.env, beta, "add", "bot")
		// No GIT_AUTHOR_* here: the commit takes user.name and user.email.
		botEnv := slices.DeleteFunc(slices.Clone(w.env), func(kv string) bool {
			return strings.HasPrefix(kv, "GIT_AUTHOR_") || strings.HasPrefix(kv, "GIT_COMMITTER_")
		})
		credMustGit(t, botEnv, beta, "commit", "--quiet", "-m", "by the bot")
		credMustGit(t, w.env, beta, "push", "--quiet", "origin", "main")
		if author := credMustGit(t, w.env, beta, "log", "-1", "--format=%an <%ae>"); author != botName+" <"+botEmail+">\n" {
			t.Errorf("author = %q", author)
		}
		if n := w.count("POST", "/access_tokens"); n != 1 {
			t.Errorf("%d tokens minted, want only the action's", n)
		}

		if err := gitcred.UndoJob(t.Context(), c.gitConfig("--global"), state); err != nil {
			t.Fatal(err)
		}
		// Undo re-adds the keys at the end of their section: compare the
		// settings, not their order (values of one key keep theirs).
		sortLines := func(s string) string {
			l := strings.Split(s, "\n")
			slices.Sort(l)
			return strings.Join(l, "\n")
		}
		if after := credMustGit(t, w.env, w.dir, "config", "--global", "--list"); sortLines(after) != sortLines(before) {
			t.Errorf("config after undo:\n%s\nwant:\n%s", after, before)
		}
		if _, err := os.Stat(filepath.Dir(tokenFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("token folder remains: %v", err)
		}
		if err := gitcred.UndoJob(t.Context(), c.gitConfig("--global"), ""); err != nil {
			t.Errorf("undo of nothing: %v", err)
		}
		if err := gitcred.UndoJob(t.Context(), c.gitConfig("--global"), "{not json"); err == nil {
			t.Error("undo of garbage state succeeded")
		}
	})
}
