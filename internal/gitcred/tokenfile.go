package gitcred

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/safefile"
)

// TokenFile is one token handed to the helper through a file: the action
// writes it (mode 0600, under the runner's temporary folder) so that no git
// configuration holds the token, and "app-token credential --token-file"
// serves it for the rest of the job.
type TokenFile struct {
	// Host is the git host the token is for ("github.com").
	Host string `json:"host"`
	// Owner is the account whose installation issued the token; empty
	// serves every owner.
	Owner     string         `json:"owner,omitempty"`
	Token     appauth.Secret `json:"token"`
	ExpiresAt time.Time      `json:"expires_at"`
}

// WriteTokenFile writes f to path, mode 0600, atomically.
func WriteTokenFile(path string, f TokenFile) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, b)
}

// ReadTokenFile reads a file WriteTokenFile wrote. It fails when the file
// is missing, is not one, or holds no token.
func ReadTokenFile(path string) (*TokenFile, error) {
	b, err := readEntry(path)
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	var f TokenFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("token file %s is not app-token's: %w", path, err)
	}
	if f.Token == "" {
		return nil, errors.New("token file " + path + " holds no token")
	}
	return &f, nil
}
