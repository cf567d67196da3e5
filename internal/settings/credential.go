package settings

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/gitcred"
	"github.com/org/app-token/internal/signer"
)

// RegisterCredential adds the flags that both "credential" and "setup-git"
// take.
func (s *Settings) RegisterCredential(fs *flag.FlagSet) {
	s.RegisterApp(fs, "derived from the host")
	fs.StringVar(&s.Host, "host", "", "the git `host` to answer for (default github.com, or the host of --api-url or $"+EnvGitHubURL+")")
	fs.StringVar(&s.Owner, "owner", "", "the `account` whose installation serves requests that name no repository")
	fs.StringVar(&s.Repositories, "repositories", "", "narrow tokens to these `repositories` of the owner (comma-separated)")
	fs.Var(&s.Permissions, "permission", "narrow tokens to `name=level` (repeatable, or comma-separated: contents=read,issues=write)")
	fs.BoolVar(&s.User, "user", false, "answer with the signed-in user's token (app-token login) instead of an installation token")
	s.RegisterExchange(fs)
	fs.StringVar(&s.TokenEnv, "token-env", "", "answer with the token in the environment variable `NAME` (such as GITHUB_TOKEN), read at each get; nothing is written to disk")
}

// RegisterCredentialHelper adds the flags of "credential" itself:
// RegisterCredential's, --token-file and --debug.
func (s *Settings) RegisterCredentialHelper(fs *flag.FlagSet) {
	s.RegisterCredential(fs)
	fs.StringVar(&s.TokenFile, "token-file", "", "serve the one token in this `file` (written by the action's setup-git) instead of minting")
	fs.BoolVar(&s.Debug, "debug", false, "explain each decision on stderr (also "+EnvDebug+"=1)")
}

// CheckCredential checks the settings "credential" and "setup-git" share
// (--token-env, --owner, --repositories, the key) and returns the
// repositories to narrow to and the owner they name.
func (s *Settings) CheckCredential() (repos []string, reposOwner string, err error) {
	if err := s.CheckTokenEnv(); err != nil {
		return nil, "", err
	}
	if s.Owner != "" && !appauth.ValidOwner(s.Owner) {
		return nil, "", cliflag.Usagef("--owner: %q is not a GitHub account name", s.Owner)
	}
	repos, reposOwner, err = appauth.ParseRepositories(s.Repositories, s.Owner, "--repositories")
	if err != nil {
		return nil, "", &cliflag.UsageError{Msg: err.Error()}
	}
	if !s.User {
		if _, err := s.KeyName(); err != nil {
			return nil, "", err
		}
	}
	return repos, reposOwner, nil
}

// appOnlyFlags are the flags that say how to mint, which a helper serving
// a token it is given (--token-env) or the user's (--user) has no use for.
var appOnlyFlags = []string{"client-id", "app-id", "private-key-file", "owner", "repositories", "permission"}

// CheckTokenEnv refuses --token-env with another source or a name that
// is no environment variable's.
func (s *Settings) CheckTokenEnv() error {
	if !s.Given("token-env") {
		return nil
	}
	if !validEnvName(s.TokenEnv) {
		return cliflag.Usagef("--token-env: %q is not an environment variable name (letters, digits and _, not starting with a digit), such as GITHUB_TOKEN", s.TokenEnv)
	}
	for _, name := range append([]string{"user", "token-file"}, appOnlyFlags...) {
		if s.Given(name) {
			return cliflag.Usagef("--token-env and --%s exclude each other: the helper answers with the token in $%s; drop --%s", name, s.TokenEnv, name)
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

// EnvToken reads the token --token-env names, refusing an empty one.
func (s *Settings) EnvToken() (string, error) {
	name := s.TokenEnv
	v := strings.TrimSpace(s.getenv(name))
	if v == "" {
		return "", cliflag.Usagef("--token-env: $%s is empty or not set: set it where git runs (in a workflow step, env: %s: ${{ github.token }})", name, name)
	}
	return v, nil
}

// HelperArgs are the arguments of the credential helper setup-git writes:
// the settings given as flags (those from the environment are read again
// where git runs), and always the host, so that the helper answers for the
// host git asks it about. The private key itself is never written.
func (s *Settings) HelperArgs(host ghhost.Host) ([]string, error) {
	args := []string{"credential"}
	add := func(flag, v string) {
		if v != "" && s.Given(strings.TrimPrefix(flag, "--")) {
			args = append(args, flag, v)
		}
	}
	add("--client-id", s.ClientID)
	add("--app-id", s.AppID)
	if s.KeyFile != "" {
		abs, err := filepath.Abs(s.KeyFile)
		if err != nil {
			return nil, cliflag.Usagef("setup-git: --private-key-file: %v", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, cliflag.Usagef("setup-git: --private-key-file: %v", err)
		}
		add("--private-key-file", abs)
	}
	if s.Signer != "" && s.Given("signer") {
		if signer.Redact(s.Signer) != s.Signer {
			return nil, cliflag.Usagef("setup-git: --signer %q holds a PIN (pin-value), which git's configuration would keep in plain text: use pin-source=file:/path/to/pin", signer.Redact(s.Signer))
		}
		uri, err := absSignerURI(s.Signer)
		if err != nil {
			return nil, cliflag.Usagef("setup-git: --signer: %v", err)
		}
		add("--signer", uri)
	}
	add("--api-url", s.APIURL)
	switch {
	case host.GitURL() != "https://"+host.GitHost():
		args = append(args, "--host", host.GitURL()) // plain http (loopback)
	case !host.IsGitHubCom() || s.Given("api-url"):
		args = append(args, "--host", host.GitHost())
	}
	add("--owner", s.Owner)
	add("--repositories", s.Repositories)
	for _, p := range s.Permissions.Args() {
		args = append(args, "--permission", p)
	}
	if s.User {
		args = append(args, "--user")
	}
	add("--sts-url", s.STSURL)
	add("--identity", s.Identity)
	if s.IDTokenFile != "" && s.Given("id-token-file") {
		abs, err := filepath.Abs(s.IDTokenFile)
		if err != nil {
			return nil, cliflag.Usagef("setup-git: --id-token-file: %v", err)
		}
		args = append(args, "--id-token-file", abs)
	}
	if s.TokenEnv != "" {
		args = append(args, "--token-env", s.TokenEnv)
	}
	return args, nil
}

// absSignerURI makes a file: signer's relative path absolute, for a helper
// git runs from any folder.
func absSignerURI(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "file:")
	if !ok || strings.HasPrefix(rest, "/") || rest == "" {
		return uri, nil
	}
	abs, err := filepath.Abs(rest)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return "file:" + abs, nil
}

// HelperSource says which source git's credential helper for base (git's
// URL of the host) uses, from the helpers git's configuration lists for
// it: app-token's with --token-env, --user, --token-file, an exchange or
// the App, another helper, or none. getenv is where git runs (here).
func HelperSource(helpers []string, base string, getenv func(string) string) string {
	var others []string
	for _, h := range helpers {
		exe, args, ok := gitcred.SplitHelperCommand(h)
		if !ok || !strings.HasPrefix(filepath.Base(exe), "app-token") || len(args) == 0 || args[0] != "credential" {
			others = append(others, h)
			continue
		}
		fs := flag.NewFlagSet("credential", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var s Settings
		s.RegisterCredentialHelper(fs)
		if fs.Parse(args[1:]) != nil {
			return fmt.Sprintf("app-token credential, with flags it does not take (%s): run app-token setup-git again", h)
		}
		switch {
		case s.TokenEnv != "":
			src := fmt.Sprintf("app-token credential, with the token in $%s", s.TokenEnv)
			if strings.TrimSpace(getenv(s.TokenEnv)) == "" {
				src += " (not set here)"
			}
			return src
		case s.User:
			return "app-token credential, with the signed-in user's token"
		case s.STSURL != "":
			return fmt.Sprintf("app-token credential, with tokens from the token exchange %s (trust policy %q)", s.STSURL, s.Identity)
		case s.TokenFile != "":
			return "app-token credential, with the action's token file " + s.TokenFile
		case s.ClientID != "":
			return "app-token credential, with installation tokens of the App " + s.ClientID
		case s.AppID != "":
			return "app-token credential, with installation tokens of the App with app ID " + s.AppID
		default:
			return fmt.Sprintf("app-token credential, with installation tokens of the App named where git runs ($%s or $%s)", EnvClientID, EnvAppID)
		}
	}
	if len(others) > 0 {
		return fmt.Sprintf("not app-token: git asks %s (app-token setup-git replaces it)", strings.Join(others, ", "))
	}
	return "none for " + base + " (app-token setup-git adds app-token's)"
}
