// Package signin is a person's sign-in as the CLI holds it: signing in with
// the device or web flow and telling the person what to do (Login),
// reporting it (Status), serving its access token fresh (Token), and
// forgetting it (Logout). Its sign-ins live in a store.Store the caller
// opens. It writes to the Session's writers only, reads no environment,
// and its errors carry advice: those wrapping ErrSetting are mistakes in
// the settings, those wrapping ErrSignedOut mean the person must sign in
// (again).
package signin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/org/app-token/internal/browser"
	"github.com/org/app-token/internal/ghhost"
	"github.com/org/app-token/internal/oauth"
	"github.com/org/app-token/internal/store"
)

// Session is what the sign-in commands need of their world.
type Session struct {
	In       io.Reader
	Out, Err io.Writer
	// Browser is the $BROWSER command line; empty uses the platform's.
	Browser string
	Now     func() time.Time
	// OAuth configures every oauth.Client (HTTP client, clock, waits).
	OAuth []oauth.Option
	// EnvName names the environment variable behind a setting in advice:
	// "client-id", "client-secret", "store" and "store-key".
	EnvName func(setting string) string
}

// ErrSetting is wrapped by errors that mean a setting is missing or wrong
// (exit 2); ErrSignedOut by those that mean nobody usable is signed in, or
// GitHub refused the sign-in (exit 4).
var (
	ErrSetting   = errors.New("bad setting")
	ErrSignedOut = errors.New("signed out")
)

// adviceError is advice (its whole message) about err, of one kind.
type adviceError struct {
	msg  string
	kind error
	err  error
}

func (e *adviceError) Error() string   { return e.msg }
func (e *adviceError) Unwrap() []error { return []error{e.kind, e.err} }

func settingf(format string, args ...any) error {
	return &adviceError{msg: fmt.Sprintf(format, args...), kind: ErrSetting}
}

func signedOut(err error) error { return &adviceError{msg: err.Error(), kind: ErrSignedOut, err: err} }

// errSilent and errSilentSignedOut end a command that has already said
// everything (status's report).
var (
	errSilent          = errors.New("")
	errSilentSignedOut = &adviceError{kind: ErrSignedOut}
)

func (s *Session) env(setting string) string { return s.EnvName(setting) }

func (s *Session) client(clientID, secret, githubURL, apiURL string, scopes []string) (*oauth.Client, error) {
	return oauth.New(oauth.Config{
		ClientID: clientID, ClientSecret: secret, GitHubURL: githubURL, APIURL: apiURL, Scopes: scopes,
	}, s.OAuth...)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// webSignInTimeout bounds the wait for the browser to come back.
const webSignInTimeout = 15 * time.Minute

// LoginRequest says who signs in where, and how.
type LoginRequest struct {
	Host                   ghhost.Host
	ClientID, ClientSecret string
	Scopes                 []string
	// Web picks the web flow (it needs the client secret); NoBrowser only
	// prints URLs.
	Web, NoBrowser bool
}

// Login signs a person in and saves their tokens in st, telling them on
// Err what to do and what happened.
func (s *Session) Login(ctx context.Context, st *store.Store, l LoginRequest) error {
	t, f := l.Host, l
	if _, err := st.Target(ctx, t.GitHost()); err != nil {
		return s.storeWriteError(err)
	}
	client, err := s.client(f.ClientID, f.ClientSecret, t.WebURL(), t.APIURL(), l.Scopes)
	if err != nil {
		return err
	}
	flow := "device"
	var tok *oauth.Token
	if l.Web {
		flow = "web"
		tok, err = s.webSignIn(ctx, client, t, l.NoBrowser)
	} else {
		tok, err = s.deviceSignIn(ctx, client, t, l.NoBrowser)
	}
	if err != nil {
		return s.signInError(err, f.ClientID, t, l.Web)
	}
	user, err := client.User(ctx, tok.AccessToken)
	if err != nil {
		return fmt.Errorf("check who signed in (--api-url %s): %w", t.APIURL(), err)
	}
	now := s.Now()
	e := store.Entry{
		Host: t.GitHost(), ClientID: f.ClientID, GitHubURL: t.WebURL(), APIURL: t.APIURL(),
		ClientSecret: f.ClientSecret, Flow: flow, Scopes: tok.Scope, Login: user.Login, UserID: user.ID,
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresAt: tok.ExpiresAt,
		RefreshToken: tok.RefreshToken, RefreshExpiresAt: tok.RefreshExpiresAt, SignedInAt: now,
	}
	loc, err := st.Save(ctx, e)
	if err != nil {
		return s.storeWriteError(err)
	}
	fmt.Fprintf(s.Err, "Signed in to %s as %s.\n", t.GitHost(), user.Login)
	fmt.Fprintf(s.Err, "Tokens stored in %s.\n", loc)
	if !loc.Encrypted {
		fmt.Fprintf(s.Err, "Warning: anyone who can read that file can act as %s. Prefer a keychain or %s.\n", user.Login, s.env("store-key"))
	}
	switch {
	case tok.ExpiresAt.IsZero():
		fmt.Fprintln(s.Err, "The token does not expire.")
	case tok.RefreshToken != "":
		fmt.Fprintf(s.Err, "The access token expires in %s; app-token refreshes it when used%s.\n",
			duration(tok.ExpiresAt.Sub(now)), until(tok.RefreshExpiresAt))
	default:
		fmt.Fprintf(s.Err, "The access token expires in %s; sign in again then.\n", duration(tok.ExpiresAt.Sub(now)))
	}
	return nil
}

func until(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format("2006-01-02")
}

// loginDuration rounds d for people: 7h59m, 14m, 30s.
func duration(d time.Duration) string {
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
func (s *Session) deviceSignIn(ctx context.Context, client *oauth.Client, t ghhost.Host, noBrowser bool) (*oauth.Token, error) {
	da, err := client.DeviceCode(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Err, "\n  First copy your one-time code:  %s\n  Then open:  %s\n\n", da.UserCode, da.VerificationURI)
	if !noBrowser && browser.IsTerminal(s.In) && browser.IsTerminal(s.Err) && browser.IsWebURL(da.VerificationURI) {
		fmt.Fprintf(s.Err, "Press Enter to open %s in your browser.\n", da.VerificationURI)
		go s.openOnEnter(ctx, da.VerificationURI)
	}
	wait := "Waiting for you to approve the sign-in"
	if !da.Expiry.IsZero() {
		wait += fmt.Sprintf(" (the code expires in %s", duration(da.Expiry.Sub(s.Now())))
		wait += "; Ctrl-C cancels)"
	} else {
		wait += " (Ctrl-C cancels)"
	}
	fmt.Fprintln(s.Err, wait+"...")
	stop := s.showWaiting()
	defer func() { stop() }() // the one running when the flow ends
	return client.DeviceToken(ctx, da, func(interval time.Duration) {
		stop()
		fmt.Fprintf(s.Err, "GitHub asked app-token to poll less often: now every %s.\n", interval)
		stop = s.showWaiting()
	})
}

// showWaiting shows, on a terminal, that app-token is waiting: a spinner
// and the time elapsed, rewritten in place once a second. Elsewhere (a log,
// a pipe) it shows nothing: an animation would only fill the log. The
// returned stop clears the line.
func (s *Session) showWaiting() (stop func()) {
	if !browser.IsTerminal(s.Err) {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	start := s.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(s.Err, "\r%c waiting for approval: %s", `|/-\`[i%4], s.Now().Sub(start).Round(time.Second))
			select {
			case <-done:
				fmt.Fprint(s.Err, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once bool
	return func() {
		if !once {
			once = true
			close(done)
			<-finished
		}
	}
}

// openOnEnter opens u in the browser when the person presses Enter. It
// runs in its own goroutine, which a sign-in that ends first leaves blocked
// on stdin until the process exits.
func (s *Session) openOnEnter(ctx context.Context, u string) {
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil || !strings.HasSuffix(line, "\n") || ctx.Err() != nil {
		return
	}
	if err := browser.Open(s.Browser, u); err != nil {
		fmt.Fprintf(s.Err, "Could not open a browser (%v): open %s yourself.\n", err, u)
	}
}

// webSignIn runs the web flow on a loopback redirect.
func (s *Session) webSignIn(ctx context.Context, client *oauth.Client, t ghhost.Host, noBrowser bool) (*oauth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, webSignInTimeout)
	defer cancel()
	// A callback with another state (a stray page, a scanner) is refused and
	// shown; the sign-in goes on waiting for the browser's own.
	flow, err := client.StartWeb(ctx, oauth.WithStrayWarning(func(err error) { fmt.Fprintf(s.Err, "Warning: %v\n", err) }))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Err, "\n  Open this page to sign in to %s:\n\n  %s\n\n", t.GitHost(), flow.AuthURL())
	if !noBrowser {
		if err := browser.Open(s.Browser, flow.AuthURL()); err != nil {
			fmt.Fprintf(s.Err, "Could not open a browser (%v): open the page yourself.\n", err)
		} else {
			fmt.Fprintln(s.Err, "Opened it in your browser.")
		}
	}
	fmt.Fprintf(s.Err, "Waiting for the browser to come back to %s (Ctrl-C cancels)...\n", flow.RedirectURL())
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
func (s *Session) signInError(err error, clientID string, t ghhost.Host, web bool) error {
	again := "app-token login"
	if web {
		again += " --web"
	}
	var oe *oauth.Error
	var he *oauth.HTTPError
	switch {
	case oauth.IsCanceled(err):
		return fmt.Errorf("sign-in cancelled: nothing was stored (%w)", err)
	case errors.Is(err, errBrowserTimeout):
		return signedOut(fmt.Errorf("%w: run %s again", err, again))
	case errors.Is(err, oauth.ErrStateMismatch):
		return signedOut(fmt.Errorf("%w, so app-token refused it (a page app-token did not open tried to complete the sign-in): run %s again", err, again))
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
				advice = fmt.Sprintf("GitHub refused client ID %q or its secret: check --client-id (%s) and --client-secret (%s)", clientID, s.env("client-id"), s.env("client-secret"))
			} else {
				advice = fmt.Sprintf("GitHub does not know client ID %q: check --client-id or %s (the client ID on the app's settings page, not its app ID) and --github-url", clientID, s.env("client-id"))
			}
		case oauth.CodeBadVerificationCode, "invalid_grant":
			advice = "GitHub refused the code the browser brought back (expired or already used): run " + again + " again"
		case oauth.CodeRedirectMismatch:
			advice = "GitHub refused the loopback redirect: add http://127.0.0.1/callback to the app's callback URLs, or use the device flow"
		default:
			advice = "the sign-in failed: run " + again + " again"
		}
		return signedOut(fmt.Errorf("%s (%v)", advice, oe))
	case errors.As(err, &he):
		return fmt.Errorf("sign in: %w: check that --github-url (%s) is GitHub's web address, such as https://github.com or https://HOST for GHES", err, t.WebURL())
	}
	return fmt.Errorf("sign in: %w", err)
}

// storeWriteError turns a failure to save tokens into advice.
func (s *Session) storeWriteError(err error) error {
	switch {
	case errors.Is(err, store.ErrNeedPassphrase):
		return settingf("nowhere safe to store the tokens: there is no OS keychain (or %s=file) and %s is not set; set %s to a passphrase to encrypt the token file, or pass --insecure-storage to store it in plaintext",
			s.env("store"), s.env("store-key"), s.env("store-key"))
	case errors.Is(err, store.ErrKeyringUnavailable), errors.Is(err, store.ErrKeyringTimeout):
		return fmt.Errorf("store the tokens: %w (unset %s or set it to file to use an encrypted file instead)", err, s.env("store"))
	}
	return fmt.Errorf("store the tokens: %w", err)
}

// signedOutError says why nobody counts as signed in to host.
func (s *Session) signedOutError(err error, h ghhost.Host) error {
	host := h.GitHost()
	login := "app-token login --client-id <the app's client ID>"
	if !h.IsGitHubCom() {
		login += " --github-url " + h.WebURL() // http:// for a loopback emulator
	}
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return signedOut(fmt.Errorf("not signed in to %s: sign in with %s", host, login))
	case errors.As(err, &ce):
		return signedOut(fmt.Errorf("%w; nobody counts as signed in to %s until %s replaces it", err, host, login))
	case errors.Is(err, store.ErrWrongPassphrase):
		return signedOut(fmt.Errorf("the token file for %s does not open with %s (another passphrase, or the file was altered): set the passphrase used at sign-in, or sign in again with %s", host, s.env("store-key"), login))
	case errors.Is(err, store.ErrNeedPassphrase):
		return signedOut(fmt.Errorf("the tokens for %s are in an encrypted file: set %s to the passphrase used at sign-in", host, s.env("store-key")))
	case errors.Is(err, store.ErrAmbiguous):
		return settingf("%v of %s: pass --client-id or set %s to pick one", err, host, s.env("client-id"))
	case errors.Is(err, store.ErrKeyringUnavailable), errors.Is(err, store.ErrKeyringTimeout):
		return fmt.Errorf("read the token store: %w (unset %s or set it to file to use the token file)", err, s.env("store"))
	}
	return fmt.Errorf("read the token store: %w", err)
}

// fresh returns e refreshed if needed (oauth.Refreshed); secret
// overrides the stored client secret. Errors say what to do.
func (s *Session) fresh(ctx context.Context, st *store.Store, e store.Entry, secret string) (store.Entry, error) {
	fresh, err := oauth.Refreshed(ctx, st, e, secret, s.OAuth...)
	var oe *oauth.Error
	switch {
	case err == nil:
		return fresh, nil
	case errors.Is(err, oauth.ErrSignInAgain):
		return e, fmt.Errorf("%s: %w: sign in again with app-token login", e.Host, err)
	case errors.As(err, &oe) && oe.Code == oauth.CodeIncorrectCredentials:
		return e, fmt.Errorf("GitHub refused to refresh the token for %s without the right client secret (%w): pass --client-secret or set %s", e.Host, oe, s.env("client-secret"))
	}
	return e, err
}

// Query names one sign-in: the host's, of ClientID when set (with Strict it
// must match; without, it is only a preference).
type Query struct {
	Host     ghhost.Host
	ClientID string
	Strict   bool
	// APIURL, when set, replaces the stored API URL (--api-url).
	APIURL string
	// ClientSecret, when set, replaces the stored client secret.
	ClientSecret string
	// GitHelper, when set, says which source git's credential helper for
	// the host uses; Status reports it, signed in or not.
	GitHelper string
	// JSON makes Status print a StatusReport as JSON instead of a table.
	JSON bool
}

// StatusReport is what status --json prints: never a token.
type StatusReport struct {
	Host             string     `json:"host"`
	Login            string     `json:"login"`
	ClientID         string     `json:"client_id"`
	Flow             string     `json:"flow"`
	SignedInAt       *time.Time `json:"signed_in_at"`
	Store            string     `json:"store"`      // "keyring" or "file"
	StorePath        string     `json:"store_path"` // the keychain item or the file
	Encrypted        bool       `json:"encrypted"`
	ExpiresAt        *time.Time `json:"expires_at"` // null: the token does not expire
	RefreshExpiresAt *time.Time `json:"refresh_expires_at"`
	Refreshable      bool       `json:"refreshable"`
	// Token is the check with GitHub: "valid", "refused", "expired",
	// "refresh-expired" or "unchecked".
	Token string `json:"token"`
	// Detail says more about Token when it is not valid.
	Detail string `json:"detail,omitempty"`
	// GitHelper says which source git's credential helper uses for the
	// host (app-token with the App, the signed-in user, $NAME; another
	// helper; none).
	GitHelper string `json:"git_helper,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Find returns the sign-in q names, or says why nobody counts as signed in.
func (s *Session) Find(ctx context.Context, st *store.Store, q Query) (store.Entry, error) {
	e, err := oauth.SignedIn(ctx, st, q.Host.GitHost(), q.ClientID, q.Strict)
	if err != nil {
		return e, s.signedOutError(err, q.Host)
	}
	return e, nil
}

// Status reports the sign-in q names on Out and checks its access token
// with GitHub (GET /user); it fails (silently: the report says why) when
// the token is expired or refused.
func (s *Session) Status(ctx context.Context, st *store.Store, q Query) error {
	e, err := s.Find(ctx, st, q)
	if err != nil {
		if q.GitHelper != "" && !q.JSON {
			fmt.Fprintf(s.Out, "%s\n  Git helper:  %s\n", q.Host.GitHost(), q.GitHelper)
		}
		return err
	}
	f := q
	apiURL := e.APIURL
	if f.APIURL != "" {
		apiURL = f.APIURL
	}
	now := s.Now()
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	rep := StatusReport{
		Host: e.Host, Login: e.Login, ClientID: e.ClientID, Flow: or(e.Flow, "device"), SignedInAt: timePtr(e.SignedInAt),
		Store: string(e.Location.Kind), StorePath: e.Location.Path, Encrypted: e.Location.Encrypted,
		ExpiresAt: timePtr(e.ExpiresAt), RefreshExpiresAt: timePtr(e.RefreshExpiresAt), Refreshable: e.RefreshToken != "",
		Token: "valid",
	}
	fmt.Fprintf(tw, "%s\n", e.Host)
	fmt.Fprintf(tw, "  Signed in as:\t%s\n", or(e.Login, "(unknown)"))
	fmt.Fprintf(tw, "  Client ID:\t%s\n", e.ClientID)
	if !e.SignedInAt.IsZero() {
		fmt.Fprintf(tw, "  Signed in:\t%s with the %s flow\n", e.SignedInAt.UTC().Format("2006-01-02 15:04 MST"), or(e.Flow, "device"))
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
		fmt.Fprintf(tw, "  Expires:\t%s (in %s)\n", e.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"), duration(e.ExpiresAt.Sub(now)))
	}
	if e.RefreshToken != "" {
		if !e.RefreshExpiresAt.IsZero() && !now.Before(e.RefreshExpiresAt) {
			fmt.Fprintf(tw, "  Refresh:\tthe refresh token expired at %s: sign in again with app-token login\n", e.RefreshExpiresAt.UTC().Format("2006-01-02"))
			result = errSilentSignedOut
			rep.Token, rep.Detail = "refresh-expired", "sign in again with app-token login"
		} else {
			fmt.Fprintf(tw, "  Refresh:\tautomatic%s\n", until(e.RefreshExpiresAt))
		}
	}
	switch {
	case expired && e.RefreshToken != "" && result == nil:
		fmt.Fprintf(tw, "  Token:\tnot checked: expired; app-token user-token (or git) refreshes it\n")
		rep.Token, rep.Detail = "expired", "app-token user-token (or git) refreshes it"
	case expired:
		fmt.Fprintf(tw, "  Token:\texpired: sign in again with app-token login\n")
		result = errSilentSignedOut
		if rep.Token == "valid" {
			rep.Token, rep.Detail = "expired", "sign in again with app-token login"
		}
	default:
		client, err := s.client(e.ClientID, "", e.GitHubURL, apiURL, nil)
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
			rep.Detail = "GitHub says it belongs to " + user.Login
		case errors.As(err, &ae) && ae.Status == 401:
			fmt.Fprintf(tw, "  Token:\tREFUSED by GitHub (%v): sign in again with app-token login\n", ae)
			result = errSilentSignedOut
			rep.Token, rep.Detail = "refused", ae.Error()
		default:
			fmt.Fprintf(tw, "  Token:\tnot checked: %v\n", err)
			result = errSilent
			rep.Token, rep.Detail = "unchecked", err.Error()
		}
	}
	if q.GitHelper != "" {
		fmt.Fprintf(tw, "  Git helper:\t%s\n", q.GitHelper)
		rep.GitHelper = q.GitHelper
	}
	if e.Location.Kind == store.KindFile && !e.Location.Encrypted {
		fmt.Fprintf(tw, "  Warning:\tthe tokens are in plaintext (--insecure-storage): anyone who can read the file can use them\n")
	}
	tw.Flush()
	if q.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		return result
	}
	if _, err := s.Out.Write(table.Bytes()); err != nil {
		return err
	}
	return result
}

// Token returns the sign-in q names with an access token that lives at
// least oauth.RefreshMargin longer, refreshing it first if needed.
func (s *Session) Token(ctx context.Context, st *store.Store, q Query) (store.Entry, error) {
	e, err := s.Find(ctx, st, q)
	if err != nil {
		return e, err
	}
	if q.APIURL != "" {
		e.APIURL = q.APIURL
	}
	return s.fresh(ctx, st, e, q.ClientSecret)
}

// Logout forgets the sign-in q names (first revoking its access token on
// GitHub with revoke). Unreadable tokens are deleted, unless revoke needs
// them.
func (s *Session) Logout(ctx context.Context, st *store.Store, q Query, revoke bool) error {
	t, f := q.Host, q
	e, err := st.Load(ctx, t.GitHost(), f.ClientID)
	if errors.Is(err, store.ErrNotFound) && f.ClientID != "" && !f.Strict {
		e, err = st.Load(ctx, t.GitHost(), "")
	}
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(s.Err, "Not signed in to %s: nothing to forget.\n", t.GitHost())
		return nil
	case errors.As(err, &ce), errors.Is(err, store.ErrWrongPassphrase), errors.Is(err, store.ErrNeedPassphrase):
		if revoke {
			return fmt.Errorf("cannot revoke: %w; run logout without --revoke to delete the unreadable tokens", s.signedOutError(err, t))
		}
		if _, derr := st.Delete(ctx, t.GitHost(), f.ClientID); derr != nil && !errors.Is(derr, store.ErrNotFound) && !errors.As(derr, &ce) &&
			!errors.Is(derr, store.ErrWrongPassphrase) && !errors.Is(derr, store.ErrNeedPassphrase) {
			return fmt.Errorf("forget the tokens: %w", derr)
		}
		fmt.Fprintf(s.Err, "Deleted the unreadable tokens of %s (%v).\n", t.GitHost(), err)
		return nil
	case err != nil:
		return s.signedOutError(err, t)
	}
	if revoke {
		if err := s.revokeSignIn(ctx, e, f, t); err != nil {
			return err
		}
	}
	if _, err := st.Delete(ctx, e.Host, e.ClientID); err != nil {
		return fmt.Errorf("forget the tokens: %w", err)
	}
	fmt.Fprintf(s.Err, "Signed out of %s (%s): forgot the tokens in %s.\n", e.Host, or(e.Login, "unknown user"), e.Location)
	return nil
}

// revokeSignIn revokes e's access token, or says why there is nothing to
// revoke. A failure keeps the tokens, so that logout can be run again.
func (s *Session) revokeSignIn(ctx context.Context, e store.Entry, f Query, t ghhost.Host) error {
	secret := or(f.ClientSecret, e.ClientSecret)
	if secret == "" {
		return settingf("--revoke needs the app's client secret: pass --client-secret or set %s (or run logout without --revoke to only forget the tokens)", s.env("client-secret"))
	}
	if !e.ExpiresAt.IsZero() && !s.Now().Before(e.ExpiresAt) {
		fmt.Fprintf(s.Err, "The access token had already expired: nothing to revoke.\n")
		return nil
	}
	apiURL := e.APIURL
	if f.APIURL != "" {
		apiURL = f.APIURL
	}
	client, err := s.client(e.ClientID, secret, e.GitHubURL, apiURL, nil)
	if err != nil {
		return err
	}
	err = client.Revoke(ctx, e.AccessToken)
	var ae *oauth.APIError
	switch {
	case err == nil:
		fmt.Fprintf(s.Err, "Revoked the access token on GitHub.\n")
	case errors.Is(err, oauth.ErrTokenUnknown):
		fmt.Fprintf(s.Err, "GitHub no longer knew the access token (already revoked, or the client secret is not this app's).\n")
	case errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403):
		return signedOut(fmt.Errorf("GitHub refused to revoke the token (%v): check --client-secret (%s); the tokens are kept", err, s.env("client-secret")))
	default:
		return fmt.Errorf("%w; the tokens are kept: run logout again, or without --revoke to only forget them", err)
	}
	return nil
}

// HelperToken is "credential --user"'s answer: the signed-in user's access
// token for the GitHub at webURL (git's protocol://host), refreshed first
// if it would not live oauth.RefreshMargin longer. A client ID given as a
// flag (strict) must match the sign-in; one from the environment, which may
// name the App the helper mints for, only states a preference.
func (s *Session) HelperToken(ctx context.Context, st *store.Store, webURL, clientID string, strict bool, secret string) (string, time.Time, error) {
	host, err := ghhost.New(webURL, "")
	if err != nil {
		return "", time.Time{}, err
	}
	e, err := s.Token(ctx, st, Query{Host: host, ClientID: clientID, Strict: strict, ClientSecret: secret})
	if err != nil {
		return "", time.Time{}, err
	}
	return e.AccessToken, e.ExpiresAt, nil
}
