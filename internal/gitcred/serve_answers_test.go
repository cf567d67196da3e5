package gitcred

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/ghhost"
)

// Which requests get an installation token: with --owner, requests that
// name no repository are that owner's; --repositories restricts answers to
// its repositories (and owner, when it named one); a bad owner gets none.
// Each refusal is a note git shows, not an error.
func TestServeAnswersOnlyWhatItMayServe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    func(c *Config)
		path   string
		answer bool
		note   string
	}{
		{"owner serves a request without a path", func(c *Config) { c.Owner = "octo-org" }, "", true, ""},
		{"no path and no owner", func(c *Config) {}, "", false, "git did not say which repository it wants on github.com: set 'git config --global credential.https://github.com.useHttpPath true'"},
		{"listed repository", func(c *Config) { c.Repositories = []string{"alpha"} }, "octo-org/Alpha.git", true, ""},
		{"unlisted repository", func(c *Config) { c.Repositories = []string{"alpha"} }, "octo-org/beta.git", false, "octo-org/beta is not in --repositories"},
		{"list of another owner", func(c *Config) { c.Repositories, c.RepositoriesOwner = []string{"alpha"}, "acme" }, "octo-org/alpha.git", false, "--repositories names another owner than octo-org"},
		{"list of this owner", func(c *Config) { c.Repositories, c.RepositoriesOwner = []string{"alpha"}, "Octo-Org" }, "octo-org/alpha.git", true, ""},
		{"owner with a list and no path", func(c *Config) { c.Owner, c.Repositories = "octo-org", []string{"alpha"} }, "", true, ""},
		{"not an account name", func(c *Config) {}, "octo.org/alpha.git", false, `"octo.org" is not a GitHub account name`},
	} {
		app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
		cfg, _ := serveConfig(t, app)
		var notes []string
		cfg.Notef = func(f string, args ...any) { notes = append(notes, fmt.Sprintf(f, args...)) }
		tc.cfg(cfg)
		in := "protocol=https\nhost=github.com\n"
		if tc.path != "" {
			in += "path=" + tc.path + "\n"
		}
		out, err := serve(t, cfg, "get", in+"\n")
		if err != nil || (out != "") != tc.answer {
			t.Errorf("%s: get = %q, %v; want an answer: %v", tc.name, out, err, tc.answer)
		}
		if got := strings.Join(notes, "\n"); tc.note != "" && !strings.Contains(got, "no answer: "+tc.note) {
			t.Errorf("%s: notes %q, want %q", tc.name, got, tc.note)
		}
	}
}

// A signed-in user's token answers for the host, under git's username or
// "oauth2"; its expiry goes to git.
func TestServeUserToken(t *testing.T) {
	t.Parallel()
	exp := time.Unix(1767225600, 0)
	var asked string
	cfg := Config{Host: ghhost.Default(), UserToken: func(_ context.Context, webURL string) (string, time.Time, error) {
		asked = webURL
		return "ghu_user", exp, nil
	}}
	for _, tc := range []struct{ user, want string }{{"", "oauth2"}, {"octocat", "octocat"}} {
		in := "protocol=https\nhost=github.com\n"
		if tc.user != "" {
			in += "username=" + tc.user + "\n"
		}
		out, err := serve(t, &cfg, "get", in+"\n")
		if want := "username=" + tc.want + "\npassword=ghu_user\npassword_expiry_utc=1767225600\n\n"; err != nil || out != want {
			t.Errorf("get as %q = %q, %v; want %q", tc.user, out, err, want)
		}
	}
	if asked != "https://github.com" {
		t.Errorf("asked for %q", asked)
	}
	cfg.UserToken = func(context.Context, string) (string, time.Time, error) {
		return "", time.Time{}, errors.New("signed out")
	}
	if _, err := serve(t, &cfg, "get", "protocol=https\nhost=github.com\n\n"); err == nil || !strings.Contains(err.Error(), "no signed-in user's token for https://github.com: signed out") {
		t.Errorf("get signed out = %v", err)
	}
}

// A token file answers for its own host and owner only, with its expiry,
// and stops at that expiry.
func TestServeTokenFile(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	file := filepath.Join(t.TempDir(), "token.json")
	if err := WriteTokenFile(file, TokenFile{Host: "github.com", Owner: "octo-org", Token: "ghs_job", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{TokenFile: file, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		in, want string
	}{
		{"protocol=https\nhost=github.com\npath=octo-org/alpha.git\n", "username=x-access-token\npassword=ghs_job\npassword_expiry_utc=" + fmt.Sprint(now.Add(time.Hour).Unix()) + "\n\n"},
		{"protocol=https\nhost=github.com\n", "username=x-access-token\npassword=ghs_job\npassword_expiry_utc=" + fmt.Sprint(now.Add(time.Hour).Unix()) + "\n\n"},
		{"protocol=https\nhost=github.com\npath=acme/alpha.git\n", ""},
		{"protocol=https\nhost=gitlab.com\npath=octo-org/alpha.git\n", ""},
	} {
		if out, err := serve(t, &cfg, "get", tc.in+"\n"); err != nil || out != tc.want {
			t.Errorf("get %q = %q, %v; want %q", tc.in, out, err, tc.want)
		}
	}
	now = now.Add(time.Hour)
	if _, err := serve(t, &cfg, "get", "protocol=https\nhost=github.com\n\n"); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("get at the expiry instant = %v, want ErrTokenExpired", err)
	}
	missing := Config{TokenFile: filepath.Join(t.TempDir(), "none.json")}
	if _, err := serve(t, &missing, "get", "protocol=https\nhost=github.com\n\n"); err == nil || !strings.Contains(err.Error(), "credential get: read token file") {
		t.Errorf("get with no token file = %v", err)
	}
}

// erase forgets only an installation token of ours: not a token file's,
// not another username's, not another host's.
func TestServeEraseForgetsOnlyOurs(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	cfg, _ := serveConfig(t, app)
	get := "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n"
	if out, err := serve(t, cfg, "get", get); err != nil || !strings.Contains(out, "password=ghs_101_1") {
		t.Fatalf("get = %q, %v", out, err)
	}
	for _, in := range []string{
		"protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=someone\npassword=ghs_101_1\n",
		"protocol=https\nhost=gitlab.com\npath=octo-org/alpha.git\nusername=x-access-token\npassword=ghs_101_1\n",
		"protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=x-access-token\n",
		"protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_101_1\n",
	} {
		if _, err := serve(t, cfg, "erase", in+"\n"); err != nil {
			t.Fatal(err)
		}
		if out, _ := serve(t, cfg, "get", get); !strings.Contains(out, "password=ghs_101_1") {
			t.Errorf("erase %q dropped the token", in)
		}
	}
	cfg.Key = func() ([]byte, error) { return nil, errors.New("no key") }
	if _, err := serve(t, cfg, "erase", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=x-access-token\npassword=ghs_101_1\n\n"); err != nil {
		t.Errorf("erase without a key = %v, want no error", err)
	}
}
