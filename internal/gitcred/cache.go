package gitcred

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/safefile"
)

// ReuseMargin is how long before its expiry a cached token stops being
// handed out: a token given to git has at least this long to live, enough
// for a long clone or push to finish with it.
const ReuseMargin = 5 * time.Minute

// LookupTTL is how long a cached owner → installation lookup is trusted
// before minting looks it up again. A stale one costs nothing more: minting
// with an installation that is gone fails with 404, and the lookup is
// redone at once.
const LookupTTL = 24 * time.Hour

// maxEntry bounds what is read of one cache file.
const maxEntry = 64 << 10

// Cache keeps installation lookups and installation tokens in a folder
// shared by every process of one user: mode 0700, files 0600, each written
// atomically. Tokens are sealed (AES-256-GCM) with a key derived from the
// App's private key, so that a cache file alone, copied or stolen, gives
// nothing; whoever also holds the private key could mint tokens anyway.
// The private key itself is never written.
//
// A file that cannot be read, decrypted or decoded counts as missing and is
// replaced by the next write: the cache can never make a request fail.
type Cache struct {
	dir  string
	aead cipher.AEAD
	now  func() time.Time
}

// Open returns the cache kept in dir, creating the folder (mode 0700) or
// tightening an existing one to 0700. secret is the App's private key as
// the user gave it: sealing keys derive from it. It fails when the folder
// cannot be made or secret is empty.
func Open(dir string, secret []byte, now func() time.Time) (*Cache, error) {
	if len(bytes.TrimSpace(secret)) == 0 {
		return nil, errors.New("token cache: no key to seal tokens with")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("token cache: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("token cache: %s is not a folder", dir)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(dir, 0o700); err != nil {
				return nil, fmt.Errorf("token cache: %s is open to other users and cannot be made private: %w", dir, err)
			}
		}
	}
	// HKDF (RFC 5869) turns the key's text, whatever its encoding, into a
	// uniform 256-bit key; the salt names this use of it.
	key, err := hkdf.Key(sha256.New, bytes.TrimSpace(secret), []byte("app-token gitcred token cache"), "v1", 32)
	if err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token cache: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{dir: dir, aead: aead, now: now}, nil
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Scope names one kind of token: which API, App and installation, narrowed
// to which repositories and permissions (nil: all the installation's).
type Scope struct {
	APIURL         string
	App            string
	InstallationID int64
	Repositories   []string
	Permissions    map[string]string
}

// id is a canonical text of s: the same for the same scope however its
// lists are ordered or cased.
func (s Scope) id() string {
	repos := make([]string, len(s.Repositories))
	for i, r := range s.Repositories {
		repos[i] = strings.ToLower(r)
	}
	slices.Sort(repos)
	repos = slices.Compact(repos)
	perms := make([]string, 0, len(s.Permissions))
	for k, v := range s.Permissions {
		perms = append(perms, k+"="+v)
	}
	slices.Sort(perms)
	return strings.Join([]string{"token v1", normalAPI(s.APIURL), s.App,
		strconv.FormatInt(s.InstallationID, 10), strings.Join(repos, ","), strings.Join(perms, ",")}, "\x00")
}

func normalAPI(u string) string { return strings.TrimSuffix(strings.ToLower(u), "/") }

func lookupID(apiURL, app, owner string) string {
	return strings.Join([]string{"installation v1", normalAPI(apiURL), app, strings.ToLower(owner)}, "\x00")
}

// file names the cache file of id: a hash, so that names hold no owner,
// repository or app and cannot escape the folder.
func (c *Cache) file(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(c.dir, prefix+hex.EncodeToString(sum[:16]))
}

func readEntry(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxEntry))
}

// Installation is a cached owner → installation lookup.
type Installation struct {
	ID        int64     `json:"id"`
	Account   string    `json:"account"`
	AppSlug   string    `json:"app_slug,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Installation returns the cached installation of app on owner, whatever
// its age (callers compare CheckedAt with LookupTTL), and whether there is
// one.
func (c *Cache) Installation(apiURL, app, owner string) (Installation, bool) {
	b, err := readEntry(c.file("inst-", lookupID(apiURL, app, owner)) + ".json")
	if err != nil {
		return Installation{}, false
	}
	var in Installation
	if json.Unmarshal(b, &in) != nil || in.ID <= 0 {
		return Installation{}, false
	}
	return in, true
}

// PutInstallation records owner's installation, checked now.
func (c *Cache) PutInstallation(apiURL, app, owner string, in Installation) error {
	in.CheckedAt = c.now().UTC()
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return safefile.WriteFile(c.file("inst-", lookupID(apiURL, app, owner))+".json", b)
}

// DropInstallation forgets owner's installation.
func (c *Cache) DropInstallation(apiURL, app, owner string) {
	os.Remove(c.file("inst-", lookupID(apiURL, app, owner)) + ".json")
}

// sealMagic starts every sealed token file; the version is in it.
var sealMagic = []byte("app-token-cache-v1\n")

// Token returns the cached token of scope when it still has more than
// ReuseMargin to live.
func (c *Cache) Token(s Scope) (*appauth.Token, bool) {
	tok, ok := c.token(s)
	if !ok || !c.now().Add(ReuseMargin).Before(tok.ExpiresAt) {
		return nil, false
	}
	return tok, true
}

// token returns the cached token of scope, however old.
func (c *Cache) token(s Scope) (*appauth.Token, bool) {
	id := s.id()
	b, err := readEntry(c.file("tok-", id))
	if err != nil {
		return nil, false
	}
	rest, ok := bytes.CutPrefix(b, sealMagic)
	ns := c.aead.NonceSize()
	if !ok || len(rest) < ns {
		return nil, false
	}
	// The scope is the associated data: a file copied over another
	// scope's name does not open.
	plain, err := c.aead.Open(nil, rest[:ns], rest[ns:], []byte(id))
	if err != nil {
		return nil, false
	}
	var tok appauth.Token
	if json.Unmarshal(plain, &tok) != nil || tok.Value == "" || tok.ExpiresAt.IsZero() {
		return nil, false
	}
	return &tok, true
}

// PutToken records tok as the token of scope.
func (c *Cache) PutToken(s Scope, tok *appauth.Token) error {
	id := s.id()
	plain, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := append(slices.Clone(sealMagic), nonce...)
	out = c.aead.Seal(out, nonce, plain, []byte(id))
	return safefile.WriteFile(c.file("tok-", id), out)
}

// DropToken removes the token of scope if its value is password, and
// reports whether it did. A different (newer) token is kept.
func (c *Cache) DropToken(s Scope, password string) bool {
	tok, ok := c.token(s)
	if !ok || subtle.ConstantTimeCompare([]byte(tok.Value.Reveal()), []byte(password)) != 1 {
		return false
	}
	return os.Remove(c.file("tok-", s.id())) == nil
}

// Lock takes the cross-process lock that guards minting for app's
// installation on owner, waiting at most timeout. The operating system
// releases it if this process dies.
func (c *Cache) Lock(ctx context.Context, apiURL, app, owner string, timeout time.Duration) (unlock func(), err error) {
	return safefile.Lock(ctx, c.file("lock-", lookupID(apiURL, app, owner)), timeout)
}
