// Package store keeps signed-in users' tokens: in the OS keychain when there
// is one, otherwise in a file encrypted with a passphrase, and in a plaintext
// file only when the caller explicitly allows it.
//
// Tokens are grouped in one record per GitHub host (github.com, a GitHub
// Enterprise Server host, an emulator's 127.0.0.1:PORT); inside a record,
// one entry per OAuth client ID. A record is one keychain item (service
// "app-token", account = host) or one file (<dir>/users/<host>.json).
//
// The package never prints and never reads the environment: the caller
// passes the mode, folder and passphrase in Options.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/org/app-token/internal/safefile"
)

// Errors the caller branches on.
var (
	// ErrNotFound means nobody is signed in for that host (and client ID).
	ErrNotFound = errors.New("not signed in")
	// ErrAmbiguous means several client IDs are signed in for one host and
	// the caller did not say which.
	ErrAmbiguous = errors.New("several client IDs are signed in for this host")
	// ErrNeedPassphrase means a file must be written but there is neither a
	// passphrase to encrypt it nor permission to write it in plaintext.
	ErrNeedPassphrase = errors.New("no passphrase to encrypt the token file")
	// ErrWrongPassphrase means an encrypted file does not open with the
	// passphrase given: another passphrase, or a file that was tampered with.
	ErrWrongPassphrase = errors.New("the token file does not decrypt with this passphrase")
	// ErrKeyringTimeout means the OS keychain did not answer in time.
	ErrKeyringTimeout = errors.New("the OS keychain did not answer in time")
	// ErrKeyringUnavailable means the OS keychain failed (none on this
	// machine, locked, or refused).
	ErrKeyringUnavailable = errors.New("the OS keychain is not available")
)

// CorruptError reports a record that cannot be read: the caller should
// treat the user as signed out; the next Save replaces the record.
type CorruptError struct {
	Where string // the file path or keychain item
	Err   error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("token store %s is unreadable: %v", e.Where, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Kind is where a record lives.
type Kind string

const (
	KindKeyring Kind = "keyring"
	KindFile    Kind = "file"
)

// Location says where an entry is stored.
type Location struct {
	Kind Kind
	// Path is the file (KindFile) or "service/account" (KindKeyring).
	Path string
	// Encrypted is true for keychain items and encrypted files.
	Encrypted bool
}

func (l Location) String() string {
	switch {
	case l.Kind == KindKeyring:
		return fmt.Sprintf("the OS keychain (item %s)", l.Path)
	case l.Encrypted:
		return "encrypted file " + l.Path
	case l.Kind == KindFile:
		return "plaintext file " + l.Path + " (insecure storage)"
	default:
		return "nowhere"
	}
}

// Entry is one person signed in to one GitHub host with one OAuth client.
// Its String and GoString methods hide the secrets, so that printing an
// Entry by mistake leaks nothing.
type Entry struct {
	Host      string `json:"host"`
	ClientID  string `json:"client_id"`
	GitHubURL string `json:"github_url"`
	APIURL    string `json:"api_url"`
	// ClientSecret is kept when the person gave one at sign-in: refreshing
	// a web-flow token and revoking a token need it.
	ClientSecret string `json:"client_secret,omitempty"`
	// Flow is how the person signed in: "device" or "web".
	Flow   string `json:"flow,omitempty"`
	Scopes string `json:"scopes,omitempty"`
	Login  string `json:"login,omitempty"`
	UserID int64  `json:"user_id,omitempty"`

	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type,omitempty"`
	// ExpiresAt is when AccessToken expires; zero if it does not.
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	// RefreshExpiresAt is when RefreshToken expires; zero if unknown.
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`

	SignedInAt  time.Time `json:"signed_in_at,omitzero"`
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`

	// Location is where Load found the entry; Save writes it back there.
	Location Location `json:"-"`
}

// String describes e without its secrets.
func (e Entry) String() string {
	return fmt.Sprintf("store.Entry{Host: %q, ClientID: %q, Login: %q, ExpiresAt: %s, secrets: hidden}",
		e.Host, e.ClientID, e.Login, e.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (e Entry) GoString() string { return e.String() }

// record is everything stored for one host.
type record struct {
	Entries map[string]Entry `json:"entries"` // by client ID
}

func (r *record) pick(clientID string) (Entry, error) {
	if clientID != "" {
		e, ok := r.Entries[clientID]
		if !ok {
			return Entry{}, ErrNotFound
		}
		return e, nil
	}
	switch len(r.Entries) {
	case 0:
		return Entry{}, ErrNotFound
	case 1:
		for _, e := range r.Entries {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: %s", ErrAmbiguous, strings.Join(r.clientIDs(), ", "))
}

// Keyring is the part of an OS keychain the store uses; go-keyring's
// functions satisfy it through SystemKeyring, and tests use a map.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// KeyringService is the keychain service name of every item.
const KeyringService = "app-token"

// Options configure a Store.
type Options struct {
	// Mode is "keyring", "file", or "" / "auto": the keychain when it
	// answers, else the file.
	Mode string
	// Dir holds the token files and the lock files, e.g.
	// os.UserConfigDir()/app-token. Required: locks live there whatever
	// the mode.
	Dir string
	// Keyring is the OS keychain; nil means there is none.
	Keyring Keyring
	// KeyringTimeout bounds every keychain call (default 3 s): a hung
	// D-Bus must not hang git.
	KeyringTimeout time.Duration
	// Passphrase encrypts token files. Empty: files can only be written in
	// plaintext, and only if AllowPlaintext.
	Passphrase string
	// AllowPlaintext permits writing a plaintext token file when there is no
	// passphrase.
	AllowPlaintext bool
	// ScryptLogN is the scrypt cost of new files (default 15; tests lower it).
	ScryptLogN int
}

// Store reads and writes signed-in users' tokens. It is safe for concurrent
// use; Lock coordinates separate processes.
type Store struct {
	mode           string
	dir            string
	kr             Keyring
	timeout        time.Duration
	passphrase     string
	allowPlaintext bool
	logN           int

	mu   sync.Mutex
	keys map[string][]byte // derived keys by salt and cost
}

// DefaultKeyringTimeout is how long a keychain call may take.
const DefaultKeyringTimeout = 3 * time.Second

// Open returns a Store; it fails only on bad options.
func Open(o Options) (*Store, error) {
	switch o.Mode {
	case "", "auto":
		o.Mode = "auto"
	case string(KindKeyring), string(KindFile):
	default:
		return nil, fmt.Errorf("unknown store mode %q: use keyring, file or auto", o.Mode)
	}
	if o.Dir == "" {
		return nil, errors.New("no folder for the token store")
	}
	if o.KeyringTimeout <= 0 {
		o.KeyringTimeout = DefaultKeyringTimeout
	}
	if o.ScryptLogN == 0 {
		o.ScryptLogN = defaultLogN
	}
	if o.ScryptLogN < minLogN || o.ScryptLogN > maxLogN {
		return nil, fmt.Errorf("scrypt cost %d out of range [%d, %d]", o.ScryptLogN, minLogN, maxLogN)
	}
	return &Store{
		mode: o.Mode, dir: o.Dir, kr: o.Keyring, timeout: o.KeyringTimeout,
		passphrase: o.Passphrase, allowPlaintext: o.AllowPlaintext, logN: o.ScryptLogN,
		keys: map[string][]byte{},
	}, nil
}

// kinds lists where Load looks, in order.
func (s *Store) kinds() []Kind {
	switch s.mode {
	case string(KindKeyring):
		return []Kind{KindKeyring}
	case string(KindFile):
		return []Kind{KindFile}
	default:
		return []Kind{KindKeyring, KindFile}
	}
}

// Load returns the entry for host and clientID ("" when only one client is
// signed in for host), with its Location set. It returns ErrNotFound when
// nobody is signed in, a *CorruptError or ErrWrongPassphrase when the record
// cannot be read, and ErrKeyringUnavailable / ErrKeyringTimeout when the
// keychain was required (Mode "keyring") and failed.
func (s *Store) Load(ctx context.Context, host, clientID string) (Entry, error) {
	for _, k := range s.kinds() {
		rec, loc, err := s.read(ctx, k, host)
		if err != nil {
			if errors.Is(err, ErrNotFound) || (s.mode == "auto" && k == KindKeyring && keyringFailed(err)) {
				continue
			}
			return Entry{}, err
		}
		e, err := rec.pick(clientID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Entry{}, err
		}
		e.Location = loc
		return e, nil
	}
	return Entry{}, ErrNotFound
}

func keyringFailed(err error) bool {
	return errors.Is(err, ErrKeyringUnavailable) || errors.Is(err, ErrKeyringTimeout)
}

// Save stores e, replacing the entry with the same host and client ID, and
// returns where it went: e.Location if set (Load's entries go back where
// they came from), otherwise the keychain when it answers (mode auto or
// keyring), otherwise a file. A file is encrypted when there is a
// passphrase; without one, Save writes plaintext only if AllowPlaintext or
// the entry already lived in a plaintext file, and otherwise fails with
// ErrNeedPassphrase. An unreadable record is replaced.
func (s *Store) Save(ctx context.Context, e Entry) (Location, error) {
	if e.Host == "" || e.ClientID == "" {
		return Location{}, errors.New("save token: entry has no host or client ID")
	}
	if err := checkURLs(e, e.Host); err != nil {
		return Location{}, fmt.Errorf("save token: %w", err)
	}
	kind := e.Location.Kind
	wasPlaintext := kind == KindFile && !e.Location.Encrypted
	var rec *record
	if kind == "" {
		var err error
		if kind, rec, err = s.choose(ctx, e.Host); err != nil {
			return Location{}, err
		}
	} else {
		rec, _, _ = s.read(ctx, kind, e.Host)
	}
	if rec == nil {
		// Missing or unreadable: start afresh (a new sign-in rewrites a
		// corrupt record).
		rec = &record{Entries: map[string]Entry{}}
	}
	e.Location = Location{}
	rec.Entries[e.ClientID] = e
	switch kind {
	case KindKeyring:
		return s.writeKeyring(ctx, e.Host, rec)
	default:
		return s.writeFile(e.Host, rec, wasPlaintext)
	}
}

// choose picks where a new entry for host goes: the keychain when it
// answers (mode auto or keyring), else the file; with the record already
// there, if readable.
func (s *Store) choose(ctx context.Context, host string) (Kind, *record, error) {
	for _, k := range s.kinds() {
		r, _, err := s.read(ctx, k, host)
		if k == KindKeyring && keyringFailed(err) {
			if s.mode == "auto" {
				continue
			}
			return "", nil, err
		}
		return k, r, nil
	}
	return KindFile, nil, nil
}

// Target says where Save would put a new sign-in for host, without
// writing anything, so that a caller can refuse before the person signs
// in: ErrNeedPassphrase when it would be a file and there is neither a
// passphrase nor permission to write plaintext; the keychain's error when
// Mode is "keyring" and the keychain fails.
func (s *Store) Target(ctx context.Context, host string) (Location, error) {
	kind, _, err := s.choose(ctx, host)
	if err != nil {
		return Location{}, err
	}
	if kind == KindKeyring {
		return Location{Kind: KindKeyring, Path: KeyringService + "/" + host, Encrypted: true}, nil
	}
	loc := Location{Kind: KindFile, Path: s.filePath(host), Encrypted: s.passphrase != ""}
	if s.passphrase == "" && !s.allowPlaintext {
		return loc, ErrNeedPassphrase
	}
	return loc, nil
}

// Delete removes the entry for host and clientID ("" when only one) and
// returns it. A record that cannot be read is removed whole, and Delete
// returns the *CorruptError (or ErrWrongPassphrase) it met, so that the
// caller can say what it threw away. Nothing stored: ErrNotFound.
func (s *Store) Delete(ctx context.Context, host, clientID string) (Entry, error) {
	var firstErr error
	for _, k := range s.kinds() {
		rec, loc, err := s.read(ctx, k, host)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case k == KindKeyring && keyringFailed(err):
			if s.mode == "auto" {
				continue
			}
			return Entry{}, err
		case err != nil:
			// Unreadable: forget it whole.
			if rmErr := s.remove(ctx, k, host); rmErr != nil {
				return Entry{}, rmErr
			}
			firstErr = cmpOr(firstErr, err)
			continue
		}
		e, err := rec.pick(clientID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Entry{}, err
		}
		delete(rec.Entries, e.ClientID)
		if len(rec.Entries) == 0 {
			err = s.remove(ctx, k, host)
		} else if k == KindKeyring {
			_, err = s.writeKeyring(ctx, host, rec)
		} else {
			_, err = s.writeFile(host, rec, !loc.Encrypted)
		}
		if err != nil {
			return Entry{}, err
		}
		e.Location = loc
		return e, firstErr
	}
	if firstErr != nil {
		return Entry{}, firstErr
	}
	return Entry{}, ErrNotFound
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// LockTimeout is how long Lock waits for another process: longer than one
// refresh (an HTTP request of at most 30 s) takes.
const LockTimeout = time.Minute

// Lock takes the cross-process lock of host's record: hold it from reading
// a refresh token until its successor is saved, so that two processes never
// both spend the same refresh token.
func (s *Store) Lock(ctx context.Context, host string) (unlock func(), err error) {
	return safefile.Lock(ctx, filepath.Join(s.dir, "users", fileName(host)+".lock"), LockTimeout)
}

// read returns host's record from k, with ErrNotFound when there is none.
func (s *Store) read(ctx context.Context, k Kind, host string) (*record, Location, error) {
	if k == KindKeyring {
		return s.readKeyring(ctx, host)
	}
	return s.readFile(host)
}

func (s *Store) remove(ctx context.Context, k Kind, host string) error {
	if k == KindKeyring {
		err := s.keyringCall(ctx, func() error { return s.kr.Delete(KeyringService, host) })
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	// Forgetting a sign-in forgets its pending tokens too.
	if err := os.Remove(s.pendingPath(host)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err := os.Remove(s.filePath(host))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// fileName turns a host (maybe with a port) into a safe file name on every
// platform: lowercase letters, digits, '.', '-' and '_' only.
func fileName(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" || strings.Trim(name, ".") == "" {
		name = "_" + name
	}
	return name
}

func (s *Store) filePath(host string) string {
	return filepath.Join(s.dir, "users", fileName(host)+".json")
}

// maxFileSize bounds what readFile accepts: a record is a few KiB.
const maxFileSize = 1 << 20

// checkDir refuses a token folder that another user owns (they could read
// what is written there, or plant a record), and tightens its mode.
func (s *Store) checkDir() error {
	dir := filepath.Join(s.dir, "users")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil // made, 0700, by the first write
	}
	return safefile.PrivateDir(dir, "token store")
}

func (s *Store) readFile(host string) (*record, Location, error) {
	path := s.filePath(host)
	loc := Location{Kind: KindFile, Path: path}
	if err := s.checkDir(); err != nil {
		return nil, loc, err
	}
	data, err := safefile.ReadFile(path, maxFileSize+1)
	if errors.Is(err, os.ErrNotExist) {
		if pending, perr := s.readPending(host); perr == nil {
			loc.Path, loc.Encrypted = s.pendingPath(host), s.passphrase != ""
			return pending, loc, nil
		}
		return nil, loc, ErrNotFound
	}
	if err != nil {
		return nil, loc, err
	}
	if len(data) > maxFileSize {
		return nil, loc, &CorruptError{Where: path, Err: errors.New("file too large")}
	}
	rec, encrypted, err := decodeFile(data, host, s.passphrase, s.derive)
	loc.Encrypted = encrypted
	if err != nil {
		if errors.Is(err, ErrWrongPassphrase) || errors.Is(err, ErrNeedPassphrase) {
			return nil, loc, fmt.Errorf("token store %s: %w", path, err)
		}
		return nil, loc, &CorruptError{Where: path, Err: err}
	}
	if !encrypted && s.passphrase != "" {
		// Weaker than configured: whoever could write it in place of the
		// sealed file chose its tokens and URLs.
		return nil, loc, &CorruptError{Where: path, Err: ErrPlaintextRefused}
	}
	if pending, perr := s.readPending(host); perr == nil {
		rec.merge(pending)
	}
	return rec, loc, nil
}

// ErrPlaintextRefused means a plaintext token file was found where the
// store is configured with a passphrase, and is not used.
var ErrPlaintextRefused = errors.New("it is in plaintext, but the store has a passphrase to encrypt with: it is not used")

// pendingPath is where tokens wait that a refresh obtained but could not
// save in the record (see Reserve).
func (s *Store) pendingPath(host string) string {
	return filepath.Join(s.dir, "users", fileName(host)+".pending.json")
}

// readPending reads the pending record of host, under the same rules as
// the record itself.
func (s *Store) readPending(host string) (*record, error) {
	data, err := safefile.ReadFile(s.pendingPath(host), maxFileSize)
	if err != nil {
		return nil, err
	}
	rec, encrypted, err := decodeFile(bytes.TrimRight(data, " \n"), host, s.passphrase, s.derive)
	if err != nil || (!encrypted && s.passphrase != "") {
		return nil, errors.New("unusable pending record")
	}
	return rec, nil
}

// merge takes from p each entry refreshed later than r's.
func (r *record) merge(p *record) {
	for id, e := range p.Entries {
		if cur, ok := r.Entries[id]; !ok || e.RefreshedAt.After(cur.RefreshedAt) {
			r.Entries[id] = e
		}
	}
}

// reservePad is the room a reservation leaves beyond the record's size
// now: rotated tokens are the same length, so this is ample.
const reservePad = 4 << 10

// Reservation is room kept for tokens a refresh is about to obtain.
type Reservation struct {
	s    *Store
	e    Entry
	kept bool
}

// Reserve proves that e (as Load returned it) can be saved again, before
// a refresh spends its refresh token. For a file it writes the pending
// file of e's host now, holding the record and room to spare, so that
// Keep can later write the rotated tokens into space already allocated
// when the record itself cannot be written (a full disk). For the
// keychain it saves e again. Release the reservation when done.
func (s *Store) Reserve(ctx context.Context, e Entry) (*Reservation, error) {
	r := &Reservation{s: s, e: e}
	if e.Location.Kind == KindKeyring {
		_, err := s.Save(ctx, e)
		return r, err
	}
	data, err := s.encodeFor(e)
	if err != nil {
		return r, err
	}
	data = append(data, bytes.Repeat([]byte(" "), reservePad)...)
	data = append(data, '\n')
	if err := safefile.WriteFile(s.pendingPath(e.Host), data); err != nil {
		return r, fmt.Errorf("write token store: %w", err)
	}
	return r, nil
}

// Keep writes e into the pending file Reserve made, in place, so that no
// new space is needed, and returns where e now is. Load prefers it to the
// record (it was refreshed later), and the next write of the host's
// record takes it in.
func (r *Reservation) Keep(e Entry) (Location, error) {
	if r.e.Location.Kind == KindKeyring {
		return Location{}, errors.New("nowhere to keep tokens the keychain refused")
	}
	e.Location = r.e.Location
	data, err := r.s.encodeFor(e)
	if err != nil {
		return Location{}, err
	}
	path := r.s.pendingPath(e.Host)
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return Location{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Location{}, err
	}
	if int64(len(data)) >= fi.Size() {
		return Location{}, errors.New("the reserved room is too small")
	}
	data = append(data, bytes.Repeat([]byte(" "), int(fi.Size())-len(data)-1)...)
	data = append(data, '\n')
	if _, err := f.WriteAt(data, 0); err != nil {
		return Location{}, err
	}
	if err := f.Sync(); err != nil {
		return Location{}, err
	}
	r.kept = true
	return Location{Kind: KindFile, Path: path, Encrypted: r.s.passphrase != ""}, nil
}

// Release drops the pending file unless Keep put tokens there (a Save
// since has already dropped it).
func (r *Reservation) Release() {
	if !r.kept && r.e.Location.Kind != KindKeyring {
		os.Remove(r.s.pendingPath(r.e.Host))
	}
}

// encodeFor encodes a record holding e alone, as its host's file would be.
func (s *Store) encodeFor(e Entry) ([]byte, error) {
	wasPlaintext := e.Location.Kind == KindFile && !e.Location.Encrypted
	if s.passphrase == "" && !s.allowPlaintext && !wasPlaintext {
		return nil, ErrNeedPassphrase
	}
	e.Location = Location{}
	rec := &record{Entries: map[string]Entry{e.ClientID: e}}
	return encodeFile(rec, e.Host, s.passphrase, s.logN, s.saltFor(s.filePath(e.Host)), s.derive)
}

func (s *Store) writeFile(host string, rec *record, wasPlaintext bool) (Location, error) {
	path := s.filePath(host)
	if s.passphrase == "" && !s.allowPlaintext && !wasPlaintext {
		return Location{}, ErrNeedPassphrase
	}
	if err := s.checkDir(); err != nil {
		return Location{}, err
	}
	data, err := encodeFile(rec, host, s.passphrase, s.logN, s.saltFor(path), s.derive)
	if err != nil {
		return Location{}, err
	}
	if err := safefile.WriteFile(path, data); err != nil {
		return Location{}, fmt.Errorf("write token store: %w", err)
	}
	// The record now holds whatever was pending (readFile merged it).
	os.Remove(s.pendingPath(host))
	return Location{Kind: KindFile, Path: path, Encrypted: s.passphrase != ""}, nil
}

// saltFor reuses the salt of the file at path when it opens with our
// passphrase, so that rewriting it (a refresh) costs no second scrypt run;
// each write still gets a fresh random nonce.
func (s *Store) saltFor(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > maxFileSize {
		return nil
	}
	var env envelope
	if json.Unmarshal(data, &env) != nil || env.Scrypt == nil || env.Scrypt.LogN != s.logN {
		return nil
	}
	salt, err := b64.DecodeString(env.Salt)
	if err != nil || len(salt) != saltSize {
		return nil
	}
	s.mu.Lock()
	_, known := s.keys[keyCacheID(salt, env.Scrypt.LogN)]
	s.mu.Unlock()
	if !known {
		return nil
	}
	return salt
}

func (s *Store) readKeyring(ctx context.Context, host string) (*record, Location, error) {
	loc := Location{Kind: KindKeyring, Path: KeyringService + "/" + host, Encrypted: true}
	if s.kr == nil {
		return nil, loc, fmt.Errorf("%w: none configured", ErrKeyringUnavailable)
	}
	var secret string
	err := s.keyringCall(ctx, func() error {
		var err error
		secret, err = s.kr.Get(KeyringService, host)
		return err
	})
	if err != nil {
		return nil, loc, err
	}
	var rec record
	if err := json.Unmarshal([]byte(secret), &rec); err != nil || rec.Entries == nil {
		return nil, loc, &CorruptError{Where: "keychain item " + loc.Path, Err: errors.New("not a token record")}
	}
	if err := rec.check(host); err != nil {
		return nil, loc, &CorruptError{Where: "keychain item " + loc.Path, Err: err}
	}
	return &rec, loc, nil
}

func (s *Store) writeKeyring(ctx context.Context, host string, rec *record) (Location, error) {
	loc := Location{Kind: KindKeyring, Path: KeyringService + "/" + host, Encrypted: true}
	if s.kr == nil {
		return Location{}, fmt.Errorf("%w: none configured", ErrKeyringUnavailable)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return Location{}, err
	}
	if err := s.keyringCall(ctx, func() error { return s.kr.Set(KeyringService, host, string(data)) }); err != nil {
		return Location{}, err
	}
	return loc, nil
}

// keyringCall runs f, a keychain call, for at most s.timeout. go-keyring
// cannot be cancelled, so a call that hangs (a D-Bus that never answers)
// is abandoned in its goroutine. The keychain's "not found" becomes
// ErrNotFound; any other failure wraps ErrKeyringUnavailable.
func (s *Store) keyringCall(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case isKeyringNotFound(err):
			return ErrNotFound
		default:
			return fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
		}
	case <-t.C:
		return fmt.Errorf("%w (%s)", ErrKeyringTimeout, s.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// check validates a decoded record: every entry belongs to host, is keyed by
// its client ID and holds an access token.
func (r *record) check(host string) error {
	for id, e := range r.Entries {
		if id == "" || e.ClientID != id {
			return fmt.Errorf("entry keyed %q holds client ID %q", id, e.ClientID)
		}
		if !strings.EqualFold(e.Host, host) {
			return fmt.Errorf("entry for host %q in the record of %q", e.Host, host)
		}
		if e.AccessToken == "" {
			return fmt.Errorf("entry for client %q has no access token", id)
		}
		if err := checkURLs(e, host); err != nil {
			return fmt.Errorf("entry for client %q: %w", id, err)
		}
	}
	return nil
}

// checkURLs makes sure an entry's URLs belong to the host its record is
// kept under, the host the person signed in to: the client secret and the
// refresh token are sent there, so a record edited to name another host
// must not be used. The web URL must be that host (with its port); the API
// URL that host or its api. subdomain (api.github.com, api.SUB.ghe.com).
func checkURLs(e Entry, host string) error {
	for _, u := range []struct{ name, raw, alt string }{
		{"GitHub URL", e.GitHubURL, ""},
		{"API URL", e.APIURL, "api." + host},
	} {
		p, err := url.Parse(u.raw)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.User != nil {
			return fmt.Errorf("its %s %q is not an http(s) URL", u.name, u.raw)
		}
		if h := strings.ToLower(p.Host); h != strings.ToLower(host) && (u.alt == "" || h != strings.ToLower(u.alt)) {
			return fmt.Errorf("its %s %q is not on %s", u.name, u.raw, host)
		}
	}
	return nil
}

// clientIDs lists the client IDs of a record, sorted.
func (r *record) clientIDs() []string {
	ids := make([]string, 0, len(r.Entries))
	for id := range r.Entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
