package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/gitcred"
)

// credTimeout bounds one "credential get" from start to answer: lookups,
// minting, retries and the wait for another process's lock. Git waits for
// its helper without a limit of its own, so the helper must have one.
const credTimeout = 45 * time.Second

const credentialHelp = `
Act as a git credential helper: git runs "app-token credential ... get"
when it needs a password for an https remote, and app-token answers with an
installation access token of the GitHub App (username x-access-token).

With credential.useHttpPath true, git says which repository it wants; the
token is minted for the installation that holds it, covering all the
installation's repositories, so one token serves every repository of the
owner. Tokens are cached (sealed, mode 0600, in a private folder under the
user cache folder, or APP_TOKEN_CACHE_DIR) and reused by every git process
until 5 minutes before they expire; concurrent gits mint one token between
them. "erase" (git sends it after a 401) drops the cached token, so that the
next "get" mints a fresh one. "store" does nothing.

Set it up with "app-token setup-git", or by hand:

  git config --global credential.https://github.com.helper ''
  git config --global --add credential.https://github.com.helper \
    '!app-token credential --client-id Iv23... --private-key-file /path/key.pem'
  git config --global credential.https://github.com.useHttpPath true

Settings left out of the command line come from the environment:
APP_TOKEN_CLIENT_ID or APP_TOKEN_APP_ID, APP_TOKEN_PRIVATE_KEY_FILE or
APP_TOKEN_PRIVATE_KEY (the PEM itself), APP_TOKEN_API_URL. Without an API URL,
github.com uses https://api.github.com and any other host https://HOST/api/v3.

Only protocol https (and http for loopback hosts) on the configured host is
answered. Diagnostics go to stderr; stdout carries git's protocol only.
Set APP_TOKEN_DEBUG=1 (or --debug) to see each decision on stderr.
`

// credSettings are the credential helper's settings, from flags first and
// the environment second.
type credSettings struct {
	clientID     string
	flagClientID string // --client-id as given, before the environment
	appID        string
	keyFile      string
	apiURL       string
	host         string
	owner        string
	repositories string
	permissions  credPermissions
	user         bool
	tokenFile    string
	debug        bool
}

// register adds the flags that both "credential" and "setup-git" take.
func (s *credSettings) register(fs *flag.FlagSet) {
	s.registerApp(fs, "derived from the host")
	fs.StringVar(&s.host, "host", "", "the git `host` to answer for (default github.com, or the --api-url's host)")
	fs.StringVar(&s.owner, "owner", "", "the account whose installation serves requests that name no repository")
	fs.StringVar(&s.repositories, "repositories", "", "narrow tokens to these repositories of the owner (comma-separated)")
	fs.Var(&s.permissions, "permission", "narrow tokens to `name=level` (repeatable), e.g. contents=read")
	fs.BoolVar(&s.user, "user", false, "answer with the signed-in user's token (app-token login) instead of an installation token")
}

// credPermissions is the repeatable --permission flag.
type credPermissions map[string]string

func (p *credPermissions) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.args(), ",")
}

func (p *credPermissions) Set(v string) error {
	name, level, ok := strings.Cut(v, "=")
	name = strings.ReplaceAll(strings.TrimSpace(name), "-", "_")
	level = strings.TrimSpace(level)
	if !ok {
		return fmt.Errorf("%q is not name=level (e.g. contents=read)", v)
	}
	if err := appauth.CheckPermission(name, level, "--permission"); err != nil {
		return err
	}
	if *p == nil {
		*p = credPermissions{}
	}
	(*p)[name] = level
	return nil
}

// args returns the permissions as sorted name=level strings.
func (p credPermissions) args() []string {
	out := make([]string, 0, len(p))
	for n, l := range p {
		out = append(out, n+"="+l)
	}
	slices.Sort(out)
	return out
}

// fromEnv fills what the flags left empty from the environment.
func (s *credSettings) fromEnv(getenv func(string) string) {
	if s.clientID == "" && s.appID == "" {
		s.clientID = getenv("APP_TOKEN_CLIENT_ID")
		s.appID = getenv("APP_TOKEN_APP_ID")
	}
	if s.apiURL == "" {
		s.apiURL = getenv("APP_TOKEN_API_URL")
	}
	if getenv("APP_TOKEN_DEBUG") != "" {
		s.debug = true
	}
}

func (s *credSettings) issuer() string {
	if s.clientID != "" {
		return s.clientID
	}
	return s.appID
}

// gitHost returns the host to answer for: --host (validated by the
// caller), else the API URL's host (api.github.com and
// api.SUBDOMAIN.ghe.com lose their "api."), else github.com.
func (s *credSettings) gitHost() string {
	if s.host != "" {
		if _, h, err := credHostURL(s.host); err == nil {
			return h
		}
		return s.host
	}
	if s.apiURL != "" {
		if u, err := url.Parse(s.apiURL); err == nil && u.Host != "" {
			if h, ok := strings.CutPrefix(u.Host, "api."); ok && strings.Trim(u.Path, "/") == "" {
				return h
			}
			return u.Host
		}
	}
	return "github.com"
}

// apiFor returns the REST API root for a git host: --api-url when given,
// else https://api.github.com for github.com and https://HOST/api/v3 (GHES)
// for any other host.
func (s *credSettings) apiFor(protocol, host string) string {
	if s.apiURL != "" {
		return s.apiURL
	}
	if strings.EqualFold(host, "github.com") {
		return appauth.DefaultAPIURL
	}
	return protocol + "://" + host + "/api/v3"
}

// credHostURL splits a host given as "HOST[:PORT]" or "SCHEME://HOST[:PORT]"
// into the URL git's credential configuration is keyed by and the host.
func credHostURL(host string) (base, hostport string, err error) {
	h := strings.TrimSpace(host)
	scheme := "https"
	if s, rest, ok := strings.Cut(h, "://"); ok {
		scheme, h = strings.ToLower(s), rest
	}
	h = strings.TrimSuffix(h, "/")
	if h == "" || strings.ContainsAny(h, "/?#@ \t\n") || (scheme != "https" && scheme != "http") {
		return "", "", fmt.Errorf("%q is not a git host such as github.com or https://ghe.example.com", host)
	}
	if scheme == "http" && !credLoopback(h) {
		return "", "", fmt.Errorf("%q: plain http is only for loopback hosts (tests); use https", host)
	}
	return scheme + "://" + h, h, nil
}

// credLoopback reports whether host (with an optional port) is this machine.
func credLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// credServes reports why app-token does not answer req for host, or ""
// when it does: only https (or http to a loopback host, for tests), and
// only the configured host.
func credServes(req *gitcred.Credential, host string) string {
	switch {
	case req.Host == "":
		return "git named no host"
	case !strings.EqualFold(req.Host, host):
		return fmt.Sprintf("host %q is not the configured %q", req.Host, host)
	case req.Protocol == "https":
		return ""
	case req.Protocol == "http" && credLoopback(req.Host):
		return ""
	default:
		return fmt.Sprintf("protocol %q is not https", req.Protocol)
	}
}

func (c *cli) cmdCredential(ctx context.Context, args []string) error {
	fs := c.flags("credential", "get|store|erase", credentialHelp)
	var s credSettings
	s.register(fs)
	fs.StringVar(&s.tokenFile, "token-file", "", "serve the one token in this `file` (written by the action's setup-git) instead of minting")
	fs.BoolVar(&s.debug, "debug", false, "explain each decision on stderr (also APP_TOKEN_DEBUG=1)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("credential: give one operation, get, store or erase (git adds it to the helper's command)")
	}
	s.flagClientID = s.clientID
	s.fromEnv(c.getenv)
	if s.host != "" {
		if _, _, err := credHostURL(s.host); err != nil {
			return usagef("credential: --host: %v", err)
		}
	}
	switch fs.Arg(0) {
	case "get":
		return c.credGet(ctx, &s)
	case "erase":
		return c.credErase(ctx, &s)
	default:
		// store: app-token keeps what it mints itself. Any other operation:
		// gitcredentials(7) says "If a helper receives any other operation,
		// it should silently ignore the request". Either way read the
		// request, so that git never writes to a closed pipe.
		io.Copy(io.Discard, io.LimitReader(c.stdin, 1<<20))
		return nil
	}
}

func (c *cli) credDebugf(s *credSettings) func(format string, args ...any) {
	if !s.debug {
		return nil
	}
	return func(format string, args ...any) {
		fmt.Fprintf(c.stderr, "app-token credential: "+format+"\n", args...)
	}
}

func (c *cli) credGet(ctx context.Context, s *credSettings) error {
	req, err := gitcred.Parse(c.stdin)
	if err != nil {
		return fmt.Errorf("credential get: %w", err)
	}
	debugf := c.credDebugf(s)
	if debugf == nil {
		debugf = func(string, ...any) {}
	}
	if s.tokenFile != "" {
		return c.credFromFile(s, req, debugf)
	}
	host := s.gitHost()
	if why := credServes(req, host); why != "" {
		debugf("no answer: %s", why)
		return nil
	}
	if s.user {
		return c.credUser(ctx, s, req)
	}
	return c.credInstallation(ctx, s, req, debugf)
}

// credTarget resolves which owner and repository a request is for, and
// whether app-token should answer it: a reason is returned when not.
func (s *credSettings) credTarget(req *gitcred.Credential) (owner, repo string, repos []string, why string, err error) {
	owner, repo = req.Repository()
	if owner == "" {
		if s.owner == "" {
			return "", "", nil, fmt.Sprintf("git did not say which repository it wants on %s: set 'git config --global credential.%s://%s.useHttpPath true' (app-token setup-git does), or pass --owner", req.Host, req.Protocol, req.Host), nil
		}
		owner, repo = s.owner, ""
	}
	if !appauth.ValidOwner(owner) {
		return "", "", nil, fmt.Sprintf("%q is not a GitHub account name", owner), nil
	}
	if s.repositories != "" {
		repos, _, err = appauth.ParseRepositories(s.repositories, "", "--repositories")
		if err != nil {
			return "", "", nil, "", &usageError{msg: err.Error()}
		}
		if _, _, err := appauth.ParseRepositories(s.repositories, owner, "--repositories"); err != nil {
			return "", "", nil, fmt.Sprintf("--repositories names another owner than %s", owner), nil
		}
		if repo != "" && !appauth.HasRepository(repos, repo) {
			return "", "", nil, fmt.Sprintf("%s/%s is not in --repositories", owner, repo), nil
		}
	}
	return owner, repo, repos, "", nil
}

// credKey returns the private key as given (file contents or the PEM from
// the environment) and how the user named it. Reading it is cheap; it is
// parsed only when a token must be minted.
func (c *cli) credKey(s *credSettings) ([]byte, string, error) {
	file, name := s.keyFile, "--private-key-file"
	if file == "" {
		if pemText := c.getenv("APP_TOKEN_PRIVATE_KEY"); pemText != "" {
			return []byte(pemText), "APP_TOKEN_PRIVATE_KEY", nil
		}
		file, name = c.getenv("APP_TOKEN_PRIVATE_KEY_FILE"), "APP_TOKEN_PRIVATE_KEY_FILE"
	}
	if file == "" {
		return nil, "", usagef("credential: no private key: pass --private-key-file, or set APP_TOKEN_PRIVATE_KEY_FILE or APP_TOKEN_PRIVATE_KEY")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return b, name, nil
}

// credCacheDir is where the helper keeps its cache: APP_TOKEN_CACHE_DIR,
// else app-token's folder in the user cache folder.
func credCacheDir(getenv func(string) string) (string, error) {
	dir, err := userDir(getenv, false, "APP_TOKEN_CACHE_DIR")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "git-credential"), nil
}

// credNames names settings in appauth's advice as the helper's user sets
// them.
func credNames(name string) string {
	switch name {
	case "client-id":
		return "--client-id (or APP_TOKEN_CLIENT_ID)"
	case "private-key":
		return "the private key (--private-key-file, APP_TOKEN_PRIVATE_KEY_FILE or APP_TOKEN_PRIVATE_KEY)"
	case "owner":
		return "--owner"
	case "repositories":
		return "--repositories"
	case "installation-id":
		return "the app's installations (app-token installations)"
	}
	if p, ok := strings.CutPrefix(name, "permission-"); ok {
		return "--permission " + strings.ReplaceAll(p, "-", "_")
	}
	return name
}

func (c *cli) credInstallation(ctx context.Context, s *credSettings, req *gitcred.Credential, debugf func(string, ...any)) error {
	owner, repo, repos, why, err := s.credTarget(req)
	if err != nil {
		return err
	}
	if why != "" {
		fmt.Fprintf(c.stderr, "app-token credential: no answer: %s\n", why)
		return nil
	}
	issuer := s.issuer()
	if issuer == "" {
		return usagef("credential: no app: pass --client-id or --app-id, or set APP_TOKEN_CLIENT_ID or APP_TOKEN_APP_ID")
	}
	apiURL := s.apiFor(req.Protocol, req.Host)
	if err := appauth.ValidateAPIURL(apiURL); err != nil {
		return usagef("credential: --api-url: %v", err)
	}
	keyText, keyName, err := c.credKey(s)
	if err != nil {
		return err
	}
	h := &gitcred.Helper{
		APIURL:       apiURL,
		AppID:        issuer,
		Repositories: repos,
		Permissions:  s.permissions,
		Now:          c.now,
		Debugf:       debugf,
		App: func() (gitcred.Minter, error) {
			key, _, err := appauth.ParsePrivateKey(string(keyText))
			if err != nil {
				return nil, &authError{fmt.Errorf("%s: %w", keyName, err)}
			}
			opts := []appauth.Option{
				appauth.WithBaseURL(apiURL), appauth.WithHTTPClient(c.http), appauth.WithClock(c.now),
				appauth.WithWait(c.wait), appauth.WithNames(credNames),
			}
			if s.debug {
				opts = append(opts, appauth.WithDebug(debugf))
			}
			return appauth.New(issuer, key, opts...)
		},
	}
	if dir, err := credCacheDir(c.getenv); err != nil {
		fmt.Fprintf(c.stderr, "app-token credential: not caching tokens: %v\n", err)
	} else if h.Cache, err = gitcred.Open(dir, keyText, c.now); err != nil {
		fmt.Fprintf(c.stderr, "app-token credential: not caching tokens: %v\n", err)
		h.Cache = nil
	}
	ctx, cancel := context.WithTimeout(ctx, credTimeout)
	defer cancel()
	where := owner
	if repo != "" {
		where += "/" + repo
	}
	tok, _, err := h.Get(ctx, owner, repo)
	if err != nil {
		return credFailure(ctx, "no installation token for "+where, err)
	}
	return c.credAnswer(gitcred.Username, tok.Value.Reveal(), tok.ExpiresAt)
}

// credAnswer writes the answer to get: all of it, or nothing.
func (c *cli) credAnswer(username, password string, expiry time.Time) error {
	out := &gitcred.Credential{Username: username, Password: password, PasswordExpiry: expiry}
	b, err := out.Format()
	if err != nil {
		return fmt.Errorf("credential get: %w", err)
	}
	_, err = c.stdout.Write(b)
	return err
}

// credFailure turns a failure to mint into one line (no secret: appauth's
// errors hold none) with the exit code it deserves: 4 when GitHub refused
// the app or knows no installation, or the key is bad.
func credFailure(ctx context.Context, what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = fmt.Errorf("no answer within %s", credTimeout)
	}
	e := fmt.Errorf("%s: %s", what, strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "))
	var ae *appauth.APIError
	var ke *appauth.KeyError
	var auth *authError
	switch {
	case errors.As(err, &auth), errors.As(err, &ke):
		return &authError{e}
	case errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403 || ae.Status == 404):
		return &authError{e}
	}
	return e
}

func (c *cli) credErase(ctx context.Context, s *credSettings) error {
	req, err := gitcred.Parse(c.stdin)
	if err != nil || s.tokenFile != "" || s.user || req.Password == "" {
		// Nothing of ours to forget: a token file's token is the job's,
		// and the signed-in user's tokens belong to their store.
		return nil
	}
	if credServes(req, s.gitHost()) != "" || req.Username != gitcred.Username {
		return nil
	}
	owner, _, _, why, err := s.credTarget(req)
	if err != nil || why != "" {
		return nil
	}
	keyText, _, err := c.credKey(s)
	if err != nil {
		return nil
	}
	dir, err := credCacheDir(c.getenv)
	if err != nil {
		return nil
	}
	cache, err := gitcred.Open(dir, keyText, c.now)
	if err != nil {
		return nil
	}
	h := &gitcred.Helper{
		Cache:        cache,
		APIURL:       s.apiFor(req.Protocol, req.Host),
		AppID:        s.issuer(),
		Repositories: nil,
		Permissions:  s.permissions,
		Now:          c.now,
		Debugf:       c.credDebugf(s),
	}
	h.Repositories, _, _ = appauth.ParseRepositories(s.repositories, "", "--repositories")
	h.Erase(ctx, owner, req.Password)
	return nil
}

// credUser answers with the signed-in user's token. GitHub accepts any
// username with a token; git's own username is kept when it sent one (so
// that it matches what the remote URL says), else "oauth2" names the kind
// of credential.
func (c *cli) credUser(ctx context.Context, s *credSettings, req *gitcred.Credential) error {
	ctx, cancel := context.WithTimeout(ctx, credTimeout)
	defer cancel()
	githubURL := req.Protocol + "://" + req.Host
	token, expiry, err := c.signedInToken(ctx, githubURL, s.flagClientID)
	if err != nil {
		// signedInToken's errors already say what to do (sign in, set the
		// passphrase, pick a client ID); keep their exit code.
		msg := fmt.Sprintf("no signed-in user's token for %s: %s", githubURL, strings.ReplaceAll(err.Error(), "\n", "; "))
		switch exitCode(err) {
		case exitUsage:
			return &usageError{msg: msg}
		case exitError:
			return errors.New(msg)
		}
		return &authError{errors.New(msg)}
	}
	username := req.Username
	if username == "" {
		username = "oauth2"
	}
	return c.credAnswer(username, token, expiry)
}

// credFromFile answers with the token the action left in --token-file,
// when git asks about its host and, if it names one, its owner.
func (c *cli) credFromFile(s *credSettings, req *gitcred.Credential, debugf func(string, ...any)) error {
	f, err := gitcred.ReadTokenFile(s.tokenFile)
	if err != nil {
		return fmt.Errorf("credential get: %w", err)
	}
	if why := credServes(req, f.Host); why != "" {
		debugf("no answer: %s", why)
		return nil
	}
	if owner, _ := req.Repository(); owner != "" && f.Owner != "" && !strings.EqualFold(owner, f.Owner) {
		debugf("no answer: the token is for %s, not %s", f.Owner, owner)
		return nil
	}
	if !f.ExpiresAt.IsZero() && !c.now().Before(f.ExpiresAt) {
		return &authError{fmt.Errorf("the token in %s expired at %s: run the job again", s.tokenFile, f.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	return c.credAnswer(gitcred.Username, f.Token.Reveal(), f.ExpiresAt)
}

const setupGitHelp = `
Configure git to ask app-token for credentials for one host (default
github.com): it resets the credential helpers configured for that host (an
empty "helper =" line, as "gh auth setup-git" does), adds
"app-token credential" with the flags given here, and sets
credential.useHttpPath so that git says which repository it wants.
Settings not given as flags are read from the environment when git runs the
helper (APP_TOKEN_CLIENT_ID, APP_TOKEN_PRIVATE_KEY_FILE, ...): a job can set
them once. The private key itself is never written into git's configuration.

--unset removes the helper and useHttpPath for the host again.
`

func (c *cli) cmdSetupGit(ctx context.Context, args []string) error {
	fs := c.flags("setup-git", "", setupGitHelp)
	var s credSettings
	s.register(fs)
	unset := fs.Bool("unset", false, "remove app-token's configuration for the host instead")
	fs.Bool("global", true, "write the user's global git configuration (the default)")
	file := fs.String("file", "", "write this git configuration `file` instead of the global one")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usagef("setup-git takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	scope := []string{"--global"}
	where := "the global git configuration"
	if *file != "" {
		abs, err := filepath.Abs(*file)
		if err != nil {
			return usagef("setup-git: --file: %v", err)
		}
		scope, where = []string{"--file", abs}, abs
	}
	hostArg := s.gitHost()
	if s.host != "" {
		hostArg = s.host
	}
	base, host, err := credHostURL(hostArg)
	if err != nil {
		return usagef("setup-git: --host: %v", err)
	}
	helperKey := "credential." + base + ".helper"
	pathKey := "credential." + base + ".useHttpPath"
	if *unset {
		for _, k := range []string{helperKey, pathKey} {
			if err := c.gitConfig(scope...).Unset(ctx, k); err != nil {
				return fmt.Errorf("setup-git --unset: %w", err)
			}
		}
		fmt.Fprintf(c.stdout, "Removed app-token's credential helper for %s from %s.\n", base, where)
		return nil
	}
	helper, err := s.helperCommand(host)
	if err != nil {
		return err
	}
	steps := [][]string{
		{"--replace-all", helperKey, ""},
		{"--add", helperKey, helper},
		{pathKey, "true"},
	}
	for _, st := range steps {
		if err := c.gitConfig(scope...).Set(ctx, st...); err != nil {
			return fmt.Errorf("setup-git: %w", err)
		}
	}
	fmt.Fprintf(c.stdout, "Configured git to use app-token for %s in %s.\n", base, where)
	s.fromEnv(c.getenv)
	if s.issuer() == "" && !s.user {
		fmt.Fprintln(c.stderr, "app-token setup-git: note: no --client-id or --app-id: set APP_TOKEN_CLIENT_ID or APP_TOKEN_APP_ID where git runs")
	}
	if s.keyFile == "" && !s.user && c.getenv("APP_TOKEN_PRIVATE_KEY") == "" && c.getenv("APP_TOKEN_PRIVATE_KEY_FILE") == "" {
		fmt.Fprintln(c.stderr, "app-token setup-git: note: no --private-key-file: set APP_TOKEN_PRIVATE_KEY_FILE or APP_TOKEN_PRIVATE_KEY where git runs")
	}
	return nil
}

// helperCommand returns the credential.helper value that runs this binary
// with the settings given as flags. It is a shell snippet ("!..."), as git
// runs helpers through the shell; every argument is quoted.
func (s *credSettings) helperCommand(host string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("setup-git: find this program: %w", err)
	}
	args := []string{exe, "credential"}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	add("--client-id", s.clientID)
	add("--app-id", s.appID)
	if s.keyFile != "" {
		abs, err := filepath.Abs(s.keyFile)
		if err != nil {
			return "", usagef("setup-git: --private-key-file: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", usagef("setup-git: --private-key-file: %v", err)
		}
		add("--private-key-file", abs)
	}
	if s.apiURL != "" {
		if err := appauth.ValidateAPIURL(s.apiURL); err != nil {
			return "", usagef("setup-git: --api-url: %v", err)
		}
		add("--api-url", s.apiURL)
	}
	if host != "github.com" || s.apiURL != "" {
		add("--host", host)
	}
	if s.owner != "" {
		if !appauth.ValidOwner(s.owner) {
			return "", usagef("setup-git: --owner: %q is not a GitHub account name", s.owner)
		}
		add("--owner", s.owner)
	}
	if s.repositories != "" {
		if _, _, err := appauth.ParseRepositories(s.repositories, s.owner, "--repositories"); err != nil {
			return "", &usageError{msg: "setup-git: " + err.Error()}
		}
		add("--repositories", s.repositories)
	}
	for _, p := range s.permissions.args() {
		add("--permission", p)
	}
	if s.user {
		args = append(args, "--user")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = credShellQuote(a)
	}
	return "!" + strings.Join(quoted, " "), nil
}

// credShellQuote quotes s for sh when it holds anything but plainly safe
// characters.
func credShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// credGitEnvKeys are the variables that say where git's configuration
// lives. git runs with the process's environment, but these are read
// through getenv, so that tests can point git at their own files.
var credGitEnvKeys = []string{"HOME", "USERPROFILE", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"}

// gitConfig edits scope of git's configuration with git's location
// variables taken from getenv.
func (c *cli) gitConfig(scope ...string) gitcred.GitConfig {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(credGitEnvKeys, k)
	})
	for _, k := range credGitEnvKeys {
		if v := c.getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return gitcred.GitConfig{Scope: scope, Env: env}
}

// credActionState is what actionSetupGit changed, for actionUndoGit: the
// token's folder, and the earlier values of each key it set.
type credActionState struct {
	Dir  string            `json:"dir"`
	Keys []gitcred.Setting `json:"keys"`
}

// credActionDirPrefix starts the name of the folder actionSetupGit makes;
// actionUndoGit deletes nothing else.
const credActionDirPrefix = "app-token-git-"

// actionSetupGit configures git globally for the rest of the job: tok
// answers for host (and its owner's repositories) through a credential
// helper that reads it from a 0600 file under RUNNER_TEMP, so that no git
// configuration holds the token; user.name and user.email are set when
// given. It returns the state actionUndoGit needs. On failure it undoes
// what it did.
func (c *cli) actionSetupGit(ctx context.Context, host string, tok *appauth.Token, userName, userEmail string) (state string, err error) {
	base, hostport, err := credHostURL(host)
	if err != nil {
		return "", fmt.Errorf("setup-git: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("setup-git: find this program: %w", err)
	}
	root := c.getenv("RUNNER_TEMP")
	if root == "" {
		root = os.TempDir()
	}
	dir, err := os.MkdirTemp(root, credActionDirPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("setup-git: %w", err)
	}
	st := credActionState{Dir: dir}
	defer func() {
		if err != nil {
			b, _ := json.Marshal(st)
			c.actionUndoGit(context.WithoutCancel(ctx), string(b))
			state = ""
		}
	}()
	file := filepath.Join(dir, "token.json")
	if err := gitcred.WriteTokenFile(file, gitcred.TokenFile{Host: hostport, Owner: tok.Owner, Token: tok.Value, ExpiresAt: tok.ExpiresAt}); err != nil {
		return "", fmt.Errorf("setup-git: write the token file: %w", err)
	}
	// The empty value first resets the helpers set for the host
	// elsewhere (gitcredentials(7): "If credential.helper is configured to
	// the empty string, this resets the helper list to empty").
	sets := []gitcred.Setting{
		{Key: "credential." + base + ".helper", Values: []string{"", "!" + credShellQuote(exe) + " credential --token-file " + credShellQuote(file)}},
		{Key: "credential." + base + ".useHttpPath", Values: []string{"true"}},
	}
	if userName != "" {
		sets = append(sets, gitcred.Setting{Key: "user.name", Values: []string{userName}})
	}
	if userEmail != "" {
		sets = append(sets, gitcred.Setting{Key: "user.email", Values: []string{userEmail}})
	}
	if st.Keys, err = c.gitConfig("--global").Replace(ctx, sets); err != nil {
		return "", fmt.Errorf("setup-git: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// actionUndoGit restores what actionSetupGit changed in the global git
// configuration and deletes the token file. An empty state undoes nothing.
// It goes on past failures and reports them all.
func (c *cli) actionUndoGit(ctx context.Context, state string) error {
	if strings.TrimSpace(state) == "" {
		return nil
	}
	var st credActionState
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		return fmt.Errorf("undo setup-git: the saved state is not app-token's: %w", err)
	}
	var errs []error
	if err := c.gitConfig("--global").Restore(ctx, st.Keys); err != nil {
		errs = append(errs, err)
	}
	if st.Dir != "" && strings.HasPrefix(filepath.Base(st.Dir), credActionDirPrefix) {
		if err := os.RemoveAll(st.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("undo setup-git: %w", err)
	}
	return nil
}
