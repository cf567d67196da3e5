package store

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// SystemKeyring returns the OS keychain (macOS Keychain, Windows Credential
// Manager, the Secret Service over D-Bus elsewhere) through go-keyring.
// Where there is none, its calls fail and a Store in auto mode uses files.
func SystemKeyring() Keyring { return systemKeyring{} }

type systemKeyring struct{}

func (systemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (systemKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (systemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

func isKeyringNotFound(err error) bool {
	return errors.Is(err, keyring.ErrNotFound) || errors.Is(err, ErrNotFound)
}
