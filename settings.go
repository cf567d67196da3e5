package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
)

// Environment variables: the one table. Flags win over them; values are
// trimmed.
const (
	envClientID       = "APP_TOKEN_CLIENT_ID"
	envAppID          = "APP_TOKEN_APP_ID"
	envPrivateKey     = "APP_TOKEN_PRIVATE_KEY" // the PEM itself
	envPrivateKeyFile = "APP_TOKEN_PRIVATE_KEY_FILE"
	envClientSecret   = "APP_TOKEN_CLIENT_SECRET"
	envGitHubURL      = "APP_TOKEN_GITHUB_URL"
	envAPIURL         = "APP_TOKEN_API_URL"
	envDebug          = "APP_TOKEN_DEBUG"
	envCacheDir       = "APP_TOKEN_CACHE_DIR"
	envConfigDir      = "APP_TOKEN_CONFIG_DIR"
	envStore          = "APP_TOKEN_STORE"
	envStoreKey       = "APP_TOKEN_STORE_KEY"
)

// flagEnv is the environment variable behind each flag that has one.
var flagEnv = map[string]string{
	"client-id": envClientID, "app-id": envAppID, "client-secret": envClientSecret,
	"github-url": envGitHubURL, "api-url": envAPIURL,
	// Not flags, named in the sign-in commands' advice.
	"store": envStore, "store-key": envStoreKey,
}

// settings are what every command is told, resolved one way: the flags
// first, then the environment (resolve).
type settings struct {
	clientID, appID, keyFile, clientSecret string
	githubURL, apiURL, host                string
	owner, repositories                    string
	permissions                            permissionFlag
	installationID                         int64
	user, debug                            bool
	tokenFile                              string

	given  map[string]bool // flags given on the command line
	getenv func(string) string
}

// registerApp adds the flags that say which App to act as. apiDefault says
// what an unset --api-url means.
func (s *settings) registerApp(fs *flag.FlagSet, apiDefault string) {
	fs.StringVar(&s.clientID, "client-id", "", "the GitHub App's client ID (default $"+envClientID+")")
	fs.StringVar(&s.appID, "app-id", "", "the GitHub App's numeric app ID, instead of the client ID (default $"+envAppID+")")
	fs.StringVar(&s.keyFile, "private-key-file", "", "the App's private key `file` (.pem) (default $"+envPrivateKeyFile+", or the PEM in $"+envPrivateKey+")")
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL`: https://HOST/api/v3 for GitHub Enterprise Server (default $"+envAPIURL+", else "+apiDefault+")")
}

// registerAppCommand is registerApp for the commands that talk to one API,
// with --debug.
func (s *settings) registerAppCommand(fs *flag.FlagSet) {
	s.registerApp(fs, ghhost.DefaultAPIURL)
	fs.BoolVar(&s.debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+envDebug+"=1)")
}

// registerSignIn adds the flags of the sign-in commands.
func (s *settings) registerSignIn(fs *flag.FlagSet, withSecret bool) {
	fs.StringVar(&s.clientID, "client-id", "", "the app's client `ID` (not its app ID) (default $"+envClientID+")")
	if withSecret {
		fs.StringVar(&s.clientSecret, "client-secret", "", "the app's client `secret` (default $"+envClientSecret+"); needed by --web and --revoke")
	}
	fs.StringVar(&s.githubURL, "github-url", "", "GitHub's web `URL`: https://github.com, https://HOST for GHES, or an emulator (default $"+envGitHubURL+", else https://github.com)")
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL` (default $"+envAPIURL+", else https://api.github.com, or https://HOST/api/v3 for GHES)")
}

// resolve records which flags were given and fills what they left empty
// from the environment.
func (s *settings) resolve(fs *flag.FlagSet, getenv func(string) string) {
	s.getenv = getenv
	s.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { s.given[f.Name] = true })
	fill := func(v *string, name string) {
		if *v == "" && !s.given[name] {
			*v = s.env(flagEnv[name])
		}
	}
	// The App is named by the flags or by the environment, never half each.
	if !s.given["client-id"] && !s.given["app-id"] {
		fill(&s.clientID, "client-id")
		fill(&s.appID, "app-id")
	}
	fill(&s.clientSecret, "client-secret")
	fill(&s.githubURL, "github-url")
	fill(&s.apiURL, "api-url")
	if s.env(envDebug) != "" {
		s.debug = true
	}
}

// env reads one variable of the table, trimmed.
func (s *settings) env(name string) string { return strings.TrimSpace(s.getenv(name)) }

// issuer is the App's client ID, else its app ID.
func (s *settings) issuer() string {
	if s.clientID != "" {
		return s.clientID
	}
	return s.appID
}

// ghHost parses the GitHub the settings name: --host (a git host, for the
// credential helper), else --github-url, with --api-url; github.com when
// none is set. The error names the setting.
func (s *settings) ghHost() (ghhost.Host, error) {
	var h ghhost.Host
	var err error
	if s.host != "" {
		h, err = ghhost.ForGit(s.host, s.apiURL)
	} else {
		h, err = ghhost.New(s.githubURL, s.apiURL)
	}
	var he *ghhost.Error
	switch {
	case err == nil:
		return h, nil
	case errors.As(err, &he) && he.Web && s.host != "":
		return h, usagef("--host: %v", err)
	case errors.As(err, &he) && he.Web:
		return h, usagef("--github-url (or %s): %v", envGitHubURL, err)
	default:
		return h, usagef("--api-url (or %s): %v", envAPIURL, err)
	}
}

// key returns the App's private key as given (--private-key-file's
// contents, else the PEM in APP_TOKEN_PRIVATE_KEY, else the file
// APP_TOKEN_PRIVATE_KEY_FILE names) and how the user named it. Reading it
// is cheap; it is parsed only when a JWT must be signed.
func (s *settings) key() ([]byte, string, error) {
	file, name := s.keyFile, "--private-key-file"
	if file == "" {
		if pemText := s.getenv(envPrivateKey); strings.TrimSpace(pemText) != "" {
			return []byte(pemText), envPrivateKey, nil
		}
		file, name = s.env(envPrivateKeyFile), envPrivateKeyFile
	}
	if file == "" {
		return nil, "", usagef("no private key: pass --private-key-file, or set %s or %s", envPrivateKeyFile, envPrivateKey)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return b, name, nil
}

// flagNames names settings in appauth's advice as the CLI's user sets them.
func flagNames(setting string) string {
	switch setting {
	case "client-id":
		return "--client-id (or " + envClientID + ")"
	case "private-key":
		return "the private key (--private-key-file, " + envPrivateKeyFile + " or " + envPrivateKey + ")"
	case "installation-id":
		return "--installation-id (app-token installations lists them)"
	}
	if p, ok := strings.CutPrefix(setting, "permission-"); ok {
		return "--permission " + strings.ReplaceAll(p, "-", "_")
	}
	return "--" + setting
}

// permissionFlag is the repeatable --permission flag.
type permissionFlag map[string]string

func (p *permissionFlag) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.args(), ",")
}

func (p *permissionFlag) Set(v string) error {
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
		*p = permissionFlag{}
	}
	(*p)[name] = level
	return nil
}

// args returns the permissions as sorted name=level strings.
func (p permissionFlag) args() []string {
	out := make([]string, 0, len(p))
	for n, l := range p {
		out = append(out, n+"="+l)
	}
	slices.Sort(out)
	return out
}
