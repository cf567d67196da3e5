// Package gitcred speaks git's credential-helper protocol and keeps the
// cache of installation tokens that "app-token credential" answers from, so
// that many git processes, clones and submodules share one token.
//
// The protocol is git's, as gitcredentials(7) and git-credential(1)
// describe it: git runs the helper with one operation (get, store or erase)
// and writes "key=value" lines to its stdin, ending with a blank line or end
// of file; for get, the helper answers in the same format on stdout.
package gitcred

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Credential is one credential description: the attributes of git's
// protocol that app-token reads or writes. Others (capability[], wwwauth[],
// state[], authtype, ...) are read and dropped, as git-credential(1) says:
// "Unrecognised attributes are silently discarded".
type Credential struct {
	Protocol string
	Host     string // with the port, when git has one ("example.com:8088")
	Path     string // "owner/repo.git" when credential.useHttpPath is true
	Username string
	Password string
	// PasswordExpiry is password_expiry_utc (git 2.41 and later): git
	// ignores a stored password past it. Zero when absent.
	PasswordExpiry time.Time
}

// MaxLine bounds one line of input. Git itself refuses credential lines
// longer than 65535 bytes; a token, even a long stateless one, is far
// shorter.
const MaxLine = 64 << 10

// maxInput bounds the whole description, so that a helper never reads
// without end.
const maxInput = 1 << 20

// Parse reads a credential description: "key=value" lines up to a blank
// line or end of file. The last value of a key wins; url= is split into
// protocol, host, path and username as git does. It fails on a line
// without "=", an over-long line or input, or a url that is not one; its
// errors never quote the input, which may hold a password.
func Parse(r io.Reader) (*Credential, error) {
	c := &Credential{}
	sc := bufio.NewScanner(io.LimitReader(r, maxInput))
	sc.Buffer(make([]byte, 0, 4096), MaxLine+2)
	total := 0
	for n := 1; sc.Scan(); n++ {
		// git reads lines with strbuf_getline, which also drops a CR
		// before the LF.
		line := strings.TrimSuffix(sc.Text(), "\r")
		total += len(sc.Bytes()) + 1
		if line == "" {
			return c, nil
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("credential line %d holds a NUL byte", n)
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("credential line %d is not key=value", n)
		}
		if err := c.set(key, value); err != nil {
			return nil, fmt.Errorf("credential line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a credential line is longer than %d bytes", MaxLine)
		}
		return nil, fmt.Errorf("read credential: %w", err)
	}
	if total >= maxInput {
		return nil, fmt.Errorf("credential description is longer than %d bytes", maxInput)
	}
	return c, nil
}

func (c *Credential) set(key, value string) error {
	switch key {
	case "protocol":
		c.Protocol = value
	case "host":
		c.Host = value
	case "path":
		c.Path = value
	case "username":
		c.Username = value
	case "password":
		c.Password = value
	case "password_expiry_utc":
		// git stores a Unix time in seconds; anything else means no expiry.
		c.PasswordExpiry = time.Time{}
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n > 0 && n < 1<<40 {
			c.PasswordExpiry = time.Unix(n, 0).UTC()
		}
	case "url":
		return c.setURL(value)
	}
	return nil
}

// setURL splits url= into its parts, as git's credential_from_url does:
// protocol and host always; path, username and password when present.
func (c *Credential) setURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return errors.New("url= is not a URL with a scheme")
	}
	parts := Credential{Protocol: u.Scheme, Host: u.Host, Path: strings.TrimPrefix(u.Path, "/")}
	if u.User != nil {
		parts.Username = u.User.Username()
		parts.Password, _ = u.User.Password()
	}
	// Percent-decoding can yield bytes no line can carry.
	for _, v := range []string{parts.Protocol, parts.Host, parts.Path, parts.Username, parts.Password} {
		if !writable(v) {
			return errors.New("url= decodes to a newline or NUL")
		}
	}
	c.Protocol, c.Host = parts.Protocol, parts.Host
	if parts.Path != "" {
		c.Path = parts.Path
	}
	if u.User != nil {
		c.Username = parts.Username
		if parts.Password != "" {
			c.Password = parts.Password
		}
	}
	return nil
}

// writable reports whether v can be sent as a value: git-credential(1)
// says "The value may contain any bytes except newline or NUL". A final CR
// is refused too: git would drop it on reading.
func writable(v string) bool {
	return !strings.ContainsAny(v, "\n\x00") && !strings.HasSuffix(v, "\r")
}

// Format returns c as "key=value" lines for the non-empty attributes,
// followed by the blank line that ends a description. It fails, writing
// nothing, when a value holds a newline or NUL (which would let it forge
// other attributes) or ends in CR.
func (c *Credential) Format() ([]byte, error) {
	var b bytes.Buffer
	add := func(key, value string) error {
		if value == "" {
			return nil
		}
		if !writable(value) {
			return fmt.Errorf("refusing to write %s: its value holds a newline, NUL or final CR", key)
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
		b.WriteByte('\n')
		return nil
	}
	var expiry string
	if !c.PasswordExpiry.IsZero() {
		expiry = strconv.FormatInt(c.PasswordExpiry.Unix(), 10)
	}
	for _, kv := range [][2]string{
		{"protocol", c.Protocol},
		{"host", c.Host},
		{"path", c.Path},
		{"username", c.Username},
		{"password", c.Password},
		{"password_expiry_utc", expiry},
	} {
		if err := add(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// Repository returns the owner and repository git asks about, from a path
// such as "owner/repo.git", "owner/repo" or "owner/repo.git/info/lfs" (Git
// LFS). Both are empty when the path names no repository, as when
// credential.useHttpPath is false and git sends no path.
func (c *Credential) Repository() (owner, repo string) {
	p := strings.Trim(c.Path, "/")
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", ""
	}
	repo = strings.TrimSuffix(parts[1], ".git")
	if repo == "" {
		return "", ""
	}
	return parts[0], repo
}
