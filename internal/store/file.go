package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// A token file is one JSON object, the envelope. Encrypted, it carries the
// scrypt parameters and salt, the AES-256-GCM nonce and the sealed record;
// the associated data binds the ciphertext to the format, version, host and
// parameters, so that a file cannot be moved to another host's name or have
// its cost lowered without failing to open. In plaintext (only with
// explicit permission) the record's entries sit in the envelope itself.
type envelope struct {
	Format     string           `json:"format"`
	Version    int              `json:"version"`
	Host       string           `json:"host"`
	Encryption string           `json:"encryption"`
	Warning    string           `json:"warning,omitempty"`
	Scrypt     *scryptParams    `json:"scrypt,omitempty"`
	Salt       string           `json:"salt,omitempty"`
	Nonce      string           `json:"nonce,omitempty"`
	Ciphertext string           `json:"ciphertext,omitempty"`
	Entries    map[string]Entry `json:"entries,omitempty"`
}

type scryptParams struct {
	LogN int `json:"log_n"`
	R    int `json:"r"`
	P    int `json:"p"`
}

const (
	fileFormat  = "app-token user tokens"
	fileVersion = 1
	encScrypt   = "scrypt+aes-256-gcm"
	encNone     = "none"

	// scrypt cost: N = 2^15, r = 8, p = 1 is the interactive-login setting
	// recommended in the scrypt paper and golang.org/x/crypto/scrypt (about
	// 32 MiB and tens of milliseconds). The decoder refuses costs outside
	// [2^10, 2^16] so a crafted file cannot make it allocate gigabytes.
	defaultLogN = 15
	minLogN     = 10
	maxLogN     = 16
	scryptR     = 8
	scryptP     = 1
	saltSize    = 16
	keySize     = 32 // AES-256
)

var b64 = base64.StdEncoding

const plaintextWarning = "tokens stored in plaintext because app-token login was given --insecure-storage"

// deriveFunc turns the passphrase into a key for salt and cost 2^logN.
type deriveFunc func(salt []byte, logN int) ([]byte, error)

func additionalData(host string, p scryptParams) []byte {
	return fmt.Appendf(nil, "%s\x00%d\x00%s\x00%s\x00%d,%d,%d",
		fileFormat, fileVersion, strings.ToLower(host), encScrypt, p.LogN, p.R, p.P)
}

// encodeFile seals rec for host with passphrase, or writes it in plaintext
// when passphrase is empty. salt may be nil (a new random one is drawn).
func encodeFile(rec *record, host, passphrase string, logN int, salt []byte, derive deriveFunc) ([]byte, error) {
	env := envelope{Format: fileFormat, Version: fileVersion, Host: strings.ToLower(host)}
	if passphrase == "" {
		env.Encryption = encNone
		env.Warning = plaintextWarning
		env.Entries = rec.Entries
		if env.Entries == nil {
			env.Entries = map[string]Entry{}
		}
		return json.MarshalIndent(env, "", "  ")
	}
	if salt == nil {
		salt = make([]byte, saltSize)
		rand.Read(salt)
	}
	p := scryptParams{LogN: logN, R: scryptR, P: scryptP}
	key, err := derive(salt, logN)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nil, nonce, plain, additionalData(host, p))
	env.Encryption = encScrypt
	env.Scrypt = &p
	env.Salt = b64.EncodeToString(salt)
	env.Nonce = b64.EncodeToString(nonce)
	env.Ciphertext = b64.EncodeToString(sealed)
	return json.MarshalIndent(env, "", "  ")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// decodeFile parses and, if sealed, opens a token file of host. It never
// panics on any input (see FuzzDecodeFile). It returns ErrNeedPassphrase
// for a sealed file when passphrase is empty and ErrWrongPassphrase when the
// seal does not open; other failures describe what is wrong with the file.
func decodeFile(data []byte, host, passphrase string, derive deriveFunc) (rec *record, encrypted bool, err error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, false, errors.New("not a JSON token file")
	}
	if env.Format != fileFormat {
		return nil, false, fmt.Errorf("format %q, want %q", env.Format, fileFormat)
	}
	if env.Version != fileVersion {
		return nil, false, fmt.Errorf("version %d, want %d", env.Version, fileVersion)
	}
	if !strings.EqualFold(env.Host, host) {
		return nil, false, fmt.Errorf("file of host %q where %q's belongs", env.Host, host)
	}
	switch env.Encryption {
	case encNone:
		if env.Scrypt != nil || env.Ciphertext != "" {
			return nil, false, errors.New("plaintext file with encryption fields")
		}
		rec = &record{Entries: env.Entries}
		if rec.Entries == nil {
			rec.Entries = map[string]Entry{}
		}
	case encScrypt:
		encrypted = true
		if env.Entries != nil {
			return nil, true, errors.New("encrypted file with plaintext entries")
		}
		p := env.Scrypt
		if p == nil || p.LogN < minLogN || p.LogN > maxLogN || p.R != scryptR || p.P != scryptP {
			return nil, true, errors.New("unsupported scrypt parameters")
		}
		salt, err := b64.DecodeString(env.Salt)
		if err != nil || len(salt) != saltSize {
			return nil, true, errors.New("bad salt")
		}
		nonce, err := b64.DecodeString(env.Nonce)
		if err != nil || len(nonce) != 12 {
			return nil, true, errors.New("bad nonce")
		}
		sealed, err := b64.DecodeString(env.Ciphertext)
		if err != nil || len(sealed) < 16 {
			return nil, true, errors.New("bad ciphertext")
		}
		if passphrase == "" {
			return nil, true, ErrNeedPassphrase
		}
		key, err := derive(salt, p.LogN)
		if err != nil {
			return nil, true, err
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, true, err
		}
		plain, err := aead.Open(nil, nonce, sealed, additionalData(host, *p))
		if err != nil {
			return nil, true, ErrWrongPassphrase
		}
		rec = &record{}
		if err := json.Unmarshal(plain, rec); err != nil || rec.Entries == nil {
			return nil, true, errors.New("sealed content is not a token record")
		}
	default:
		return nil, false, fmt.Errorf("unknown encryption %q", env.Encryption)
	}
	if err := rec.check(host); err != nil {
		return nil, encrypted, err
	}
	return rec, encrypted, nil
}

// derive is the Store's deriveFunc: scrypt over its passphrase, cached by
// salt and cost for the life of the Store.
func (s *Store) derive(salt []byte, logN int) ([]byte, error) {
	id := keyCacheID(salt, logN)
	s.mu.Lock()
	key, ok := s.keys[id]
	s.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := scrypt.Key([]byte(s.passphrase), salt, 1<<logN, scryptR, scryptP, keySize)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.keys[id] = key
	s.mu.Unlock()
	return key, nil
}

func keyCacheID(salt []byte, logN int) string { return fmt.Sprintf("%d:%x", logN, salt) }
