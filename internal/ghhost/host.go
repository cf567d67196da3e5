// Package ghhost is the one place that knows GitHub's hosts: github.com,
// GitHub Enterprise Server (web at https://HOST, REST API at
// https://HOST/api/v3), GHE.com tenancies (web at https://NAME.ghe.com, API
// at https://api.NAME.ghe.com) and loopback emulators over plain http. A
// Host is parsed once from what the user gave (a web URL, an API URL, or
// neither) and answers every later question: the web URL sign-in uses, the
// API URL apps call, and the host git names in its credential requests.
//
// The layout follows GitHub's documentation of the REST API root ("For
// GitHub Enterprise Server, the base URL is http(s)://HOSTNAME/api/v3",
// https://docs.github.com/en/enterprise-server@latest/rest/quickstart) and
// cli/cli's internal/ghinstance. The package never reads the environment.
package ghhost

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

const (
	// DefaultWebURL is github.com, the host used when none is given.
	DefaultWebURL = "https://github.com"
	// DefaultAPIURL is github.com's REST API.
	DefaultAPIURL = "https://api.github.com"
)

const (
	githubCom = "github.com"
	tenancy   = ".ghe.com" // GHE.com: api.NAME.ghe.com serves NAME.ghe.com
)

// Host is one GitHub: its web URL and its REST API URL, both without a
// trailing slash. The zero Host is not valid; use Default.
type Host struct {
	web *url.URL
	api *url.URL
}

// Default is github.com.
func Default() Host {
	h, err := New("", "")
	if err != nil {
		panic(err) // the defaults parse
	}
	return h
}

// New returns the Host that webURL and apiURL describe, either of which may
// be empty: an empty API URL is derived from the web URL (api.github.com for
// github.com, api.NAME.ghe.com for NAME.ghe.com, else WEB/api/v3), an empty
// web URL from the API URL (the reverse; an API URL of another shape, such as
// an emulator's root, serves its own host), and with neither it is
// github.com. Errors name neither flag: the caller adds which one.
func New(webURL, apiURL string) (Host, error) {
	var h Host
	var err error
	if webURL != "" {
		if h.web, err = ParseWebURL(webURL); err != nil {
			return Host{}, &Error{Web: true, Err: err}
		}
	}
	if apiURL != "" {
		if h.api, err = ParseAPIURL(apiURL); err != nil {
			return Host{}, &Error{Err: err}
		}
	}
	switch {
	case h.web == nil && h.api == nil:
		h.web, _ = url.Parse(DefaultWebURL)
		h.api, _ = url.Parse(DefaultAPIURL)
	case h.api == nil:
		h.api = apiFor(h.web)
	case h.web == nil:
		h.web = webFor(h.api)
	}
	return h, nil
}

// ForGit returns the Host for a git host given as "HOST[:PORT]" or
// "SCHEME://HOST[:PORT]" (no path: git keys its credentials by host), with
// apiURL as its REST API, or the API derived from the host when apiURL is
// empty.
func ForGit(gitHost, apiURL string) (Host, error) {
	u, err := ParseWebURL(gitHost)
	if err == nil && u.Path != "" {
		err = fmt.Errorf("%q is not a git host such as github.com or https://ghe.example.com (no path)", gitHost)
	}
	if err != nil {
		return Host{}, &Error{Web: true, Err: err}
	}
	return New(u.String(), apiURL)
}

// Error is a URL that does not describe a GitHub host. Web says which of the
// two URLs it was.
type Error struct {
	Web bool
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrPlainHTTP is wrapped by the error for an http:// URL whose host is not
// loopback: tokens, JWTs and client secrets must not cross a network in
// clear.
var ErrPlainHTTP = errors.New("plain http is only for loopback hosts (127.0.0.1, ::1, localhost), such as the emulator: use https")

// ParseAPIURL checks a REST API root: an absolute https URL, or http for a
// loopback host, with no credentials, query or fragment. The path is kept
// without its trailing slash.
func ParseAPIURL(raw string) (*url.URL, error) {
	return parse(raw, false, "https://api.github.com or https://HOST/api/v3")
}

// ParseWebURL checks a GitHub web URL as ParseAPIURL does, and also accepts
// a bare "HOST[:PORT]", which means https.
func ParseWebURL(raw string) (*url.URL, error) {
	return parse(raw, true, "https://github.com or https://HOST")
}

func parse(raw string, bare bool, example string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if bare && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%q is not a URL such as %s", raw, example)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%q: %w", raw, ErrPlainHTTP)
		}
	default:
		return nil, fmt.Errorf("%q is not an https URL such as %s", raw, example)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	u.ForceQuery = false
	return u, nil
}

// IsLoopback reports whether host (a name or an IP, without a port, with or
// without brackets) is this machine: localhost or a loopback address.
func IsLoopback(host string) bool {
	h := strings.Trim(host, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// apiFor is the REST API of a web host.
func apiFor(web *url.URL) *url.URL {
	api := *web
	host := strings.ToLower(web.Hostname())
	switch {
	case host == githubCom && web.Path == "":
		api.Host, api.Scheme = "api."+githubCom, "https"
	case strings.HasSuffix(host, tenancy) && !strings.HasPrefix(host, "api.") && web.Path == "":
		api.Host = "api." + web.Host
	default:
		api.Path = web.Path + "/api/v3"
	}
	return &api
}

// webFor is the web host an API URL serves.
func webFor(api *url.URL) *url.URL {
	web := *api
	host := strings.ToLower(api.Hostname())
	switch {
	case host == "api."+githubCom && api.Path == "":
		web.Host = githubCom
	case strings.HasPrefix(host, "api.") && strings.HasSuffix(host, tenancy) && api.Path == "":
		web.Host = api.Host[len("api."):]
	case strings.HasSuffix(api.Path, "/api/v3"):
		web.Path = strings.TrimSuffix(api.Path, "/api/v3")
	default:
		// An emulator or proxy rooted elsewhere: the same host serves both.
		web.Path = ""
	}
	return &web
}

// WebURL is where people sign in (/login/...): https://github.com,
// https://HOST for GHES, or an emulator's root.
func (h Host) WebURL() string { return h.web.String() }

// APIURL is the REST API root without a trailing slash.
func (h Host) APIURL() string { return h.api.String() }

// API is a copy of the REST API root as a URL.
func (h Host) API() *url.URL { u := *h.api; return &u }

// GitHost is the host (with its port, if any, lowercase) that git names in
// credential requests for this GitHub: "github.com", "ghe.example",
// "127.0.0.1:8080".
func (h Host) GitHost() string { return strings.ToLower(h.web.Host) }

// GitURL is the URL git's configuration keys credential settings by, as in
// credential.https://github.com.helper: the web host's scheme and host.
func (h Host) GitURL() string { return h.web.Scheme + "://" + h.GitHost() }

// Loopback reports whether the web host is this machine (an emulator).
func (h Host) Loopback() bool { return IsLoopback(h.web.Hostname()) }

// IsGitHubCom reports whether the host is github.com.
func (h Host) IsGitHubCom() bool { return h.GitHost() == githubCom }

// Serves says why a git credential request for protocol://host is not for
// this Host, or "" when it is: the host must be this one (git sends it with
// its port), and the protocol https, or http for a loopback host.
func (h Host) Serves(protocol, host string) string {
	switch {
	case host == "":
		return "git named no host"
	case !strings.EqualFold(host, h.GitHost()):
		return fmt.Sprintf("host %q is not the configured %q", host, h.GitHost())
	case protocol == "https":
		return ""
	case protocol == "http" && h.Loopback():
		return ""
	default:
		return fmt.Sprintf("protocol %q is not https", protocol)
	}
}

// SameAPI reports whether two API URLs name the same REST API root
// (ignoring case of scheme and host and a trailing slash).
func SameAPI(a, b string) bool {
	ua, err1 := ParseAPIURL(a)
	ub, err2 := ParseAPIURL(b)
	return err1 == nil && err2 == nil && ua.String() == ub.String()
}
