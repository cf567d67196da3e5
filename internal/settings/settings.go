// Package settings resolves what every command is told, one way: the flags
// first, then the environment (one table of names), values trimmed. It
// turns them into what the packages need: the GitHub host (ghhost), the
// App's key (a PEM or a signer), the token exchange to ask, and the flags
// of the credential helper that setup-git writes. Errors name the flag or
// variable and say what to do.
package settings

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/ghhost"
)

// Environment variables: the one table. Flags win over them; values are
// trimmed.
const (
	EnvClientID       = "APP_TOKEN_CLIENT_ID"
	EnvAppID          = "APP_TOKEN_APP_ID"
	EnvPrivateKey     = "APP_TOKEN_PRIVATE_KEY" // the PEM itself
	EnvPrivateKeyFile = "APP_TOKEN_PRIVATE_KEY_FILE"
	EnvSigner         = "APP_TOKEN_SIGNER" // a signer URI, instead of a key
	EnvClientSecret   = "APP_TOKEN_CLIENT_SECRET"
	EnvGitHubURL      = "APP_TOKEN_GITHUB_URL"
	EnvAPIURL         = "APP_TOKEN_API_URL"
	EnvDebug          = "APP_TOKEN_DEBUG"
	EnvCacheDir       = "APP_TOKEN_CACHE_DIR"
	EnvConfigDir      = "APP_TOKEN_CONFIG_DIR"
	EnvStore          = "APP_TOKEN_STORE"
	EnvStoreKey       = "APP_TOKEN_STORE_KEY"
	// The token exchange: its URL (the client's --sts-url, serve's --url),
	// the policy, the ID token's file, and serve's trusted issuers
	// (comma-separated) and port (Cloud Run sets PORT).
	EnvSTSURL      = "APP_TOKEN_STS_URL"
	EnvSTSIdentity = "APP_TOKEN_STS_IDENTITY"
	EnvIDTokenFile = "APP_TOKEN_ID_TOKEN_FILE"
	EnvSTSIssuers  = "APP_TOKEN_STS_ISSUERS"
	EnvPort        = "PORT"
)

// FlagEnv is the environment variable behind each flag that has one.
var FlagEnv = map[string]string{
	"client-id": EnvClientID, "app-id": EnvAppID, "client-secret": EnvClientSecret,
	"github-url": EnvGitHubURL, "api-url": EnvAPIURL, "signer": EnvSigner,
	"sts-url": EnvSTSURL, "identity": EnvSTSIdentity, "id-token-file": EnvIDTokenFile,
	// Not flags, named in the sign-in commands' advice.
	"store": EnvStore, "store-key": EnvStoreKey,
}

// Settings are what every command is told, resolved one way: the flags
// first, then the environment (Resolve).
type Settings struct {
	ClientID, AppID, KeyFile, ClientSecret string
	Signer                                 string // a signer URI (signer.Open)
	GitHubURL, APIURL, Host                string
	Owner, Repositories                    string
	Enterprise                             string
	Permissions                            PermissionFlag
	InstallationID                         int64
	User, Debug                            bool
	TokenFile                              string
	TokenEnv                               string
	STSURL, Identity, IDTokenFile          string // the token exchange

	given  map[string]bool // flags given on the command line
	getenv func(string) string
}

// RegisterApp adds the flags that say which App to act as. apiDefault says
// what an unset --api-url means.
func (s *Settings) RegisterApp(fs *flag.FlagSet, apiDefault string) {
	fs.StringVar(&s.ClientID, "client-id", "", "the GitHub App's client `ID` (default $"+EnvClientID+")")
	fs.Var((*appIDFlag)(&s.AppID), "app-id", "the GitHub App's numeric app `ID`, instead of the client ID (default $"+EnvAppID+")")
	fs.StringVar(&s.KeyFile, "private-key-file", "", "the App's private key `file` (.pem) (default $"+EnvPrivateKeyFile+", or the PEM in $"+EnvPrivateKey+")")
	fs.StringVar(&s.Signer, "signer", "", "sign the App's JWTs with the key this `URI` names, instead of a private key: awskms://KEY, gcpkms://projects/..., pkcs11:... or file:PATH (default $"+EnvSigner+")")
	fs.StringVar(&s.APIURL, "api-url", "", "the REST API `URL`: https://HOST/api/v3 for GitHub Enterprise Server (default $"+EnvAPIURL+", else "+apiDefault+")")
}

// RegisterAppCommand is registerApp for the commands that talk to one API,
// with --debug.
func (s *Settings) RegisterAppCommand(fs *flag.FlagSet) {
	s.RegisterApp(fs, ghhost.DefaultAPIURL)
	fs.BoolVar(&s.Debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+EnvDebug+"=1)")
}

// RegisterExchange adds the flags that get tokens from a token exchange
// (app-token serve, octo-sts) instead of the App's key.
func (s *Settings) RegisterExchange(fs *flag.FlagSet) {
	fs.StringVar(&s.STSURL, "sts-url", "", "get the token from this token exchange `URL` (app-token serve, octo-sts) with the job's OIDC ID token, instead of the App's key (default $"+EnvSTSURL+")")
	fs.StringVar(&s.Identity, "identity", "", "with --sts-url: the trust policy `name` (.github/chainguard/NAME.sts.yaml) (default $"+EnvSTSIdentity+")")
	fs.StringVar(&s.IDTokenFile, "id-token-file", "", "with --sts-url: read the OIDC ID token from this `file` (default $"+EnvIDTokenFile+"; in a job with id-token: write, the runner's)")
}

// RegisterSignIn adds the flags of the sign-in commands.
func (s *Settings) RegisterSignIn(fs *flag.FlagSet, withSecret bool) {
	fs.StringVar(&s.ClientID, "client-id", "", "the app's client `ID` (not its app ID) (default $"+EnvClientID+")")
	if withSecret {
		fs.StringVar(&s.ClientSecret, "client-secret", "", "the app's client `secret` (default $"+EnvClientSecret+")")
	}
	fs.BoolVar(&s.Debug, "debug", false, "print each request (method, path, status, time) on stderr; never secrets (or set "+EnvDebug+"=1)")
	fs.StringVar(&s.GitHubURL, "github-url", "", "GitHub's web `URL`: https://github.com, https://HOST for GHES, or an emulator (default $"+EnvGitHubURL+", else https://github.com)")
	fs.StringVar(&s.APIURL, "api-url", "", "the REST API `URL` (default $"+EnvAPIURL+", else https://api.github.com, or https://HOST/api/v3 for GHES)")
}

// Resolve records which flags were given and fills what they left empty
// from the environment.
func (s *Settings) Resolve(fs *flag.FlagSet, getenv func(string) string) {
	s.getenv = getenv
	s.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { s.given[f.Name] = true })
	fill := func(v *string, name string) {
		if *v == "" && !s.Given(name) {
			*v = s.Env(FlagEnv[name])
		}
	}
	// The App is named by the flags or by the environment, never half each.
	if !s.Given("client-id") && !s.Given("app-id") {
		fill(&s.ClientID, "client-id")
		fill(&s.AppID, "app-id")
	}
	fill(&s.ClientSecret, "client-secret")
	fill(&s.GitHubURL, "github-url")
	fill(&s.APIURL, "api-url")
	fill(&s.Signer, "signer")
	// A key or App on the command line wins over an exchange in the
	// environment (flags win).
	if !s.Given("private-key-file") && !s.Given("signer") && !s.Given("client-id") && !s.Given("app-id") {
		fill(&s.STSURL, "sts-url")
	}
	fill(&s.Identity, "identity")
	fill(&s.IDTokenFile, "id-token-file")
	if s.Env(EnvDebug) != "" {
		s.Debug = true
	}
}

// Given reports whether the flag name was given on the command line.
func (s *Settings) Given(name string) bool { return s.given[name] }

// Env reads one variable of the table, trimmed.
func (s *Settings) Env(name string) string { return strings.TrimSpace(s.getenv(name)) }

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

// CheckApp says what is wrong with how the App is named: both --client-id
// and --app-id, or an APP_TOKEN_APP_ID that is not a number.
func (s *Settings) CheckApp() error {
	switch {
	case s.Given("client-id") && s.Given("app-id"):
		return cliflag.Usagef("--client-id and --app-id both name the App: pass one of them (the client ID is preferred)")
	case s.ClientID == "" && s.AppID != "" && !isAppID(s.AppID):
		return cliflag.Usagef("%s=%q is not a number: set it to the app ID on the app's settings page, or set %s to its client ID instead", EnvAppID, s.AppID, EnvClientID)
	}
	return nil
}

// Names names settings in appauth's advice as this command's user set
// them: FlagNames, but the App by --app-id when that is how it was named.
func (s *Settings) Names(setting string) string {
	if setting == "client-id" && s.ClientID == "" && s.AppID != "" {
		return "--app-id (or " + EnvAppID + ")"
	}
	return FlagNames(setting)
}

// Issuer is the App's client ID, else its app ID.
func (s *Settings) Issuer() string {
	if s.ClientID != "" {
		return s.ClientID
	}
	return s.AppID
}

// GHHost parses the GitHub the settings name: --host (a git host, for the
// credential helper), else --github-url, with --api-url; github.com when
// none is set. The error names the setting.
func (s *Settings) GHHost() (ghhost.Host, error) {
	var h ghhost.Host
	var err error
	if s.Host != "" {
		h, err = ghhost.ForGit(s.Host, s.APIURL)
	} else {
		h, err = ghhost.New(s.GitHubURL, s.APIURL)
	}
	var he *ghhost.Error
	switch {
	case err == nil:
		return h, nil
	case errors.As(err, &he) && he.Web && s.Host != "":
		return h, cliflag.Usagef("--host: %v", err)
	case errors.As(err, &he) && he.Web:
		return h, cliflag.Usagef("--github-url (or %s): %v", EnvGitHubURL, err)
	default:
		return h, cliflag.Usagef("--api-url (or %s): %v", EnvAPIURL, err)
	}
}

// Key returns the App's private key as given (--private-key-file's
// contents, else the PEM in APP_TOKEN_PRIVATE_KEY, else the file
// APP_TOKEN_PRIVATE_KEY_FILE names) and how the user named it. Reading it
// is cheap; it is parsed only when a JWT must be signed.
func (s *Settings) Key() ([]byte, string, error) {
	file, name := s.KeyFile, "--private-key-file"
	if file == "" {
		if pemText := s.getenv(EnvPrivateKey); strings.TrimSpace(pemText) != "" {
			return []byte(pemText), EnvPrivateKey, nil
		}
		file, name = s.Env(EnvPrivateKeyFile), EnvPrivateKeyFile
	}
	if file == "" {
		return nil, "", cliflag.Usagef("no private key: pass --private-key-file, or set %s or %s", EnvPrivateKeyFile, EnvPrivateKey)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return b, name, nil
}

// FlagNames names settings in appauth's advice as the CLI's user sets them.
func FlagNames(setting string) string {
	switch setting {
	case "client-id":
		return "--client-id (or " + EnvClientID + ")"
	case "private-key":
		return "the private key (--private-key-file, " + EnvPrivateKeyFile + " or " + EnvPrivateKey + ")"
	case "installation-id":
		return "--installation-id (app-token installations lists them)"
	}
	if p, ok := strings.CutPrefix(setting, "permission-"); ok {
		return "--permission " + strings.ReplaceAll(p, "-", "_")
	}
	return "--" + setting
}

// PermissionFlag is the repeatable --permission flag.
type PermissionFlag map[string]string

func (p *PermissionFlag) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.Args(), ",")
}

// Set takes one name=level, or several separated by commas
// (contents=read,issues=write). A name given twice is a mistake, even at the
// same level: one of the two was probably meant to be another permission.
func (p *PermissionFlag) Set(v string) error {
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
			*p = PermissionFlag{}
		}
		(*p)[name] = level
	}
	return nil
}

// Args returns the permissions as sorted name=level strings.
func (p PermissionFlag) Args() []string {
	out := make([]string, 0, len(p))
	for n, l := range p {
		out = append(out, n+"="+l)
	}
	slices.Sort(out)
	return out
}
