package settings

import (
	"strings"

	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/store"
	"github.com/org/app-token/internal/userdir"
)

// ConfigDir is where the user token files and their locks live:
// APP_TOKEN_CONFIG_DIR, else app-token's folder in the user config folder,
// as os.UserConfigDir finds it, read through getenv.
func ConfigDir(getenv func(string) string) (string, error) {
	return userdir.Find(getenv, true, EnvConfigDir)
}

// UserStore opens the user token store the environment describes:
// APP_TOKEN_STORE (keyring, file, or unset: the keychain when it answers,
// else the file), APP_TOKEN_STORE_KEY (the file's passphrase) and
// ConfigDir. allowPlaintext is --insecure-storage; scryptLogN is the cost
// of new token files (0: the store's default).
func UserStore(getenv func(string) string, allowPlaintext bool, scryptLogN int) (*store.Store, error) {
	dir, err := ConfigDir(getenv)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(store.Options{
		Mode:           strings.ToLower(strings.TrimSpace(getenv(EnvStore))),
		Dir:            dir,
		Keyring:        store.SystemKeyring(),
		Passphrase:     getenv(EnvStoreKey),
		AllowPlaintext: allowPlaintext,
		ScryptLogN:     scryptLogN,
	})
	if err != nil {
		return nil, cliflag.Usagef("%s=%q: use keyring, file, or leave it unset (the keychain when it answers, else the file)", EnvStore, getenv(EnvStore))
	}
	return st, nil
}
