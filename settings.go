package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
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
	envSigner         = "APP_TOKEN_SIGNER" // a signer URI, instead of a key
	envClientSecret   = "APP_TOKEN_CLIENT_SECRET"
	envGitHubURL      = "APP_TOKEN_GITHUB_URL"
	envAPIURL         = "APP_TOKEN_API_URL"
	envDebug          = "APP_TOKEN_DEBUG"
	envCacheDir       = "APP_TOKEN_CACHE_DIR"
	envConfigDir      = "APP_TOKEN_CONFIG_DIR"
	envStore          = "APP_TOKEN_STORE"
	envStoreKey       = "APP_TOKEN_STORE_KEY"
	// The token exchange: its URL (the client's --sts-url, serve's --url),
	// the policy, the ID token's file, and serve's trusted issuers
	// (comma-separated) and port (Cloud Run sets PORT).
	envSTSURL      = "APP_TOKEN_STS_URL"
	envSTSIdentity = "APP_TOKEN_STS_IDENTITY"
	envIDTokenFile = "APP_TOKEN_ID_TOKEN_FILE"
	envSTSIssuers  = "APP_TOKEN_STS_ISSUERS"
	envPort        = "PORT"
)

// flagEnv is the environment variable behind each flag that has one.
var flagEnv = map[string]string{
	"client-id": envClientID, "app-id": envAppID, "client-secret": envClientSecret,
	"github-url": envGitHubURL, "api-url": envAPIURL, "signer": envSigner,
	"sts-url": envSTSURL, "identity": envSTSIdentity, "id-token-file": envIDTokenFile,
	// Not flags, named in the sign-in commands' advice.
	"store": envStore, "store-key": envStoreKey,
}

// settings are what every command is told, resolved one way: the flags
// first, then the environment (resolve).
type settings struct {
	clientID, appID, keyFile, clientSecret string
	signer                                 string // a signer URI (signer.Open)
	githubURL, apiURL, host                string
	owner, repositories                    string
	enterprise                             string
	permissions                            permissionFlag
	installationID                         int64
	user, debug                            bool
	tokenFile                              string
	tokenEnv                               string
	stsURL, identity, idTokenFile          string // the token exchange

	given  map[string]bool // flags given on the command line
	getenv func(string) string
}

// registerApp adds the flags that say which App to act as. apiDefault says
// what an unset --api-url means.
func (s *settings) registerApp(fs *flag.FlagSet, apiDefault string) {
	fs.StringVar(&s.clientID, "client-id", "", "the GitHub App's client `ID` (default $"+envClientID+")")
	fs.Var((*appIDFlag)(&s.appID), "app-id", "the GitHub App's numeric app `ID`, instead of the client ID (default $"+envAppID+")")
	fs.StringVar(&s.keyFile, "private-key-file", "", "the App's private key `file` (.pem) (default $"+envPrivateKeyFile+", or the PEM in $"+envPrivateKey+")")
	fs.StringVar(&s.signer, "signer", "", "sign the App's JWTs with the key this `URI` names, instead of a private key: awskms://KEY, gcpkms://projects/..., pkcs11:... or file:PATH (default $"+envSigner+")")
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL`: https://HOST/api/v3 for GitHub Enterprise Server (default $"+envAPIURL+", else "+apiDefault+")")
}

// registerAppCommand is registerApp for the commands that talk to one API,
// with --debug.
func (s *settings) registerAppCommand(fs *flag.FlagSet) {
	s.registerApp(fs, ghhost.DefaultAPIURL)
	fs.BoolVar(&s.debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+envDebug+"=1)")
}

// registerExchange adds the flags that get tokens from a token exchange
// (app-token serve, octo-sts) instead of the App's key.
func (s *settings) registerExchange(fs *flag.FlagSet) {
	fs.StringVar(&s.stsURL, "sts-url", "", "get the token from this token exchange `URL` (app-token serve, octo-sts) with the job's OIDC ID token, instead of the App's key (default $"+envSTSURL+")")
	fs.StringVar(&s.identity, "identity", "", "with --sts-url: the trust policy `name` (.github/chainguard/NAME.sts.yaml) (default $"+envSTSIdentity+")")
	fs.StringVar(&s.idTokenFile, "id-token-file", "", "with --sts-url: read the OIDC ID token from this `file` (default $"+envIDTokenFile+"; in a job with id-token: write, the runner's)")
}

// registerSignIn adds the flags of the sign-in commands.
func (s *settings) registerSignIn(fs *flag.FlagSet, withSecret bool) {
	fs.StringVar(&s.clientID, "client-id", "", "the app's client `ID` (not its app ID) (default $"+envClientID+")")
	if withSecret {
		fs.StringVar(&s.clientSecret, "client-secret", "", "the app's client `secret` (default $"+envClientSecret+")")
	}
	fs.BoolVar(&s.debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+envDebug+"=1)")
	fs.StringVar(&s.githubURL, "github-url", "", "GitHub's web `URL`: https://github.com, https://HOST for GHES, or an emulator (default $"+envGitHubURL+", else https://github.com)")
	fs.StringVar(&s.apiURL, "api-url", "", "the REST API `URL` (default $"+envAPIURL+", else https://api.github.com, or https://HOST/api/v3 for GHES)")
}

// explain adds why a command needs one of its flags to the flag's help.
func explain(fs *flag.FlagSet, name, why string) {
	if f := fs.Lookup(name); f != nil {
		f.Usage += "; " + why
	}
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
	fill(&s.signer, "signer")
	// A key or App on the command line wins over an exchange in the
	// environment (flags win).
	if !s.given["private-key-file"] && !s.given["signer"] && !s.given["client-id"] && !s.given["app-id"] {
		fill(&s.stsURL, "sts-url")
	}
	fill(&s.identity, "identity")
	fill(&s.idTokenFile, "id-token-file")
	if s.env(envDebug) != "" {
		s.debug = true
	}
}

// env reads one variable of the table, trimmed.
func (s *settings) env(name string) string { return strings.TrimSpace(s.getenv(name)) }

// appIDFlag is --app-id: a number.
type appIDFlag string

func (a *appIDFlag) String() string { return string(*a) }

func (a *appIDFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if !isAppID(v) {
		return fmt.Errorf("not a number: the app ID is the number on the app's settings page (or pass its client ID, Iv23li..., with --client-id)")
	}
	*a = appIDFlag(v)
	return nil
}

func isAppID(v string) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n > 0
}

// checkApp says what is wrong with how the App is named: both --client-id
// and --app-id, or an APP_TOKEN_APP_ID that is not a number.
func (s *settings) checkApp() error {
	switch {
	case s.given["client-id"] && s.given["app-id"]:
		return usagef("--client-id and --app-id both name the App: pass one of them (the client ID is preferred)")
	case s.clientID == "" && s.appID != "" && !isAppID(s.appID):
		return usagef("%s=%q is not a number: set it to the app ID on the app's settings page, or set %s to its client ID instead", envAppID, s.appID, envClientID)
	}
	return nil
}

// names names settings in appauth's advice as this command's user set
// them: flagNames, but the App by --app-id when that is how it was named.
func (s *settings) names(setting string) string {
	if setting == "client-id" && s.clientID == "" && s.appID != "" {
		return "--app-id (or " + envAppID + ")"
	}
	return flagNames(setting)
}

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

// Set takes one name=level, or several separated by commas
// (contents=read,issues=write). A name given twice is a mistake, even at the
// same level: one of the two was probably meant to be another permission.
func (p *permissionFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		name, level, ok := strings.Cut(item, "=")
		name = strings.ReplaceAll(strings.TrimSpace(name), "-", "_")
		level = strings.TrimSpace(level)
		if !ok || name == "" {
			return fmt.Errorf("%q is not name=level: give e.g. contents=read (several: contents=read,issues=write)", strings.TrimSpace(item))
		}
		if err := appauth.CheckPermission(name, level, "--permission"); err != nil {
			return err
		}
		if old, dup := (*p)[name]; dup {
			return fmt.Errorf("%s is given twice (%s and %s): give each permission once", name, old, level)
		}
		if *p == nil {
			*p = permissionFlag{}
		}
		(*p)[name] = level
	}
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
