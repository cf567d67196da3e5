package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/userdir"
)

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
APP_TOKEN_PRIVATE_KEY (the PEM itself), APP_TOKEN_API_URL (or the web URL,
APP_TOKEN_GITHUB_URL). Without an API URL, github.com uses
https://api.github.com, NAME.ghe.com https://api.NAME.ghe.com and any other
host https://HOST/api/v3.

Only protocol https (and http for loopback hosts) on the configured host is
answered. Diagnostics go to stderr; stdout carries git's protocol only.
Set APP_TOKEN_DEBUG=1 (or --debug) to see each decision on stderr.
`

// registerCredential adds the flags that both "credential" and "setup-git"
// take.
func (s *settings) registerCredential(fs *flag.FlagSet) {
	s.registerApp(fs, "derived from the host")
	fs.StringVar(&s.host, "host", "", "the git `host` to answer for (default github.com, or the host of --api-url or $"+envGitHubURL+")")
	fs.StringVar(&s.owner, "owner", "", "the account whose installation serves requests that name no repository")
	fs.StringVar(&s.repositories, "repositories", "", "narrow tokens to these repositories of the owner (comma-separated)")
	fs.Var(&s.permissions, "permission", "narrow tokens to `name=level` (repeatable), e.g. contents=read")
	fs.BoolVar(&s.user, "user", false, "answer with the signed-in user's token (app-token login) instead of an installation token")
}

// credentialSettings parses the flags of credential and setup-git and
// resolves the host they answer for and the repositories they narrow to.
func (c *cli) credentialSettings(fs *flag.FlagSet, s *settings, args []string) (ghhost.Host, []string, string, error) {
	if err := c.parse(fs, args); err != nil {
		return ghhost.Host{}, nil, "", err
	}
	s.resolve(fs, c.getenv)
	host, err := s.ghHost()
	if err != nil {
		return ghhost.Host{}, nil, "", err
	}
	if s.owner != "" && !appauth.ValidOwner(s.owner) {
		return ghhost.Host{}, nil, "", usagef("--owner: %q is not a GitHub account name", s.owner)
	}
	repos, reposOwner, err := appauth.ParseRepositories(s.repositories, s.owner, "--repositories")
	if err != nil {
		return ghhost.Host{}, nil, "", &usageError{msg: err.Error()}
	}
	return host, repos, reposOwner, nil
}

func (c *cli) cmdCredential(ctx context.Context, args []string) error {
	fs := c.flags("credential", "get|store|erase", credentialHelp)
	var s settings
	s.registerCredential(fs)
	fs.StringVar(&s.tokenFile, "token-file", "", "serve the one token in this `file` (written by the action's setup-git) instead of minting")
	fs.BoolVar(&s.debug, "debug", false, "explain each decision on stderr (also "+envDebug+"=1)")
	host, repos, reposOwner, err := c.credentialSettings(fs, &s, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usagef("credential: give one operation, get, store or erase (git adds it to the helper's command)")
	}
	note := func(format string, args ...any) { fmt.Fprintf(c.stderr, "app-token credential: "+format+"\n", args...) }
	var keyName string
	cfg := gitcred.Config{
		Host: host, TokenFile: s.tokenFile,
		AppID: s.issuer(), Owner: s.owner, Repositories: repos, RepositoriesOwner: reposOwner, Permissions: s.permissions,
		Key: func() ([]byte, error) {
			if s.issuer() == "" {
				return nil, usagef("credential: no app: pass --client-id or --app-id, or set %s or %s", envClientID, envAppID)
			}
			raw, name, err := s.key()
			keyName = name
			return raw, err
		},
		NewApp: func(raw []byte) (gitcred.Minter, error) {
			key, _, err := appauth.ParsePrivateKey(string(raw))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", keyName, err)
			}
			return appauth.New(s.issuer(), key, c.appOptions(host, flagNames, c.debugf(&s, "app-token credential: "))...)
		},
		Now: c.now, Debugf: c.debugf(&s, "app-token credential: "), Notef: note,
	}
	if s.user {
		flagClientID := ""
		if s.given["client-id"] {
			flagClientID = s.clientID
		}
		cfg.UserToken = func(ctx context.Context, webURL string) (string, time.Time, error) {
			return c.signedInToken(ctx, webURL, flagClientID)
		}
	}
	if dir, err := userdir.Find(c.getenv, false, envCacheDir); err != nil {
		cfg.CacheErr = err
	} else {
		cfg.CacheDir = filepath.Join(dir, "git-credential")
	}
	return oneLine(gitcred.Serve(ctx, cfg, fs.Arg(0), c.stdin, c.stdout))
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
	var s settings
	s.registerCredential(fs)
	unset := fs.Bool("unset", false, "remove app-token's configuration for the host instead")
	fs.Bool("global", true, "write the user's global git configuration (the default)")
	file := fs.String("file", "", "write this git configuration `file` instead of the global one")
	host, _, _, err := c.credentialSettings(fs, &s, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usagef("setup-git takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	git := c.gitConfig("--global")
	where := "the global git configuration"
	if *file != "" {
		abs, err := filepath.Abs(*file)
		if err != nil {
			return usagef("setup-git: --file: %v", err)
		}
		git.Scope, where = []string{"--file", abs}, abs
	}
	base := host.GitURL()
	helperKey := "credential." + base + ".helper"
	pathKey := "credential." + base + ".useHttpPath"
	if *unset {
		for _, k := range []string{helperKey, pathKey} {
			if err := git.Unset(ctx, k); err != nil {
				return fmt.Errorf("setup-git --unset: %w", err)
			}
		}
		fmt.Fprintf(c.stdout, "Removed app-token's credential helper for %s from %s.\n", base, where)
		return nil
	}
	helper, err := s.helperArgs(host)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("setup-git: find this program: %w", err)
	}
	for _, st := range [][]string{
		{"--replace-all", helperKey, ""},
		{"--add", helperKey, gitcred.HelperCommand(exe, helper...)},
		{pathKey, "true"},
	} {
		if err := git.Set(ctx, st...); err != nil {
			return fmt.Errorf("setup-git: %w", err)
		}
	}
	fmt.Fprintf(c.stdout, "Configured git to use app-token for %s in %s.\n", base, where)
	if s.issuer() == "" && !s.user {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --client-id or --app-id: set %s or %s where git runs\n", envClientID, envAppID)
	}
	if s.keyFile == "" && !s.user && s.env(envPrivateKey) == "" && s.env(envPrivateKeyFile) == "" {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --private-key-file: set %s or %s where git runs\n", envPrivateKeyFile, envPrivateKey)
	}
	return nil
}

// helperArgs are the arguments of the credential helper setup-git writes:
// the settings given as flags (those from the environment are read again
// where git runs), and always the host, so that the helper answers for the
// host git asks it about. The private key itself is never written.
func (s *settings) helperArgs(host ghhost.Host) ([]string, error) {
	args := []string{"credential"}
	add := func(flag, v string) {
		if v != "" && s.given[strings.TrimPrefix(flag, "--")] {
			args = append(args, flag, v)
		}
	}
	add("--client-id", s.clientID)
	add("--app-id", s.appID)
	if s.keyFile != "" {
		abs, err := filepath.Abs(s.keyFile)
		if err != nil {
			return nil, usagef("setup-git: --private-key-file: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, usagef("setup-git: --private-key-file: %v", err)
		}
		add("--private-key-file", abs)
	}
	add("--api-url", s.apiURL)
	switch {
	case host.GitURL() != "https://"+host.GitHost():
		args = append(args, "--host", host.GitURL()) // plain http (loopback)
	case !host.IsGitHubCom() || s.given["api-url"]:
		args = append(args, "--host", host.GitHost())
	}
	add("--owner", s.owner)
	add("--repositories", s.repositories)
	for _, p := range s.permissions.args() {
		args = append(args, "--permission", p)
	}
	if s.user {
		args = append(args, "--user")
	}
	return args, nil
}

// gitEnvKeys are the variables that say where git's configuration lives.
// git runs with the process's environment, but these are read through
// getenv, so that tests can point git at their own files.
var gitEnvKeys = []string{"HOME", "USERPROFILE", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"}

// gitConfig edits scope of git's configuration with git's location
// variables taken from getenv.
func (c *cli) gitConfig(scope ...string) gitcred.GitConfig {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(gitEnvKeys, k)
	})
	for _, k := range gitEnvKeys {
		if v := c.getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return gitcred.GitConfig{Scope: scope, Env: env}
}
