package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/org/app-token/internal/browser"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/oauth"
	"github.com/org/app-token/internal/store"
)

// webSignInTimeout bounds the wait for the browser to come back.
const webSignInTimeout = 15 * time.Minute

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
they expire, and check the access token with GitHub (GET /user). Exits 4
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

func loginOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// loginConfigDir is where the token files and locks live:
// APP_TOKEN_CONFIG_DIR, else app-token's folder in the user config folder,
// as os.UserConfigDir finds it, read through getenv.
func loginConfigDir(getenv func(string) string) (string, error) {
	return userDir(getenv, true, envConfigDir)
}

// loginScryptLogN is the scrypt cost of new token files: 0 is the store's
// default (2^15). The tests of this package lower it once, in init, because
// under the race detector each derivation at full cost takes seconds; the
// end-to-end test runs the real binary at the default.
var loginScryptLogN = 0

// userStore opens the token store the environment describes.
// allowPlaintext is --insecure-storage.
func (c *cli) userStore(allowPlaintext bool) (*store.Store, error) {
	dir, err := loginConfigDir(c.getenv)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(store.Options{
		Mode:           strings.ToLower(strings.TrimSpace(c.getenv(envStore))),
		Dir:            dir,
		Keyring:        store.SystemKeyring(),
		Passphrase:     c.getenv(envStoreKey),
		AllowPlaintext: allowPlaintext,
		ScryptLogN:     loginScryptLogN,
	})
	if err != nil {
		return nil, usagef("%s=%q: use keyring, file, or leave it unset (the keychain when it answers, else the file)", envStore, c.getenv(envStore))
	}
	return st, nil
}

// oauthOptions are the oauth options every sign-in command shares.
func (c *cli) oauthOptions() []oauth.Option {
	return []oauth.Option{oauth.WithHTTPClient(c.http), oauth.WithClock(c.now), oauth.WithWait(c.wait)}
}

func (c *cli) oauthClient(clientID, secret, githubURL, apiURL string, scopes []string) (*oauth.Client, error) {
	return oauth.New(oauth.Config{
		ClientID: clientID, ClientSecret: secret, GitHubURL: githubURL, APIURL: apiURL, Scopes: scopes,
	}, c.oauthOptions()...)
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func (c *cli) cmdLogin(ctx context.Context, args []string) error {
	fs := c.flags("login", "", loginHelp)
	var f settings
	f.registerSignIn(fs, true)
	device := fs.Bool("device", false, "sign in with the device flow: enter a code on any device with a browser (the default)")
	web := fs.Bool("web", false, "sign in with this machine's browser (loopback redirect with PKCE); needs the client secret")
	scopes := fs.String("scopes", "", "OAuth App `scopes`, comma- or space-separated (GitHub Apps ignore scopes: their permissions apply)")
	noBrowser := fs.Bool("no-browser", false, "do not open or offer to open a browser; only print the URL")
	insecure := fs.Bool("insecure-storage", false, "where there is no OS keychain and no $"+envStoreKey+", store the tokens in a plaintext file")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("login takes no arguments, got %q", fs.Arg(0))
	}
	if *device && *web {
		return usagef("--device and --web exclude each other: pick one")
	}
	f.resolve(fs, c.getenv)
	t, err := f.ghHost()
	if err != nil {
		return err
	}
	if f.clientID == "" {
		return usagef("no client ID: pass --client-id or set %s (the client ID on the app's settings page, such as Iv23li..., not its numeric app ID)", envClientID)
	}
	if *web && f.clientSecret == "" {
		return usagef("--web needs the app's client secret: pass --client-secret or set %s (the device flow, the default, needs none)", envClientSecret)
	}
	st, err := c.userStore(*insecure)
	if err != nil {
		return err
	}
	if _, err := st.Target(ctx, t.GitHost()); err != nil {
		return c.storeWriteError(err)
	}
	client, err := c.oauthClient(f.clientID, f.clientSecret, t.WebURL(), t.APIURL(), splitScopes(*scopes))
	if err != nil {
		return err
	}
	flow := "device"
	var tok *oauth.Token
	if *web {
		flow = "web"
		tok, err = c.webSignIn(ctx, client, t, *noBrowser)
	} else {
		tok, err = c.deviceSignIn(ctx, client, t, *noBrowser)
	}
	if err != nil {
		return signInError(err, f.clientID, t, *web)
	}
	user, err := client.User(ctx, tok.AccessToken)
	if err != nil {
		return fmt.Errorf("check who signed in (--api-url %s): %w", t.APIURL(), err)
	}
	now := c.now()
	e := store.Entry{
		Host: t.GitHost(), ClientID: f.clientID, GitHubURL: t.WebURL(), APIURL: t.APIURL(),
		ClientSecret: f.clientSecret, Flow: flow, Scopes: tok.Scope, Login: user.Login, UserID: user.ID,
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresAt: tok.ExpiresAt,
		RefreshToken: tok.RefreshToken, RefreshExpiresAt: tok.RefreshExpiresAt, SignedInAt: now,
	}
	loc, err := st.Save(ctx, e)
	if err != nil {
		return c.storeWriteError(err)
	}
	fmt.Fprintf(c.stderr, "Signed in to %s as %s.\n", t.GitHost(), user.Login)
	fmt.Fprintf(c.stderr, "Tokens stored in %s.\n", loc)
	if !loc.Encrypted {
		fmt.Fprintf(c.stderr, "Warning: anyone who can read that file can act as %s. Prefer a keychain or %s.\n", user.Login, envStoreKey)
	}
	switch {
	case tok.ExpiresAt.IsZero():
		fmt.Fprintln(c.stderr, "The token does not expire.")
	case tok.RefreshToken != "":
		fmt.Fprintf(c.stderr, "The access token expires in %s; app-token refreshes it when used%s.\n",
			loginDuration(tok.ExpiresAt.Sub(now)), loginUntil(tok.RefreshExpiresAt))
	default:
		fmt.Fprintf(c.stderr, "The access token expires in %s; sign in again then.\n", loginDuration(tok.ExpiresAt.Sub(now)))
	}
	return nil
}

func loginUntil(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format("2006-01-02")
}

// loginDuration rounds d for people: 7h59m, 14m, 30s.
func loginDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	case d > 0:
		return d.Round(time.Second).String()
	default:
		return "0s"
	}
}

// deviceSignIn runs the device flow, telling the person what to do on
// stderr.
func (c *cli) deviceSignIn(ctx context.Context, client *oauth.Client, t ghhost.Host, noBrowser bool) (*oauth.Token, error) {
	da, err := client.DeviceCode(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.stderr, "\n  First copy your one-time code:  %s\n  Then open:  %s\n\n", da.UserCode, da.VerificationURI)
	if !noBrowser && browser.IsTerminal(c.stdin) && browser.IsTerminal(c.stderr) && browser.IsWebURL(da.VerificationURI) {
		fmt.Fprintf(c.stderr, "Press Enter to open %s in your browser.\n", da.VerificationURI)
		go c.openOnEnter(ctx, da.VerificationURI)
	}
	wait := "Waiting for you to approve the sign-in"
	if !da.Expiry.IsZero() {
		wait += fmt.Sprintf(" (the code expires in %s", loginDuration(da.Expiry.Sub(c.now())))
		wait += "; Ctrl-C cancels)"
	} else {
		wait += " (Ctrl-C cancels)"
	}
	fmt.Fprintln(c.stderr, wait+"...")
	return client.DeviceToken(ctx, da, func(interval time.Duration) {
		fmt.Fprintf(c.stderr, "GitHub asked app-token to poll less often: now every %s.\n", interval)
	})
}

// openOnEnter opens u in the browser when the person presses Enter. It
// runs in its own goroutine, which a sign-in that ends first leaves blocked
// on stdin until the process exits.
func (c *cli) openOnEnter(ctx context.Context, u string) {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil || !strings.HasSuffix(line, "\n") || ctx.Err() != nil {
		return
	}
	if err := browser.Open(c.getenv("BROWSER"), u); err != nil {
		fmt.Fprintf(c.stderr, "Could not open a browser (%v): open %s yourself.\n", err, u)
	}
}

// webSignIn runs the web flow on a loopback redirect.
func (c *cli) webSignIn(ctx context.Context, client *oauth.Client, t ghhost.Host, noBrowser bool) (*oauth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, webSignInTimeout)
	defer cancel()
	flow, err := client.StartWeb(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.stderr, "\n  Open this page to sign in to %s:\n\n  %s\n\n", t.GitHost(), flow.AuthURL())
	if !noBrowser {
		if err := browser.Open(c.getenv("BROWSER"), flow.AuthURL()); err != nil {
			fmt.Fprintf(c.stderr, "Could not open a browser (%v): open the page yourself.\n", err)
		} else {
			fmt.Fprintln(c.stderr, "Opened it in your browser.")
		}
	}
	fmt.Fprintf(c.stderr, "Waiting for the browser to come back to %s (Ctrl-C cancels)...\n", flow.RedirectURL())
	tok, err := flow.Wait(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, errBrowserTimeout
	}
	return tok, err
}

// errBrowserTimeout ends a web sign-in whose browser never came back.
var errBrowserTimeout = fmt.Errorf("the browser did not come back within %s", webSignInTimeout)

// signInError turns a failed sign-in into advice. GitHub's refusals are
// auth failures (exit 4).
func signInError(err error, clientID string, t ghhost.Host, web bool) error {
	again := "app-token login"
	if web {
		again += " --web"
	}
	var oe *oauth.Error
	var he *oauth.HTTPError
	switch {
	case oauth.IsCanceled(err):
		return errors.New("sign-in cancelled")
	case errors.Is(err, errBrowserTimeout):
		return &authError{fmt.Errorf("%w: run %s again", err, again)}
	case errors.Is(err, oauth.ErrStateMismatch):
		return &authError{fmt.Errorf("%w, so app-token refused it (a page app-token did not open tried to complete the sign-in): run %s again", err, again)}
	case errors.As(err, &oe):
		var advice string
		switch oe.Code {
		case oauth.CodeAccessDenied:
			advice = "the sign-in was cancelled in the browser: run " + again + " again and authorize the app"
		case oauth.CodeExpiredToken:
			advice = "the code expired before the sign-in was approved: run " + again + " again and enter the code sooner"
		case oauth.CodeDeviceFlowDisabled:
			advice = fmt.Sprintf("the device flow is not enabled for client %s: tick \"Enable Device Flow\" in the app's settings, or sign in with app-token login --web", clientID)
		case oauth.CodeIncorrectCredentials:
			if web {
				advice = fmt.Sprintf("GitHub refused client ID %q or its secret: check --client-id (%s) and --client-secret (%s)", clientID, envClientID, envClientSecret)
			} else {
				advice = fmt.Sprintf("GitHub does not know client ID %q: check --client-id or %s (the client ID on the app's settings page, not its app ID) and --github-url", clientID, envClientID)
			}
		case oauth.CodeBadVerificationCode, "invalid_grant":
			advice = "GitHub refused the code the browser brought back (expired or already used): run " + again + " again"
		case oauth.CodeRedirectMismatch:
			advice = "GitHub refused the loopback redirect: add http://127.0.0.1/callback to the app's callback URLs, or use the device flow"
		default:
			advice = "the sign-in failed: run " + again + " again"
		}
		return &authError{fmt.Errorf("%s (%v)", advice, oe)}
	case errors.As(err, &he):
		return fmt.Errorf("sign in: %w: check that --github-url (%s) is GitHub's web address, such as https://github.com or https://HOST for GHES", err, t.WebURL())
	}
	return fmt.Errorf("sign in: %w", err)
}

// storeWriteError turns a failure to save tokens into advice.
func (c *cli) storeWriteError(err error) error {
	switch {
	case errors.Is(err, store.ErrNeedPassphrase):
		return usagef("nowhere safe to store the tokens: there is no OS keychain (or %s=file) and %s is not set; set %s to a passphrase to encrypt the token file, or pass --insecure-storage to store it in plaintext",
			envStore, envStoreKey, envStoreKey)
	case errors.Is(err, store.ErrKeyringUnavailable), errors.Is(err, store.ErrKeyringTimeout):
		return fmt.Errorf("store the tokens: %w (unset %s or set it to file to use an encrypted file instead)", err, envStore)
	}
	return fmt.Errorf("store the tokens: %w", err)
}

// loadSignIn finds the entry for host (oauth.SignedIn), or says why
// nobody counts as signed in.
func (c *cli) loadSignIn(ctx context.Context, st *store.Store, host, clientID string, strict bool) (store.Entry, error) {
	e, err := oauth.SignedIn(ctx, st, host, clientID, strict)
	if err != nil {
		return e, signedOutError(err, host)
	}
	return e, nil
}

// signedOutError says why nobody counts as signed in to host.
func signedOutError(err error, host string) error {
	login := "app-token login --client-id <the app's client ID>"
	if host != "github.com" {
		login += " --github-url https://" + host
	}
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &authError{fmt.Errorf("not signed in to %s: sign in with %s", host, login)}
	case errors.As(err, &ce):
		return &authError{fmt.Errorf("%w; nobody counts as signed in to %s until %s replaces it", err, host, login)}
	case errors.Is(err, store.ErrWrongPassphrase):
		return &authError{fmt.Errorf("the token file for %s does not open with %s (another passphrase, or the file was altered): set the passphrase used at sign-in, or sign in again with %s", host, envStoreKey, login)}
	case errors.Is(err, store.ErrNeedPassphrase):
		return &authError{fmt.Errorf("the tokens for %s are in an encrypted file: set %s to the passphrase used at sign-in", host, envStoreKey)}
	case errors.Is(err, store.ErrAmbiguous):
		return usagef("%v of %s: pass --client-id or set %s to pick one", err, host, envClientID)
	case errors.Is(err, store.ErrKeyringUnavailable), errors.Is(err, store.ErrKeyringTimeout):
		return fmt.Errorf("read the token store: %w (unset %s or set it to file to use the token file)", err, envStore)
	}
	return fmt.Errorf("read the token store: %w", err)
}

// freshSignIn returns e refreshed if needed (oauth.Refreshed); secret
// overrides the stored client secret. Errors say what to do.
func (c *cli) freshSignIn(ctx context.Context, st *store.Store, e store.Entry, secret string) (store.Entry, error) {
	fresh, err := oauth.Refreshed(ctx, st, e, secret, c.oauthOptions()...)
	var oe *oauth.Error
	switch {
	case err == nil:
		return fresh, nil
	case errors.Is(err, oauth.ErrSignInAgain):
		return e, fmt.Errorf("%s: %w: sign in again with app-token login", e.Host, err)
	case errors.As(err, &oe) && oe.Code == oauth.CodeIncorrectCredentials:
		return e, fmt.Errorf("GitHub refused to refresh the token for %s without the right client secret (%w): pass --client-secret or set %s", e.Host, oe, envClientSecret)
	}
	return e, err
}

// openSignIn parses the flags of status, user-token and logout, which take
// no arguments, and opens the store their sign-in lives in.
func (c *cli) openSignIn(fs *flag.FlagSet, f *settings, args []string) (ghhost.Host, *store.Store, error) {
	if err := c.parse(fs, args); err != nil {
		return ghhost.Host{}, nil, err
	}
	if fs.NArg() > 0 {
		return ghhost.Host{}, nil, usagef("%s takes no arguments, got %q", fs.Name(), fs.Arg(0))
	}
	f.resolve(fs, c.getenv)
	t, err := f.ghHost()
	if err != nil {
		return ghhost.Host{}, nil, err
	}
	st, err := c.userStore(false)
	if err != nil {
		return ghhost.Host{}, nil, err
	}
	return t, st, nil
}

func (c *cli) cmdStatus(ctx context.Context, args []string) error {
	fs := c.flags("status", "", statusHelp)
	var f settings
	f.registerSignIn(fs, false)
	t, st, err := c.openSignIn(fs, &f, args)
	if err != nil {
		return err
	}
	e, err := c.loadSignIn(ctx, st, t.GitHost(), f.clientID, f.given["client-id"])
	if err != nil {
		return err
	}
	apiURL := e.APIURL
	if f.given["api-url"] {
		apiURL = t.APIURL()
	}
	now := c.now()
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", e.Host)
	fmt.Fprintf(tw, "  Signed in as:\t%s\n", loginOr(e.Login, "(unknown)"))
	fmt.Fprintf(tw, "  Client ID:\t%s\n", e.ClientID)
	if !e.SignedInAt.IsZero() {
		fmt.Fprintf(tw, "  Signed in:\t%s with the %s flow\n", e.SignedInAt.UTC().Format("2006-01-02 15:04 MST"), loginOr(e.Flow, "device"))
	}
	fmt.Fprintf(tw, "  Stored in:\t%s\n", e.Location)
	var result error
	expired := !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
	switch {
	case e.ExpiresAt.IsZero():
		fmt.Fprintf(tw, "  Expires:\tnever\n")
	case expired:
		fmt.Fprintf(tw, "  Expires:\texpired at %s\n", e.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
	default:
		fmt.Fprintf(tw, "  Expires:\t%s (in %s)\n", e.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"), loginDuration(e.ExpiresAt.Sub(now)))
	}
	if e.RefreshToken != "" {
		if !e.RefreshExpiresAt.IsZero() && !now.Before(e.RefreshExpiresAt) {
			fmt.Fprintf(tw, "  Refresh:\tthe refresh token expired at %s: sign in again with app-token login\n", e.RefreshExpiresAt.UTC().Format("2006-01-02"))
			result = errSilentAuth
		} else {
			fmt.Fprintf(tw, "  Refresh:\tautomatic%s\n", loginUntil(e.RefreshExpiresAt))
		}
	}
	switch {
	case expired && e.RefreshToken != "" && result == nil:
		fmt.Fprintf(tw, "  Token:\tnot checked: expired; app-token user-token (or git) refreshes it\n")
	case expired:
		fmt.Fprintf(tw, "  Token:\texpired: sign in again with app-token login\n")
		result = errSilentAuth
	default:
		client, err := c.oauthClient(e.ClientID, "", e.GitHubURL, apiURL, nil)
		if err != nil {
			return err
		}
		user, err := client.User(ctx, e.AccessToken)
		var ae *oauth.APIError
		switch {
		case err == nil && strings.EqualFold(user.Login, e.Login):
			fmt.Fprintf(tw, "  Token:\tvalid (GET %s/user answered for %s)\n", strings.TrimRight(apiURL, "/"), user.Login)
		case err == nil:
			fmt.Fprintf(tw, "  Token:\tvalid, but GitHub says it belongs to %s\n", user.Login)
		case errors.As(err, &ae) && ae.Status == 401:
			fmt.Fprintf(tw, "  Token:\tREFUSED by GitHub (%v): sign in again with app-token login\n", ae)
			result = errSilentAuth
		default:
			fmt.Fprintf(tw, "  Token:\tnot checked: %v\n", err)
			result = errSilent
		}
	}
	if e.Location.Kind == store.KindFile && !e.Location.Encrypted {
		fmt.Fprintf(tw, "  Warning:\tthe tokens are in plaintext (--insecure-storage): anyone who can read the file can use them\n")
	}
	tw.Flush()
	return result
}

func (c *cli) cmdUserToken(ctx context.Context, args []string) error {
	fs := c.flags("user-token", "", userTokenHelp)
	var f settings
	f.registerSignIn(fs, true)
	t, st, err := c.openSignIn(fs, &f, args)
	if err != nil {
		return err
	}
	e, err := c.loadSignIn(ctx, st, t.GitHost(), f.clientID, f.given["client-id"])
	if err != nil {
		return err
	}
	if f.given["api-url"] {
		e.APIURL = t.APIURL()
	}
	e, err = c.freshSignIn(ctx, st, e, f.clientSecret)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, e.AccessToken)
	return nil
}

func (c *cli) cmdLogout(ctx context.Context, args []string) error {
	fs := c.flags("logout", "", logoutHelp)
	var f settings
	f.registerSignIn(fs, true)
	revoke := fs.Bool("revoke", false, "also revoke the access token on GitHub (needs the client secret)")
	t, st, err := c.openSignIn(fs, &f, args)
	if err != nil {
		return err
	}
	e, err := st.Load(ctx, t.GitHost(), f.clientID)
	if errors.Is(err, store.ErrNotFound) && f.clientID != "" && !f.given["client-id"] {
		e, err = st.Load(ctx, t.GitHost(), "")
	}
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(c.stderr, "Not signed in to %s: nothing to forget.\n", t.GitHost())
		return nil
	case errors.As(err, &ce), errors.Is(err, store.ErrWrongPassphrase), errors.Is(err, store.ErrNeedPassphrase):
		if *revoke {
			return fmt.Errorf("cannot revoke: %w; run logout without --revoke to delete the unreadable tokens", signedOutError(err, t.GitHost()))
		}
		if _, derr := st.Delete(ctx, t.GitHost(), f.clientID); derr != nil && !errors.Is(derr, store.ErrNotFound) && !errors.As(derr, &ce) &&
			!errors.Is(derr, store.ErrWrongPassphrase) && !errors.Is(derr, store.ErrNeedPassphrase) {
			return fmt.Errorf("forget the tokens: %w", derr)
		}
		fmt.Fprintf(c.stderr, "Deleted the unreadable tokens of %s (%v).\n", t.GitHost(), err)
		return nil
	case err != nil:
		return signedOutError(err, t.GitHost())
	}
	if *revoke {
		if err := c.revokeSignIn(ctx, e, &f, t); err != nil {
			return err
		}
	}
	if _, err := st.Delete(ctx, e.Host, e.ClientID); err != nil {
		return fmt.Errorf("forget the tokens: %w", err)
	}
	fmt.Fprintf(c.stderr, "Signed out of %s (%s): forgot the tokens in %s.\n", e.Host, loginOr(e.Login, "unknown user"), e.Location)
	return nil
}

// revokeSignIn revokes e's access token, or says why there is nothing to
// revoke. A failure keeps the tokens, so that logout can be run again.
func (c *cli) revokeSignIn(ctx context.Context, e store.Entry, f *settings, t ghhost.Host) error {
	secret := loginOr(f.clientSecret, e.ClientSecret)
	if secret == "" {
		return usagef("--revoke needs the app's client secret: pass --client-secret or set %s (or run logout without --revoke to only forget the tokens)", envClientSecret)
	}
	if !e.ExpiresAt.IsZero() && !c.now().Before(e.ExpiresAt) {
		fmt.Fprintf(c.stderr, "The access token had already expired: nothing to revoke.\n")
		return nil
	}
	apiURL := e.APIURL
	if f.given["api-url"] {
		apiURL = t.APIURL()
	}
	client, err := c.oauthClient(e.ClientID, secret, e.GitHubURL, apiURL, nil)
	if err != nil {
		return err
	}
	err = client.Revoke(ctx, e.AccessToken)
	var ae *oauth.APIError
	switch {
	case err == nil:
		fmt.Fprintf(c.stderr, "Revoked the access token on GitHub.\n")
	case errors.Is(err, oauth.ErrTokenUnknown):
		fmt.Fprintf(c.stderr, "GitHub no longer knew the access token (already revoked, or the client secret is not this app's).\n")
	case errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403):
		return &authError{fmt.Errorf("GitHub refused to revoke the token (%v): check --client-secret (%s); the tokens are kept", err, envClientSecret)}
	default:
		return fmt.Errorf("%w; the tokens are kept: run logout again, or without --revoke to only forget them", err)
	}
	return nil
}

// signedInToken returns the signed-in user's access token for the GitHub
// at webURL (git's protocol://host), refreshing it first if it expires
// within 5 minutes: credential --user's answer. A --client-id given as a
// flag must match the sign-in; APP_TOKEN_CLIENT_ID, which may name the App
// the credential helper mints for, only states a preference.
func (c *cli) signedInToken(ctx context.Context, webURL, flagClientID string) (token string, expiresAt time.Time, err error) {
	host, err := ghhost.New(webURL, "")
	if err != nil {
		return "", time.Time{}, err
	}
	st, err := c.userStore(false)
	if err != nil {
		return "", time.Time{}, err
	}
	clientID := flagClientID
	if clientID == "" {
		clientID = strings.TrimSpace(c.getenv(envClientID))
	}
	e, err := c.loadSignIn(ctx, st, host.GitHost(), clientID, flagClientID != "")
	if err != nil {
		return "", time.Time{}, err
	}
	e, err = c.freshSignIn(ctx, st, e, strings.TrimSpace(c.getenv(envClientSecret)))
	if err != nil {
		return "", time.Time{}, err
	}
	return e.AccessToken, e.ExpiresAt, nil
}
