package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/oauth"
	"github.com/org/app-token/internal/settings"
	"github.com/org/app-token/internal/signin"
	"github.com/org/app-token/internal/store"
)

const loginHelp = `
Sign a person in to GitHub with a GitHub App's (or OAuth App's) client ID
and keep their user token: in the OS keychain, or where there is none in a
file encrypted with $APP_TOKEN_STORE_KEY.

The device flow is the default: app-token shows a one-time code and a URL;
open the URL on any device, enter the code and approve. It needs no client
secret; enable "Device Flow" in the app's settings. With --web, app-token
opens GitHub in this machine's browser and receives the answer on
http://127.0.0.1:<random port>/callback (PKCE, S256); it needs the client
secret.

Expiring user tokens (GitHub Apps: 8 hours) are refreshed when used
(app-token user-token, or git through 'app-token credential --user').

Environment: APP_TOKEN_CLIENT_ID, APP_TOKEN_CLIENT_SECRET,
APP_TOKEN_GITHUB_URL, APP_TOKEN_API_URL (flags win); APP_TOKEN_STORE
(keyring, file, or unset: the keychain when it answers, else the file);
APP_TOKEN_STORE_KEY (passphrase of the token file); APP_TOKEN_CONFIG_DIR
(folder of the token file; default: the user config folder).

Examples:
  app-token login --client-id Iv23liExample
  app-token login --client-id Iv23liExample --web --client-secret "$SECRET"
  app-token login --client-id Iv23liExample --github-url https://ghe.example
`

const statusHelp = `
Show who is signed in to a GitHub host, where the tokens are stored and when
they expire, and check the access token with GitHub (GET /user). It also
says which source git's credential helper for the host uses: app-token's
with installation tokens of the App, the signed-in user's token or a token
from an environment variable (--token-env), another helper, or none. Exits 4
when nobody is signed in or GitHub refuses the token.
`

const userTokenHelp = `
Print the signed-in user's access token on stdout, refreshing it first when
it has expired or expires within 5 minutes. Exits 4 when nobody is signed in
or the refresh token is no longer valid (sign in again with app-token login).
`

const logoutHelp = `
Forget the signed-in user's tokens for a GitHub host. With --revoke, first
revoke the access token on GitHub (DELETE /applications/{client_id}/token),
which needs the app's client secret. To withdraw the app's access entirely,
revoke its authorization in your GitHub settings (Applications).
`

// loginScryptLogN is the scrypt cost of new token files: 0 is the store's
// default (2^15). The tests of this package lower it once, in init, because
// under the race detector each derivation at full cost takes seconds; the
// end-to-end test runs the real binary at the default.
var loginScryptLogN = 0

// userStore opens the token store the environment describes.
// allowPlaintext is --insecure-storage.
func (c *cli) userStore(allowPlaintext bool) (*store.Store, error) {
	return settings.UserStore(c.getenv, allowPlaintext, loginScryptLogN)
}

// session is the world of the sign-in commands.
func (c *cli) session() *signin.Session {
	return &signin.Session{
		In: c.stdin, Out: c.stdout, Err: c.stderr, Browser: c.getenv("BROWSER"), Now: c.now,
		OAuth:   []oauth.Option{oauth.WithHTTPClient(c.http), oauth.WithClock(c.now), oauth.WithWait(c.wait)},
		EnvName: func(setting string) string { return settings.FlagEnv[setting] },
	}
}

func (c *cli) cmdLogin(ctx context.Context, args []string) error {
	fs := c.flags("login", "", loginHelp)
	var f settings.Settings
	f.RegisterSignIn(fs, true)
	cliflag.Explain(fs, "client-secret", "needed by --web only")
	device := fs.Bool("device", false, "sign in with the device flow: enter a code on any device with a browser (the default)")
	web := fs.Bool("web", false, "sign in with this machine's browser (loopback redirect with PKCE); needs the client secret")
	scopes := fs.String("scopes", "", "OAuth App `scopes`, comma- or space-separated (GitHub Apps ignore scopes: their permissions apply)")
	noBrowser := fs.Bool("no-browser", false, "do not open or offer to open a browser; only print the URL")
	insecure := fs.Bool("insecure-storage", false, "where there is no OS keychain and no $"+settings.EnvStoreKey+", store the tokens in a plaintext file")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("login takes no arguments, got %q", fs.Arg(0))
	}
	if *device && *web {
		return usagef("--device and --web exclude each other: pick one")
	}
	f.Resolve(fs, c.getenv)
	c.debugHTTP(&f)
	t, err := f.GHHost()
	if err != nil {
		return err
	}
	if f.ClientID == "" {
		return usagef("no client ID: pass --client-id or set %s (the client ID on the app's settings page, such as Iv23li..., not its numeric app ID)", settings.EnvClientID)
	}
	if *web && f.ClientSecret == "" {
		return usagef("--web needs the app's client secret: pass --client-secret or set %s (the device flow, the default, needs none)", settings.EnvClientSecret)
	}
	st, err := c.userStore(*insecure)
	if err != nil {
		return err
	}
	return c.session().Login(ctx, st, signin.LoginRequest{
		Host: t, ClientID: f.ClientID, ClientSecret: f.ClientSecret, Web: *web, NoBrowser: *noBrowser,
		Scopes: strings.FieldsFunc(*scopes, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }),
	})
}

// signInQuery parses the flags of status, user-token and logout, which take
// no arguments, and opens the store their sign-in lives in.
func (c *cli) signInQuery(fs *flag.FlagSet, f *settings.Settings, args []string) (signin.Query, *store.Store, error) {
	if err := c.parse(fs, args); err != nil {
		return signin.Query{}, nil, err
	}
	if fs.NArg() > 0 {
		return signin.Query{}, nil, usagef("%s takes no arguments, got %q", fs.Name(), fs.Arg(0))
	}
	f.Resolve(fs, c.getenv)
	c.debugHTTP(f)
	t, err := f.GHHost()
	if err != nil {
		return signin.Query{}, nil, err
	}
	st, err := c.userStore(false)
	if err != nil {
		return signin.Query{}, nil, err
	}
	q := signin.Query{Host: t, ClientID: f.ClientID, Strict: f.Given("client-id"), ClientSecret: f.ClientSecret}
	if f.Given("api-url") {
		q.APIURL = t.APIURL()
	}
	return q, st, nil
}

func (c *cli) cmdStatus(ctx context.Context, args []string) error {
	fs := c.flags("status", "", statusHelp)
	var f settings.Settings
	f.RegisterSignIn(fs, false)
	asJSON := fs.Bool("json", false, "print JSON: host, login, client_id, flow, signed_in_at, store, store_path, encrypted, expires_at, refresh_expires_at, refreshable, token (the check: valid, refused, expired, refresh-expired or unchecked), detail")
	q, st, err := c.signInQuery(fs, &f, args)
	if err != nil {
		return err
	}
	q.GitHelper = c.gitHelperSource(ctx, q.Host)
	q.JSON = *asJSON
	return c.session().Status(ctx, st, q)
}

func (c *cli) cmdUserToken(ctx context.Context, args []string) error {
	fs := c.flags("user-token", "", userTokenHelp)
	var f settings.Settings
	f.RegisterSignIn(fs, true)
	cliflag.Explain(fs, "client-secret", "needed only to refresh a token from a web sign-in whose secret was not stored")
	q, st, err := c.signInQuery(fs, &f, args)
	if err != nil {
		return err
	}
	e, err := c.session().Token(ctx, st, q)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, e.AccessToken)
	return err
}

func (c *cli) cmdLogout(ctx context.Context, args []string) error {
	fs := c.flags("logout", "", logoutHelp)
	var f settings.Settings
	f.RegisterSignIn(fs, true)
	cliflag.Explain(fs, "client-secret", "needed by --revoke when it was not stored at sign-in")
	revoke := fs.Bool("revoke", false, "also revoke the access token on GitHub (needs the client secret)")
	q, st, err := c.signInQuery(fs, &f, args)
	if err != nil {
		return err
	}
	return c.session().Logout(ctx, st, q, *revoke)
}

// signedInToken is credential --user's answer for the GitHub at webURL
// (signin.Session.HelperToken): a --client-id flag must match the sign-in,
// APP_TOKEN_CLIENT_ID only states a preference.
func (c *cli) signedInToken(ctx context.Context, webURL, flagClientID string) (token string, expiresAt time.Time, err error) {
	st, err := c.userStore(false)
	if err != nil {
		return "", time.Time{}, err
	}
	clientID := cmp.Or(flagClientID, strings.TrimSpace(c.getenv(settings.EnvClientID)))
	return c.session().HelperToken(ctx, st, webURL, clientID, flagClientID != "", strings.TrimSpace(c.getenv(settings.EnvClientSecret)))
}
