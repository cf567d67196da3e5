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
	"os"
	"path/filepath"
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
// shared by every process of one user: owned by that user, mode 0700,
// files 0600, each written atomically and read only if it is a regular
// file (not a link or a FIFO, which would hang the read). Tokens and
// lookups are sealed (AES-256-GCM) with a key derived from the App's
// private key, so that a cache file alone, copied or stolen, gives nothing,
// and an edited one does not open: a lookup changed to name another
// installation cannot make the helper mint there. Whoever also holds the
// private key could mint tokens anyway. The private key itself is never
// written.
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
// cannot be made, belongs to another user, or secret is empty.
func Open(dir string, secret []byte, now func() time.Time) (*Cache, error) {
	if len(bytes.TrimSpace(secret)) == 0 {
		return nil, errors.New("token cache: no key to seal tokens with")
	}
	if err := safefile.PrivateDir(dir, "token cache"); err != nil {
		return nil, err
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

func readEntry(path string) ([]byte, error) { return safefile.ReadFile(path, maxEntry) }

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
	id := lookupID(apiURL, app, owner)
	b, err := readEntry(c.file("inst-", id))
	if err != nil {
		return Installation{}, false
	}
	plain, ok := c.open(id, b)
	if !ok {
		return Installation{}, false
	}
	var in Installation
	if json.Unmarshal(plain, &in) != nil || in.ID <= 0 {
		return Installation{}, false
	}
	return in, true
}

// PutInstallation records owner's installation, checked now.
func (c *Cache) PutInstallation(apiURL, app, owner string, in Installation) error {
	in.CheckedAt = c.now().UTC()
	plain, err := json.Marshal(in)
	if err != nil {
		return err
	}
	id := lookupID(apiURL, app, owner)
	out, err := c.seal(id, plain)
	if err != nil {
		return err
	}
	// Lookups were once kept unsealed, as <name>.json; such a file is
	// never read again.
	os.Remove(c.file("inst-", id) + ".json")
	return safefile.WriteFile(c.file("inst-", id), out)
}

// DropInstallation forgets owner's installation.
func (c *Cache) DropInstallation(apiURL, app, owner string) {
	os.Remove(c.file("inst-", lookupID(apiURL, app, owner)))
}

// sealMagic starts every sealed file; the version is in it.
var sealMagic = []byte("app-token-cache-v1\n")

// seal encrypts and authenticates plain for the entry id. The id is the
// associated data: a file copied over another entry's name does not open.
func (c *Cache) seal(id string, plain []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(slices.Clone(sealMagic), nonce...)
	return c.aead.Seal(out, nonce, plain, []byte(id)), nil
}

// open returns what seal sealed for id, if b is that and unaltered.
func (c *Cache) open(id string, b []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(b, sealMagic)
	ns := c.aead.NonceSize()
	if !ok || len(rest) < ns {
		return nil, false
	}
	plain, err := c.aead.Open(nil, rest[:ns], rest[ns:], []byte(id))
	return plain, err == nil
}

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
	plain, ok := c.open(id, b)
	if !ok {
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
	out, err := c.seal(id, plain)
	if err != nil {
		return err
	}
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
