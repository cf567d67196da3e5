// Package userdir finds the per-user folders app-token keeps files in: the
// cache (the credential helper's tokens) and the configuration (signed-in
// users' token files).
package userdir

import (
	"fmt"
	"path/filepath"
	"runtime"
)

// Find is os.UserCacheDir (config false) or os.UserConfigDir (config true)
// joined with "app-token", reading the environment through getenv so that
// tests can point it elsewhere (os's functions read the process's). The
// variable override, when set, wins; the error when there is no folder
// names it.
func Find(getenv func(string) string, config bool, override string) (string, error) {
	if d := getenv(override); d != "" {
		return d, nil
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv("LocalAppData")
		if config {
			base = getenv("AppData")
		}
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Caches")
			if config {
				base = filepath.Join(h, "Library", "Application Support")
			}
		}
	default:
		xdg, dot := "XDG_CACHE_HOME", ".cache"
		if config {
			xdg, dot = "XDG_CONFIG_HOME", ".config"
		}
		base = getenv(xdg)
		if !filepath.IsAbs(base) {
			base = ""
			if h := getenv("HOME"); h != "" {
				base = filepath.Join(h, dot)
			}
		}
	}
	if base == "" {
		kind := "cache"
		if config {
			kind = "config"
		}
		return "", fmt.Errorf("no user %s folder: set %s", kind, override)
	}
	return filepath.Join(base, "app-token"), nil
}
