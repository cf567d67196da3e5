package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/settings"
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

// credentialSettings parses the flags of credential and setup-git and
// resolves the host they answer for and the repositories they narrow to.
func (c *cli) credentialSettings(fs *flag.FlagSet, s *settings.Settings, args []string) (host ghhost.Host, repos []string, reposOwner string, err error) {
	if err := c.parse(fs, args); err != nil {
		return ghhost.Host{}, nil, "", err
	}
	s.Resolve(fs, c.getenv)
	if host, err = s.GHHost(); err != nil {
		return ghhost.Host{}, nil, "", err
	}
	repos, reposOwner, err = s.CheckCredential()
	return host, repos, reposOwner, err
}

func (c *cli) cmdCredential(ctx context.Context, args []string) error {
	fs := c.flags("credential", "get|store|erase", credentialHelp)
	var s settings.Settings
	s.RegisterCredentialHelper(fs)
	host, repos, reposOwner, err := c.credentialSettings(fs, &s, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("credential: give one operation, get, store or erase (git adds it to the helper's command)")
	}
	note := func(format string, args ...any) { fmt.Fprintf(c.stderr, "app-token credential: "+format+"\n", args...) }
	// The key is loaded once, and only for a request the helper answers
	// with a minted token.
	keys := s.KeyOnce()
	defer keys.Close()
	cfg := gitcred.Config{
		Host: host, TokenFile: s.TokenFile,
		AppID: s.Issuer(), Owner: s.Owner, Repositories: repos, RepositoriesOwner: reposOwner, Permissions: s.Permissions,
		Key: func() ([]byte, error) { return keys.CacheSecret(ctx, host.APIURL()) },
		NewApp: func([]byte) (gitcred.Minter, error) {
			key, err := keys.Get(ctx)
			if err != nil {
				return nil, err
			}
			return appauth.New(s.Issuer(), key, c.appOptions(host, key.Names(&s), c.debugf(&s, "app-token credential: "))...)
		},
		Now: c.now, Debugf: c.debugf(&s, "app-token credential: "), Notef: note,
	}
	if s.TokenEnv != "" {
		cfg.EnvToken = s.EnvToken
	}
	if s.User {
		flagClientID := ""
		if s.Given("client-id") {
			flagClientID = s.ClientID
		}
		cfg.UserToken = func(ctx context.Context, webURL string) (string, time.Time, error) {
			return c.signedInToken(ctx, webURL, flagClientID)
		}
	}
	if s.STSURL != "" {
		e, err := s.Exchange(c.http, "repositories", "user", "token-file", "token-env")
		if err != nil {
			return err
		}
		cfg.Exchange, cfg.ExchangeName, cfg.ExchangeSecret = e.Mint, e.Base+" "+e.Identity, e.Secret
	}
	if dir, err := userdir.Find(c.getenv, false, settings.EnvCacheDir); err != nil {
		cfg.CacheErr = err
	} else {
		cfg.CacheDir = gitcred.CacheFolder(dir, signer.Redact(strings.TrimSpace(s.Signer)))
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
	var s settings.Settings
	s.RegisterCredential(fs)
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
	case *file != "" && *global && s.Given("global"):
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
	if *unset {
		removed, err := git.RemoveHelper(ctx, base)
		switch {
		case err != nil:
			return fmt.Errorf("setup-git --unset: %w", err)
		case !removed:
			fmt.Fprintf(c.stdout, "Nothing to remove: %s has no credential helper for %s.\n", where, base)
		default:
			fmt.Fprintf(c.stdout, "Removed app-token's credential helper for %s from %s.\n", base, where)
		}
		return nil
	}
	if s.STSURL != "" {
		if _, err := s.Exchange(c.http, "repositories", "user", "token-env"); err != nil {
			return err
		}
	}
	helper, err := s.HelperArgs(host)
	if err != nil {
		return err
	}
	exe, err := c.executable()
	if err != nil {
		return fmt.Errorf("setup-git: find this program: %w", err)
	}
	if err := git.SetupHelper(ctx, base, gitcred.HelperCommand(exe, helper...)); err != nil {
		return fmt.Errorf("setup-git: %w", err)
	}
	fmt.Fprintf(c.stdout, "Configured git to use app-token for %s in %s.\n", base, where)
	if s.TokenEnv != "" {
		if s.Env(s.TokenEnv) == "" {
			fmt.Fprintf(c.stderr, "app-token setup-git: note: $%s is not set here: set it where git runs\n", s.TokenEnv)
		}
		return nil
	}
	if s.STSURL != "" {
		return nil
	}
	if s.Issuer() == "" && !s.User {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --client-id or --app-id: set %s or %s where git runs\n", settings.EnvClientID, settings.EnvAppID)
	}
	if name, _ := s.KeyName(); name == "" && !s.User {
		fmt.Fprintf(c.stderr, "app-token setup-git: note: no --private-key-file or --signer: set %s, %s or %s where git runs\n", settings.EnvPrivateKeyFile, settings.EnvPrivateKey, settings.EnvSigner)
	}
	return nil
}

// gitConfig edits scope of git's configuration, with git's location
// variables (HOME, GIT_CONFIG_GLOBAL, ...) read through getenv.
func (c *cli) gitConfig(scope ...string) gitcred.GitConfig {
	return gitcred.NewGitConfig(os.Environ(), c.getenv, scope...)
}

// gitHelperSource says which source git's credential helper for host uses
// (settings.HelperSource), from the helpers every scope of git's
// configuration lists for it; "" when git cannot be asked.
func (c *cli) gitHelperSource(ctx context.Context, host ghhost.Host) string {
	helpers, err := c.gitConfig().Helpers(ctx, host.GitURL())
	if err != nil {
		return ""
	}
	return settings.HelperSource(helpers, host.GitURL(), c.getenv)
}
