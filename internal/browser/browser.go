// Package browser opens web pages for a person signing in, as cli/cli's
// pkg/browser does: with $BROWSER when set, else the platform's opener.
package browser

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Open opens the web page u with browser (the $BROWSER command line, as
// the caller read it), else the platform's opener. It fails when u is not
// an http(s) URL or the opener cannot start; it does not wait for it.
func Open(browser, u string) error {
	if !IsWebURL(u) {
		return fmt.Errorf("%q is not a web page", u)
	}
	var cmd *exec.Cmd
	if b := strings.Fields(browser); len(b) > 0 {
		cmd = exec.Command(b[0], append(b[1:], u)...)
	} else {
		switch runtime.GOOS {
		case "darwin":
			cmd = exec.Command("open", u)
		case "windows":
			cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
		default:
			cmd = exec.Command("xdg-open", u)
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// IsWebURL reports whether u is an absolute http(s) URL.
func IsWebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// IsTerminal reports whether v is an *os.File on a character device (a
// terminal, or /dev/null).
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
