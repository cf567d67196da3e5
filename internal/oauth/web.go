package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrStateMismatch means a request reached the callback with a state that
// is not the one this sign-in sent: it was not started by us (RFC 6749
// §10.12; GitHub: "If the states don't match, then a third party created
// the request, and you should abort the process."). With WithStrayWarning
// the flow refuses such a request and keeps waiting for the real callback,
// which ends the request, not the sign-in, that anything able to reach
// 127.0.0.1 could otherwise end; the warning receives this error wrapped.
// Without it, Wait returns this error for the first such request.
var ErrStateMismatch = errors.New("the sign-in callback carried the wrong state")

// WebOption configures a web sign-in.
type WebOption func(*WebFlow)

// WithStrayWarning makes the flow refuse a request to the callback with the
// wrong state (or with neither code nor error) and keep waiting, and have
// warn called (from the loopback server's goroutine) for each, the first
// few only. Only a callback with the right state and a code or an error
// then ends the flow. Without this option the first callback ends it,
// whatever it carried, and Wait reports why.
func WithStrayWarning(warn func(error)) WebOption { return func(w *WebFlow) { w.warn = warn } }

// maxStrayWarnings bounds how many refused callbacks are reported.
const maxStrayWarnings = 5

// WebFlow is one sign-in through the browser: a loopback server on
// 127.0.0.1 and a random port receives GitHub's redirect (RFC 8252 §7.3:
// loopback IP literal, not "localhost"), checks state, and exchanges the
// code with the PKCE verifier (RFC 7636, S256).
type WebFlow struct {
	c        *Client
	ctx      context.Context
	conf     *oauth2.Config
	srv      *http.Server
	state    string
	verifier string
	authURL  string

	warn func(error)

	mu     sync.Mutex
	done   bool // a callback ended the flow
	strays int
	result chan webResult
}

type webResult struct {
	tok *Token
	err error
}

// StartWeb listens on 127.0.0.1 on a random port and prepares the
// authorize URL: the caller shows it (and may open a browser), then calls
// Wait. The exchange of the code uses ctx.
func (c *Client) StartWeb(ctx context.Context, opts ...WebOption) (*WebFlow, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1 for the browser's redirect: %w", err)
	}
	w := &WebFlow{
		c:        c,
		ctx:      ctx,
		conf:     c.config(fmt.Sprintf("http://%s/callback", ln.Addr())),
		state:    randomString(32),
		verifier: oauth2.GenerateVerifier(),
		result:   make(chan webResult, 1),
	}
	for _, o := range opts {
		o(w)
	}
	w.authURL = w.conf.AuthCodeURL(w.state, oauth2.S256ChallengeOption(w.verifier))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", w.callback)
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go w.srv.Serve(ln)
	return w, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthURL is the page the person opens to sign in. It carries the state and
// the PKCE challenge, never the verifier.
func (w *WebFlow) AuthURL() string { return w.authURL }

// RedirectURL is the loopback callback GitHub sends the browser back to.
func (w *WebFlow) RedirectURL() string { return w.conf.RedirectURL }

// Wait returns the token once the browser came back and the code was
// exchanged, then stops the loopback server. It fails with an *Error for
// a callback with the right state carrying error= (access_denied when the
// person cancelled) or for a refused exchange, and with ctx.Err() when ctx
// ends first. A callback with the wrong state is refused: it ends the wait
// with ErrStateMismatch, or, with WithStrayWarning, is reported and waited
// past.
func (w *WebFlow) Wait(ctx context.Context) (*Token, error) {
	defer w.Close()
	select {
	case r := <-w.result:
		return r.tok, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the loopback server, letting a callback page being written
// finish.
func (w *WebFlow) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := w.srv.Shutdown(ctx); err != nil {
		return w.srv.Close()
	}
	return nil
}

// pageTmpl is parsed on first use, not at every start of app-token.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>app-token: {{.Title}}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36em; margin: 4em auto; line-height: 1.5">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p>You can close this tab and return to the terminal.</p>
</body></html>
`

func page(rw http.ResponseWriter, status int, title, msg string) {
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	rw.WriteHeader(status)
	pageTmpl().Execute(rw, map[string]string{"Title": title, "Message": msg})
}

// callback handles GitHub's redirect. With a warn callback, the first one
// with this flow's state and a code or an error ends the flow; others are
// refused, reported through warn, and the flow keeps waiting. Without one,
// the first callback ends the flow.
func (w *WebFlow) callback(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		page(rw, http.StatusGone, "Sign-in already finished", "This sign-in has already finished.")
		return
	}
	q := r.URL.Query()
	matches := subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(w.state)) == 1
	var stray error
	switch {
	case !matches:
		stray = fmt.Errorf("refused a request to %s: %w (it was not started by this sign-in); still waiting for GitHub's", w.conf.RedirectURL, ErrStateMismatch)
	case q.Get("error") == "" && q.Get("code") == "":
		stray = fmt.Errorf("refused a request to %s that carried neither a code nor an error; still waiting for GitHub's", w.conf.RedirectURL)
	}
	why := "This page was not opened by the sign-in app-token started (its state does not match), so app-token refused it."
	if matches {
		why = "This page came without a code or an error from GitHub, so app-token refused it."
	}
	if stray != nil && w.warn == nil {
		// No one to warn: the stray ends the flow.
		w.done = true
		w.mu.Unlock()
		err := ErrStateMismatch
		if matches {
			err = errors.New("the sign-in callback carried neither a code nor an error")
		}
		page(rw, http.StatusBadRequest, "Sign-in refused", why)
		w.result <- webResult{err: err}
		return
	}
	if stray != nil {
		w.strays++
		report := w.strays <= maxStrayWarnings
		w.mu.Unlock()
		if report {
			w.warn(stray)
		}
		page(rw, http.StatusBadRequest, "Sign-in refused", why+" The sign-in goes on.")
		return
	}
	w.done = true
	w.mu.Unlock()
	var res webResult
	if q.Get("error") != "" {
		e := &Error{Code: clean(q.Get("error")), Description: clean(q.Get("error_description")), URI: clean(q.Get("error_uri"))}
		res.err = e
		msg := "GitHub did not sign you in: " + e.Code + "."
		if e.Description != "" {
			msg = "GitHub did not sign you in: " + e.Description
		}
		page(rw, http.StatusForbidden, "Sign-in failed", msg)
	} else {
		res.tok, res.err = w.exchange(q.Get("code"))
		if res.err != nil {
			page(rw, http.StatusBadGateway, "Sign-in failed", "GitHub refused to exchange the code for a token. The terminal says why.")
		} else {
			page(rw, http.StatusOK, "Signed in", "app-token is signed in to GitHub.")
		}
	}
	if f, ok := rw.(http.Flusher); ok {
		f.Flush()
	}
	w.result <- res
}

// exchange trades the code for a token with x/oauth2's Exchange, sending
// the PKCE verifier and the redirect URI.
func (w *WebFlow) exchange(code string) (*Token, error) {
	issued := w.c.now()
	t, err := w.conf.Exchange(w.c.ctx(w.ctx), code, oauth2.VerifierOption(w.verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the code for a token: %w", fromRetrieve(err, w.conf.Endpoint.TokenURL))
	}
	return fromOAuth2(t, issued), nil
}
