package gitcred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
)

// DefaultTimeout bounds one "get" from start to answer: lookups, minting,
// retries and the wait for another process's lock. Git waits for its helper
// without a limit of its own, so the helper must have one.
const DefaultTimeout = 45 * time.Second

// ErrTokenExpired is wrapped by Serve's error when the token file's token has
// expired.
var ErrTokenExpired = errors.New("run the job again")

// Config is what Serve needs to answer git for one host. It answers with
// one of: the token in TokenFile, the signed-in user's token (UserToken), or
// by default an installation token of the App, minted or from the cache.
type Config struct {
	// Host is the GitHub git asks about; requests for other hosts get no
	// answer.
	Host ghhost.Host

	// TokenFile, when set, is a file WriteTokenFile wrote: its one token
	// is the answer (for its own host and owner).
	TokenFile string
	// UserToken, when set, returns the signed-in user's access token for
	// the web URL git asks about (https://HOST).
	UserToken func(ctx context.Context, webURL string) (token string, expiresAt time.Time, err error)

	// AppID is the App's client ID or app ID.
	AppID string
	// Owner serves requests that name no repository.
	Owner string
	// Repositories (bare names, checked by the caller) and Permissions
	// narrow the tokens minted; nil: the installation's. RepositoriesOwner
	// is the owner the caller's list named ("" when it named none): the
	// list then serves that owner only.
	Repositories      []string
	RepositoriesOwner string
	Permissions       map[string]string
	// Key returns the App's private key as given. It is called only for a
	// request Serve answers with an installation token, and its error is
	// returned as it is (so the caller decides what a missing App or key
	// means).
	Key func() ([]byte, error)
	// NewApp returns the App signing with key. It is called only when the
	// cache cannot answer, so that a warm get parses no key.
	NewApp func(key []byte) (Minter, error)
	// CacheDir is the token cache's folder; "" mints every time, and
	// CacheErr, when set, says why (a note when a token is minted).
	CacheDir string
	CacheErr error

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds one get; zero means DefaultTimeout.
	Timeout time.Duration
	// Debugf receives each decision, Notef the one-line notes git shows the
	// user (why there is no answer, a cache that is off). Either may be nil.
	// No line holds a secret.
	Debugf, Notef func(format string, args ...any)
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Config) debugf(format string, args ...any) {
	if c.Debugf != nil {
		c.Debugf(format, args...)
	}
}

func (c *Config) notef(format string, args ...any) {
	if c.Notef != nil {
		c.Notef(format, args...)
	}
}

// Serve answers one git credential operation, op, read from in, on out:
// "get" writes the whole answer or nothing; "erase" drops the cached token
// git says failed; anything else ("store", and operations git adds later)
// reads the request and does nothing, as gitcredentials(7) asks: "If a
// helper receives any other operation, it should silently ignore the
// request". A request that is not for Config.Host, or names nothing Serve
// can answer, gets no answer and no error. Errors hold no secret.
func Serve(ctx context.Context, cfg Config, op string, in io.Reader, out io.Writer) error {
	switch op {
	case "get":
		req, err := Parse(in)
		if err != nil {
			return fmt.Errorf("credential get: %w", err)
		}
		ans, err := cfg.get(ctx, req)
		if err != nil || ans == nil {
			return err
		}
		b, err := ans.Format()
		if err != nil {
			return fmt.Errorf("credential get: %w", err)
		}
		_, err = out.Write(b)
		return err
	case "erase":
		if req, err := Parse(in); err == nil {
			cfg.erase(ctx, req)
		}
		return nil
	default:
		// Read the request, so that git never writes to a closed pipe.
		io.Copy(io.Discard, io.LimitReader(in, 1<<20))
		return nil
	}
}

func (c *Config) get(ctx context.Context, req *Credential) (*Credential, error) {
	if c.TokenFile != "" {
		return c.fromFile(req)
	}
	if why := c.Host.Serves(req.Protocol, req.Host); why != "" {
		c.debugf("no answer: %s", why)
		return nil, nil
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if c.UserToken != nil {
		webURL := req.Protocol + "://" + req.Host
		token, expiry, err := c.UserToken(ctx, webURL)
		if err != nil {
			return nil, fmt.Errorf("no signed-in user's token for %s: %w", webURL, err)
		}
		// GitHub accepts any username with a token; git's own is kept (it
		// matches what the remote URL says), else "oauth2" names the kind.
		username := req.Username
		if username == "" {
			username = "oauth2"
		}
		return &Credential{Username: username, Password: token, PasswordExpiry: expiry}, nil
	}
	owner, repo, why := c.target(req)
	if why != "" {
		c.notef("no answer: %s", why)
		return nil, nil
	}
	key, err := c.Key()
	if err != nil {
		return nil, err
	}
	h := c.helper(key, true)
	h.App = func() (Minter, error) { return c.NewApp(key) }
	tok, _, err := h.Get(ctx, owner, repo)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		where := owner
		if repo != "" {
			where += "/" + repo
		}
		return nil, fmt.Errorf("no installation token for %s: %w", where, err)
	}
	return &Credential{Username: Username, Password: tok.Value.Reveal(), PasswordExpiry: tok.ExpiresAt}, nil
}

// helper is the token cache's Helper for the App, with the cache open when
// it can be; note says why it cannot.
func (c *Config) helper(key []byte, note bool) *Helper {
	h := &Helper{
		APIURL: c.Host.APIURL(), AppID: c.AppID, Repositories: c.Repositories, Permissions: c.Permissions,
		Now: c.Now, Debugf: c.Debugf,
	}
	err := c.CacheErr
	if c.CacheDir != "" {
		h.Cache, err = Open(c.CacheDir, key, c.Now)
	}
	if err != nil && note {
		c.notef("not caching tokens: %v", err)
	}
	return h
}

// target resolves which owner and repository a request is for, or why
// Serve does not answer it.
func (c *Config) target(req *Credential) (owner, repo, why string) {
	owner, repo = req.Repository()
	if owner == "" {
		if c.Owner == "" {
			return "", "", fmt.Sprintf("git did not say which repository it wants on %s: set 'git config --global credential.%s://%s.useHttpPath true' (app-token setup-git does), or pass --owner", req.Host, req.Protocol, req.Host)
		}
		owner, repo = c.Owner, ""
	}
	switch {
	case !appauth.ValidOwner(owner):
		return "", "", fmt.Sprintf("%q is not a GitHub account name", owner)
	case c.Repositories == nil:
	case c.RepositoriesOwner != "" && !strings.EqualFold(owner, c.RepositoriesOwner):
		return "", "", fmt.Sprintf("--repositories names another owner than %s", owner)
	case repo != "" && !appauth.HasRepository(c.Repositories, repo):
		return "", "", fmt.Sprintf("%s/%s is not in --repositories", owner, repo)
	}
	return owner, repo, ""
}

// erase drops the cached token git says failed, when it is one of ours.
// Failing to is no error: git goes on either way.
func (c *Config) erase(ctx context.Context, req *Credential) {
	if c.TokenFile != "" || c.UserToken != nil || req.Password == "" || req.Username != Username {
		// Nothing of ours to forget: a token file's token is the job's,
		// and the signed-in user's tokens belong to their store.
		return
	}
	if c.Host.Serves(req.Protocol, req.Host) != "" || c.CacheDir == "" {
		return
	}
	owner, _, why := c.target(req)
	if why != "" {
		return
	}
	key, err := c.Key()
	if err != nil {
		return
	}
	if h := c.helper(key, false); h.Cache != nil {
		h.Erase(ctx, owner, req.Password)
	}
}

// fromFile answers with the token in TokenFile, when git asks about its
// host and, if it names one, its owner.
func (c *Config) fromFile(req *Credential) (*Credential, error) {
	f, err := ReadTokenFile(c.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("credential get: %w", err)
	}
	host, err := ghhost.ForGit(f.Host, "")
	if err != nil {
		return nil, fmt.Errorf("credential get: token file %s: host: %w", c.TokenFile, err)
	}
	if why := host.Serves(req.Protocol, req.Host); why != "" {
		c.debugf("no answer: %s", why)
		return nil, nil
	}
	if owner, _ := req.Repository(); owner != "" && f.Owner != "" && !strings.EqualFold(owner, f.Owner) {
		c.debugf("no answer: the token is for %s, not %s", f.Owner, owner)
		return nil, nil
	}
	if !f.ExpiresAt.IsZero() && !c.now().Before(f.ExpiresAt) {
		return nil, fmt.Errorf("the token in %s expired at %s: %w", c.TokenFile, f.ExpiresAt.UTC().Format(time.RFC3339), ErrTokenExpired)
	}
	return &Credential{Username: Username, Password: f.Token.Reveal(), PasswordExpiry: f.ExpiresAt}, nil
}
