package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/signer"
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
APP_TOKEN_PRIVATE_KEY (the PEM itself) or APP_TOKEN_SIGNER (a key in a KMS
or HSM, as --signer), APP_TOKEN_API_URL (or the web URL,
APP_TOKEN_GITHUB_URL). Without an API URL, github.com uses
https://api.github.com, NAME.ghe.com https://api.NAME.ghe.com and any other
host https://HOST/api/v3.

Only protocol https (and http for loopback hosts) on the configured host is
answered. Diagnostics go to stderr; stdout carries git's protocol only.

With --token-env NAME the helper answers with the token in the environment
variable NAME instead, read at each get and never written anywhere: in a
job, "app-token setup-git --token-env GITHUB_TOKEN" lets git use the job's
own token through the same helper. With --user it answers with the
signed-in user's token (app-token login). "app-token status" says which of
these the helper configured for a host uses.
Set APP_TOKEN_DEBUG=1 (or --debug) to see each decision on stderr.

With --sts-url and --identity, tokens come from a token exchange instead
of the App's key: for git's repository (its repository policy), or with
--owner for the owner (the organization policy). Each exchange uses a fresh
OIDC ID token: the runner's in a job with id-token: write, else
--id-token-file's. Tokens are cached as above, sealed with what proved the
job (so another job on the machine cannot open them), until 5 minutes before
they expire (50 minutes when the exchange does not say).
`

// registerCredential adds the flags that both "credential" and "setup-git"
// take.
func (s *settings) registerCredential(fs *flag.FlagSet) {
	s.registerApp(fs, "derived from the host")
	fs.StringVar(&s.host, "host", "", "the git `host` to answer for (default github.com, or the host of --api-url or $"+envGitHubURL+")")
	fs.StringVar(&s.owner, "owner", "", "the `account` whose installation serves requests that name no repository")
	fs.StringVar(&s.repositories, "repositories", "", "narrow tokens to these `repositories` of the owner (comma-separated)")
	fs.Var(&s.permissions, "permission", "narrow tokens to `name=level` (repeatable, or comma-separated: contents=read,issues=write)")
	fs.BoolVar(&s.user, "user", false, "answer with the signed-in user's token (app-token login) instead of an installation token")
	s.registerExchange(fs)
	fs.StringVar(&s.tokenEnv, "token-env", "", "answer with the token in the environment variable `NAME` (such as GITHUB_TOKEN), read at each get; nothing is written to disk")
}

// appOnlyFlags are the flags that say how to mint, which a helper serving
// a token it is given (--token-env) or the user's (--user) has no use for.
var appOnlyFlags = []string{"client-id", "app-id", "private-key-file", "owner", "repositories", "permission"}

// checkTokenEnv refuses --token-env with another source or a name that
// is no environment variable's.
func (s *settings) checkTokenEnv() error {
	if !s.given["token-env"] {
		return nil
	}
	if !validEnvName(s.tokenEnv) {
		return usagef("--token-env: %q is not an environment variable name (letters, digits and _, not starting with a digit), such as GITHUB_TOKEN", s.tokenEnv)
	}
	for _, name := range append([]string{"user", "token-file"}, appOnlyFlags...) {
		if s.given[name] {
			return usagef("--token-env and --%s exclude each other: the helper answers with the token in $%s; drop --%s", name, s.tokenEnv, name)
		}
	}
	return nil
}

// validEnvName reports whether name is a portable environment variable
// name (POSIX.1-2017, 8.1: "letters, digits, and the <underscore>" ... "do
// not begin with a digit").
func validEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	return strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// envToken reads the token --token-env names, refusing an empty one.
func (c *cli) envToken(name string) (string, error) {
	v := strings.TrimSpace(c.getenv(name))
	if v == "" {
		return "", usagef("--token-env: $%s is empty or not set: set it where git runs (in a workflow step, env: %s: ${{ github.token }})", name, name)
	}
	return v, nil
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
	if err := s.checkTokenEnv(); err != nil {
		return ghhost.Host{}, nil, "", err
	}
	if s.owner != "" && !appauth.ValidOwner(s.owner) {
		return ghhost.Host{}, nil, "", usagef("--owner: %q is not a GitHub account name", s.owner)
	}
	repos, reposOwner, err := appauth.ParseRepositories(s.repositories, s.owner, "--repositories")
	if err != nil {
		return ghhost.Host{}, nil, "", &usageError{msg: err.Error()}
	}
	if !s.user {
		if _, err := s.keyName(); err != nil {
			return ghhost.Host{}, nil, "", err
		}
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
		return usagef("credential: give one operation, get, store or erase (git adds it to the helper's command)")
	}
	note := func(format string, args ...any) { fmt.Fprintf(c.stderr, "app-token credential: "+format+"\n", args...) }
	// The key is loaded once, and only for a request the helper answers
	// with an installation token.
	var key *appKey
	loadOnce := func() error {
		if key != nil {
			return nil
		}
		k, err := c.loadKey(ctx, &s)
		key = k
		return err
	}
	defer func() {
		if key != nil {
			key.Close()
		}
	}()
	cfg := gitcred.Config{
		Host: host, TokenFile: s.tokenFile,
		AppID: s.issuer(), Owner: s.owner, Repositories: repos, RepositoriesOwner: reposOwner, Permissions: s.permissions,
		// Key is the cache's sealing secret (appKey.cacheSecret).
		Key: func() ([]byte, error) {
			if err := s.checkApp(); err != nil {
				return nil, err
			}
			if s.issuer() == "" {
				return nil, usagef("credential: no app: pass --client-id or --app-id, or set %s or %s", envClientID, envAppID)
			}
			if s.signer == "" {
				// A PEM seals the cache with its own text: a warm get
				// reads it but parses no key (NewApp does, on a miss).
				if name, err := s.keyName(); err != nil || name == "" {
					return nil, cmp.Or(err, errNoKey())
				}
				raw, _, err := s.key()
				return raw, err
			}
			if err := loadOnce(); err != nil {
				return nil, err
			}
			return key.cacheSecret(s.issuer(), host.APIURL())
		},
		NewApp: func([]byte) (gitcred.Minter, error) {
			if err := loadOnce(); err != nil {
				return nil, err
			}
			return appauth.New(s.issuer(), key, c.appOptions(host, key.names(&s), c.debugf(&s, "app-token credential: "))...)
		},
		Now: c.now, Debugf: c.debugf(&s, "app-token credential: "), Notef: note,
	}
	if s.tokenEnv != "" {
		cfg.EnvToken = func() (string, error) { return c.envToken(s.tokenEnv) }
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
	if s.stsURL != "" {
		e, err := c.exchangeSettings(&s, "repositories", "user", "token-file", "token-env")
		if err != nil {
			return err
		}
		cfg.Exchange, cfg.ExchangeName, cfg.ExchangeSecret = e.mint, e.base+" "+e.identity, e.secret
	}
	if dir, err := userdir.Find(c.getenv, false, envCacheDir); err != nil {
		cfg.CacheErr = err
	} else {
		cfg.CacheDir = s.cacheFolder(dir)
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
them once. The private key itself is never written into git's configuration;
a --signer URI is, so it must not hold a PIN (use pin-source=, not pin-value=).

--unset removes the helper and useHttpPath for the host again.
`

func (c *cli) cmdSetupGit(ctx context.Context, args []string) error {
	fs := c.flags("setup-git", "", setupGitHelp)
	var s settings
	s.registerCredential(fs)
	unset := fs.Bool("unset", false, "remove app-token's configuration for the host instead")
	global := fs.Bool("global", true, "write the user's global git configuration; --global=false needs --file")
	file := fs.String("file", "", "write this git configuration `file` instead of the global one")
	host, _, _, err := c.credentialSettings(fs, &s, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("setup-git takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	switch {
	case *file == "" && !*global:
		return usagef("--global=false: say which configuration to write instead with --file FILE (setup-git writes the global one otherwise)")
	case *file != "" && *global && s.given["global"]:
		return usagef("--global and --file both say where to write: pass one of them")
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
		var found bool
		for _, k := range []string{helperKey, pathKey} {
			vals, err := git.GetAll(ctx, k)
			if err != nil {
				return fmt.Errorf("setup-git --unset: %w", err)
			}
			found = found || len(vals) > 0
		}
		if !found {
			fmt.Fprintf(c.stdout, "Nothing to remove: %s has no credential helper for %s.\n", where, base)
			return nil
		}
		for _, k := range []string{helperKey, pathKey} {
			if err := git.Unset(ctx, k); err != nil {
				return fmt.Errorf("setup-git --unset: %w", err)
			}
		}
		fmt.Fprintf(c.stdout, "Removed app-token's credential helper for %s from %s.\n", base, where)
		return nil
	}
	if s.stsURL != "" {
		if _, err := c.exchangeSettings(&s, "repositories", "user", "token-env"); err != nil {
			return err
		}
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
	if s.tokenEnv != "" {
		if s.env(s.tokenEnv) == "" {
			fmt.Fprintf(c.stderr, "app-token setup-git: note: $%s is not set here: set it where git runs\n", s.tokenEnv)
		}
		return nil
	}
	if s.stsURL != "" {
		return nil
	}
	if s.issuer() == "" && !s.user {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --client-id or --app-id: set %s or %s where git runs\n", envClientID, envAppID)
	}
	if name, _ := s.keyName(); name == "" && !s.user {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --private-key-file or --signer: set %s, %s or %s where git runs\n", envPrivateKeyFile, envPrivateKey, envSigner)
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
	if s.signer != "" && s.given["signer"] {
		if signer.Redact(s.signer) != s.signer {
			return nil, usagef("setup-git: --signer %q holds a PIN (pin-value), which git's configuration would keep in plain text: use pin-source=file:/path/to/pin", signer.Redact(s.signer))
		}
		uri, err := absSignerURI(s.signer)
		if err != nil {
			return nil, usagef("setup-git: --signer: %v", err)
		}
		add("--signer", uri)
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
	add("--sts-url", s.stsURL)
	add("--identity", s.identity)
	if s.idTokenFile != "" && s.given["id-token-file"] {
		abs, err := filepath.Abs(s.idTokenFile)
		if err != nil {
			return nil, usagef("setup-git: --id-token-file: %v", err)
		}
		args = append(args, "--id-token-file", abs)
	}
	if s.tokenEnv != "" {
		args = append(args, "--token-env", s.tokenEnv)
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

// gitHelperSource says which source git's credential helper for host
// uses, from the helpers git's configuration (every scope) lists for it:
// app-token's with --token-env, --user, --token-file or the App, another
// helper, or none. It is "" when git cannot be asked.
func (c *cli) gitHelperSource(ctx context.Context, host ghhost.Host) string {
	git := c.gitConfig()
	base := host.GitURL()
	helpers, err := git.Helpers(ctx, base)
	if err != nil {
		return ""
	}
	var others []string
	for _, h := range helpers {
		exe, args, ok := gitcred.SplitHelperCommand(h)
		if !ok || !strings.HasPrefix(filepath.Base(exe), "app-token") || len(args) == 0 || args[0] != "credential" {
			others = append(others, h)
			continue
		}
		fs := flag.NewFlagSet("credential", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var s settings
		s.registerCredential(fs)
		fs.StringVar(&s.tokenFile, "token-file", "", "")
		fs.BoolVar(&s.debug, "debug", false, "")
		if fs.Parse(args[1:]) != nil {
			return fmt.Sprintf("app-token credential, with flags it does not take (%s): run app-token setup-git again", h)
		}
		switch {
		case s.tokenEnv != "":
			src := fmt.Sprintf("app-token credential, with the token in $%s", s.tokenEnv)
			if strings.TrimSpace(c.getenv(s.tokenEnv)) == "" {
				src += " (not set here)"
			}
			return src
		case s.user:
			return "app-token credential, with the signed-in user's token"
		case s.stsURL != "":
			return fmt.Sprintf("app-token credential, with tokens from the token exchange %s (trust policy %q)", s.stsURL, s.identity)
		case s.tokenFile != "":
			return "app-token credential, with the action's token file " + s.tokenFile
		case s.clientID != "":
			return "app-token credential, with installation tokens of the App " + s.clientID
		case s.appID != "":
			return "app-token credential, with installation tokens of the App with app ID " + s.appID
		default:
			return fmt.Sprintf("app-token credential, with installation tokens of the App named where git runs ($%s or $%s)", envClientID, envAppID)
		}
	}
	if len(others) > 0 {
		return fmt.Sprintf("not app-token: git asks %s (app-token setup-git replaces it)", strings.Join(others, ", "))
	}
	return "none for " + base + " (app-token setup-git adds app-token's)"
}
