package appauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is how many same-origin redirects one call follows; Go's
// own default is 10.
const maxRedirects = 10

// checkSameOrigin is the redirect policy of every API client: follow a
// redirect only to the origin (scheme, host and port) of the request that
// began the chain. GitHub answers a renamed or transferred repository with
// 301 or 307 to the same host
// (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects);
// anything else is refused, so that neither a header a transport adds nor a
// body a 307 replays (a client secret, a refresh token) reaches another
// origin. Go itself strips Authorization only across hosts, not ports, and
// never a body.
func checkSameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if first := via[0].URL; !isOrigin(req.URL, first) {
		return fmt.Errorf("refused a redirect from %s to another origin, %s: only redirects within %s are followed",
			origin(via[len(via)-1].URL), origin(req.URL), origin(first))
	}
	return nil
}

// SameOriginRedirects returns a copy of c that follows redirects only
// within the first request's origin (see checkSameOrigin), then applies c's
// own policy, if any.
func SameOriginRedirects(c *http.Client) *http.Client {
	cp := *c
	next := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkSameOrigin(req, via); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cp
}

// originTransport sends only requests for the API URL's origin. It sits
// above the authenticating transports, so that even a caller that follows
// redirects its own way cannot have them attach the App's JWT or a token to
// a request for another origin: Go strips Authorization on a cross-host
// redirect only when the header was set on the first request, not when a
// transport adds it on each hop.
type originTransport struct {
	origin *url.URL
	next   http.RoundTripper
}

func (t *originTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isOrigin(req.URL, t.origin) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("appauth: refused to send credentials to " + origin(req.URL) + ", which is not the API's origin " + origin(t.origin))
	}
	return t.next.RoundTrip(req)
}

// isOrigin reports whether u has the scheme, host and port of api, with
// default ports made explicit (https://a and https://a:443 are one origin).
func isOrigin(u, api *url.URL) bool {
	return strings.EqualFold(u.Scheme, api.Scheme) && strings.EqualFold(hostPort(u), hostPort(api))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// origin is scheme://host[:port], which names where a request goes without
// its path or query.
func origin(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}
