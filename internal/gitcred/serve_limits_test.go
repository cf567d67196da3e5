package gitcred

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// A cached token is reused while it has more than 5 minutes to live, and
// not once it has 5 minutes or less.
func TestReuseMarginIsFiveMinutes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := openTestCache(t, func() time.Time { return now })
	s := Scope{APIURL: "https://api.github.com/", App: "Iv23x", InstallationID: 101}
	exp := now.Add(time.Hour)
	if err := c.PutToken(s, testToken("ghs_one", exp)); err != nil {
		t.Fatal(err)
	}
	now = exp.Add(-5*time.Minute - time.Second)
	if _, ok := c.Token(s); !ok {
		t.Error("a token with 5m1s left was not reused")
	}
	now = exp.Add(-5 * time.Minute)
	if _, ok := c.Token(s); ok {
		t.Error("a token with 5m left was reused")
	}
}

// hangingApp mints only when ctx ends: with its error.
type hangingApp struct{ *fakeApp }

func (a hangingApp) CreateToken(ctx context.Context, _ *appauth.Installation, _ []string, _ map[string]string) (*appauth.Token, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A get that takes longer than its timeout says so, naming the timeout.
func TestServeSaysWhenItTimedOut(t *testing.T) {
	t.Parallel()
	app := hangingApp{&fakeApp{installs: map[string]int64{"octo-org": 101}}}
	cfg, _ := serveConfig(t, app.fakeApp)
	cfg.NewApp = func([]byte) (Minter, error) { return app, nil }
	cfg.Timeout = 50 * time.Millisecond
	_, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n")
	if err == nil || !strings.Contains(err.Error(), "no installation token for octo-org/alpha: no answer within 50ms") {
		t.Errorf("get = %v", err)
	}
}

// A token cache that cannot be opened is noted once a token is minted, and
// a usable one is not.
func TestServeNotesAnUnusableCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T, c *Config)
		note bool
	}{
		{"usable", func(*testing.T, *Config) {}, false},
		{"a file where the folder goes", func(t *testing.T, c *Config) {
			c.CacheDir = filepath.Join(t.TempDir(), "file")
			os.WriteFile(c.CacheDir, nil, 0o600)
		}, true},
		{"no folder, and why", func(_ *testing.T, c *Config) { c.CacheDir, c.CacheErr = "", fmt.Errorf("no user cache folder") }, true},
	} {
		app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
		cfg, _ := serveConfig(t, app)
		tc.cfg(t, cfg)
		var notes []string
		cfg.Notef = func(f string, args ...any) { notes = append(notes, fmt.Sprintf(f, args...)) }
		if out, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n"); err != nil || out == "" {
			t.Fatalf("%s: get = %q, %v", tc.name, out, err)
		}
		if noted := strings.Contains(strings.Join(notes, "\n"), "not caching tokens"); noted != tc.note {
			t.Errorf("%s: notes %q, want a note about the cache: %v", tc.name, notes, tc.note)
		}
	}
}
