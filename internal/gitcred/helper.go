package gitcred

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// Username is what git sends with an installation token: GitHub ignores
// the username of token authentication, and x-access-token is the name its
// documentation gives for installation tokens.
const Username = "x-access-token"

// DefaultLockTimeout bounds how long Get waits for another process minting
// the same token. After it, Get mints without the lock: one token too many
// is better than a stuck git.
const DefaultLockTimeout = 20 * time.Second

// Minter is what a Helper needs of a GitHub App. *appauth.App has it.
type Minter interface {
	InstallationForRepo(ctx context.Context, owner, repo string) (*appauth.Installation, error)
	InstallationForOwner(ctx context.Context, owner string) (*appauth.Installation, error)
	CreateToken(ctx context.Context, inst *appauth.Installation, repos []string, perms map[string]string) (*appauth.Token, error)
}

// Helper hands git installation tokens: from its cache when a token there
// has more than ReuseMargin to live, else minted (and cached) under a
// cross-process lock, so that concurrent gits for one owner mint one token.
type Helper struct {
	// Cache is where tokens and lookups are kept; nil mints every time.
	Cache *Cache
	// App returns the GitHub App. It is called only when the cache cannot
	// answer, so that a warm Get never parses a key or signs a JWT.
	App func() (Minter, error)
	// APIURL and AppID (the App's client ID or app ID) name the cache
	// entries.
	APIURL string
	AppID  string
	// Repositories and Permissions narrow the tokens minted (nil: all of
	// the installation's).
	Repositories []string
	Permissions  map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for another process's mint; zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Debugf receives one line per decision; nil drops them. Lines never
	// hold a secret.
	Debugf func(format string, args ...any)
}

func (h *Helper) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Helper) debugf(format string, args ...any) {
	if h.Debugf != nil {
		h.Debugf(format, args...)
	}
}

func (h *Helper) scope(instID int64) Scope {
	return Scope{APIURL: h.APIURL, App: h.AppID, InstallationID: instID, Repositories: h.Repositories, Permissions: h.Permissions}
}

// cached returns the cached token for owner, if there is a fresh one.
func (h *Helper) cached(owner string) (*appauth.Token, bool) {
	in, ok := h.Cache.Installation(h.APIURL, h.AppID, owner)
	if !ok {
		return nil, false
	}
	return h.Cache.Token(h.scope(in.ID))
}

// Get returns a token for the App's installation on owner, which is looked
// up by repo when repo is not empty (so that a missing installation is
// named precisely), else by owner. It reports whether the token came from
// the cache. It fails with appauth's errors when GitHub refuses, or when
// ctx ends.
func (h *Helper) Get(ctx context.Context, owner, repo string) (tok *appauth.Token, fromCache bool, err error) {
	if h.Cache != nil {
		if tok, ok := h.cached(owner); ok {
			h.debugf("token cache: hit for %s (expires %s)", owner, tok.ExpiresAt.UTC().Format(time.RFC3339))
			return tok, true, nil
		}
		timeout := h.LockTimeout
		if timeout <= 0 {
			timeout = DefaultLockTimeout
		}
		unlock, err := h.Cache.Lock(ctx, h.APIURL, h.AppID, owner, timeout)
		switch {
		case ctx.Err() != nil:
			return nil, false, ctx.Err()
		case err != nil:
			h.debugf("token cache: %v; minting without the lock", err)
		default:
			defer unlock()
			// Another process may have minted while this one waited.
			if tok, ok := h.cached(owner); ok {
				h.debugf("token cache: hit for %s after waiting for the lock", owner)
				return tok, true, nil
			}
		}
	}
	app, err := h.App()
	if err != nil {
		return nil, false, err
	}
	inst, fromLookupCache := h.cachedInstallation(owner)
	if inst == nil {
		var saved func()
		if inst, saved, err = h.lookup(ctx, app, owner, repo); err != nil {
			return nil, false, err
		}
		defer saved()
	}
	tok, err = app.CreateToken(ctx, inst, h.Repositories, h.Permissions)
	var ae *appauth.APIError
	if err != nil && fromLookupCache && errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		// The installation was removed (or reinstalled) since the lookup.
		h.debugf("installation %d is gone; looking %s up again", inst.ID, owner)
		h.Cache.DropInstallation(h.APIURL, h.AppID, owner)
		var saved func()
		if inst, saved, err = h.lookup(ctx, app, owner, repo); err != nil {
			return nil, false, err
		}
		defer saved()
		tok, err = app.CreateToken(ctx, inst, h.Repositories, h.Permissions)
	}
	if err != nil {
		return nil, false, err
	}
	if h.Cache != nil {
		if err := h.Cache.PutToken(h.scope(inst.ID), tok); err != nil {
			h.debugf("token cache: cannot write: %v", err)
		}
	}
	h.debugf("minted a token for installation %d on %s (expires %s)", inst.ID, owner, tok.ExpiresAt.UTC().Format(time.RFC3339))
	return tok, false, nil
}

// cachedInstallation returns the cached installation of owner when it was
// checked within LookupTTL.
func (h *Helper) cachedInstallation(owner string) (*appauth.Installation, bool) {
	if h.Cache == nil {
		return nil, false
	}
	in, ok := h.Cache.Installation(h.APIURL, h.AppID, owner)
	if !ok || h.now().Sub(in.CheckedAt) > LookupTTL {
		return nil, false
	}
	return &appauth.Installation{ID: in.ID, Account: in.Account, AppSlug: in.AppSlug}, true
}

// lookup finds owner's installation on GitHub and caches it. The cache
// file is written while the caller mints (each write syncs the disk, which
// costs as much as a request on loopback); saved waits for it.
func (h *Helper) lookup(ctx context.Context, app Minter, owner, repo string) (inst *appauth.Installation, saved func(), err error) {
	if repo != "" {
		inst, err = app.InstallationForRepo(ctx, owner, repo)
	} else {
		inst, err = app.InstallationForOwner(ctx, owner)
	}
	if err != nil {
		return nil, nil, err
	}
	if inst.Account == "" {
		inst.Account = owner
	}
	if h.Cache == nil {
		return inst, func() {}, nil
	}
	entry := Installation{ID: inst.ID, Account: inst.Account, AppSlug: inst.AppSlug}
	done := make(chan error, 1)
	go func() { done <- h.Cache.PutInstallation(h.APIURL, h.AppID, owner, entry) }()
	return inst, func() {
		if err := <-done; err != nil {
			h.debugf("token cache: cannot write: %v", err)
		}
	}, nil
}

// Erase drops the cached token for owner if it is password: git erases a
// credential the server refused, and the next Get then mints a fresh one.
// It never reaches GitHub. It reports whether a token was dropped.
func (h *Helper) Erase(ctx context.Context, owner, password string) bool {
	if h.Cache == nil || password == "" {
		return false
	}
	in, ok := h.Cache.Installation(h.APIURL, h.AppID, owner)
	if !ok {
		return false
	}
	// Under the lock, so that a token minted meanwhile is not dropped in
	// its place; DropToken compares values anyway, so a busy lock is no
	// reason to give up.
	if unlock, err := h.Cache.Lock(ctx, h.APIURL, h.AppID, owner, 2*time.Second); err == nil {
		defer unlock()
	}
	dropped := h.Cache.DropToken(h.scope(in.ID), password)
	if dropped {
		h.debugf("token cache: dropped the token git says failed for %s", owner)
	}
	return dropped
}
