package settings

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/cliflag"
	"github.com/org/app-token/internal/ghhost"
)

func TestGHHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ github, api, wantGitHub, wantAPI, host string }{
		{"", "", "https://github.com", "https://api.github.com", "github.com"},
		{"github.com", "", "https://github.com", "https://api.github.com", "github.com"},
		{"https://GHE.example/", "", "https://GHE.example", "https://GHE.example/api/v3", "ghe.example"},
		{"https://ghe.example", "https://ghe.example/api/v3/", "https://ghe.example", "https://ghe.example/api/v3", "ghe.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080"},
	} {
		f := Settings{GitHubURL: tc.github, APIURL: tc.api}
		got, err := f.GHHost()
		if err != nil || got.WebURL() != tc.wantGitHub || got.APIURL() != tc.wantAPI || got.GitHost() != tc.host {
			t.Errorf("GHHost(%q, %q) = %+v, %v", tc.github, tc.api, got, err)
		}
	}
	for _, bad := range []string{"http://ghe.example", "ftp://x", "https://u:p@github.com", "https://github.com/?x=1", "https://"} {
		if _, err := (&Settings{GitHubURL: bad}).GHHost(); !errors.As(err, new(*cliflag.UsageError)) {
			t.Errorf("GHHost(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestConfigDir(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if d, _ := ConfigDir(env(map[string]string{EnvConfigDir: "/x"})); d != "/x" {
		t.Errorf("APP_TOKEN_CONFIG_DIR: %s", d)
	}
	if runtime.GOOS == "linux" {
		if d, _ := ConfigDir(env(map[string]string{"XDG_CONFIG_HOME": "/xdg", "HOME": "/h"})); d != "/xdg/app-token" {
			t.Errorf("XDG_CONFIG_HOME: %s", d)
		}
		if d, _ := ConfigDir(env(map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/h"})); d != "/h/.config/app-token" {
			t.Errorf("HOME: %s", d)
		}
		if _, err := ConfigDir(env(nil)); err == nil || !strings.Contains(err.Error(), EnvConfigDir) {
			t.Errorf("no folder: %v", err)
		}
	}
}

func TestHelperSource(t *testing.T) {
	t.Parallel()
	const base = "https://github.com"
	getenv := func(k string) string { return map[string]string{"SET_TOKEN": "ghs_x"}[k] }
	for _, tc := range []struct {
		helpers []string
		want    string
	}{
		{nil, "none for https://github.com (app-token setup-git adds app-token's)"},
		{[]string{"!/usr/bin/gh auth git-credential"}, "not app-token: git asks !/usr/bin/gh auth git-credential (app-token setup-git replaces it)"},
		{[]string{"!/bin/app-token credential --token-env SET_TOKEN"}, "app-token credential, with the token in $SET_TOKEN"},
		{[]string{"!/bin/app-token credential --token-env UNSET_TOKEN"}, "app-token credential, with the token in $UNSET_TOKEN (not set here)"},
		{[]string{"!/bin/app-token credential --user"}, "app-token credential, with the signed-in user's token"},
		{[]string{"!/bin/app-token credential --sts-url https://sts.example --identity ci"}, `app-token credential, with tokens from the token exchange https://sts.example (trust policy "ci")`},
		{[]string{"!/bin/app-token credential --token-file /tmp/t.json"}, "app-token credential, with the action's token file /tmp/t.json"},
		{[]string{"!'/opt/my tools/app-token' credential --client-id Iv23liX"}, "app-token credential, with installation tokens of the App Iv23liX"},
		{[]string{"!/bin/app-token credential --app-id 42"}, "app-token credential, with installation tokens of the App with app ID 42"},
		{[]string{"!/bin/app-token credential"}, "app-token credential, with installation tokens of the App named where git runs ($APP_TOKEN_CLIENT_ID or $APP_TOKEN_APP_ID)"},
		{[]string{"!/bin/app-token credential --no-such-flag"}, "app-token credential, with flags it does not take (!/bin/app-token credential --no-such-flag): run app-token setup-git again"},
		// app-token's answers first: git asks the helpers in order.
		{[]string{"!/bin/app-token credential --user", "cache"}, "app-token credential, with the signed-in user's token"},
		{[]string{"!/bin/app-token version"}, "not app-token: git asks !/bin/app-token version (app-token setup-git replaces it)"},
	} {
		if got := HelperSource(tc.helpers, base, getenv); got != tc.want {
			t.Errorf("HelperSource(%q)\n got %s\nwant %s", tc.helpers, got, tc.want)
		}
	}
}

// parse registers the App's and the exchange's flags, parses args and
// resolves them against env.
func parse(t *testing.T, env map[string]string, args ...string) *Settings {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var s Settings
	s.RegisterCredentialHelper(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	s.Resolve(fs, func(k string) string { return env[k] })
	return &s
}

func TestResolveFlagsFirstThenTheEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvClientID: "  Iv23liEnv \n", EnvAppID: "7", EnvAPIURL: " https://ghe.example/api/v3 ",
		EnvSTSURL: "https://sts.example", EnvSTSIdentity: "ci", EnvDebug: "1",
	}
	s := parse(t, env)
	if s.ClientID != "Iv23liEnv" || s.AppID != "7" || s.APIURL != "https://ghe.example/api/v3" || !s.Debug {
		t.Errorf("from the environment: %+v, want trimmed values", s)
	}
	if s.STSURL != "https://sts.example" || s.Identity != "ci" {
		t.Errorf("exchange from the environment: %q %q", s.STSURL, s.Identity)
	}
	// The App is named by the flags or by the environment, never half each;
	// and an App on the command line wins over an exchange in the
	// environment.
	s = parse(t, env, "--app-id", "42")
	if s.AppID != "42" || s.ClientID != "" || s.STSURL != "" || !s.Given("app-id") || s.Given("client-id") {
		t.Errorf("--app-id: client %q app %q sts %q", s.ClientID, s.AppID, s.STSURL)
	}
	if s.Issuer() != "42" {
		t.Errorf("Issuer = %q, want the app ID when no client ID", s.Issuer())
	}
	// A flag given empty stays empty.
	if s = parse(t, env, "--api-url", ""); s.APIURL != "" {
		t.Errorf("--api-url '' = %q", s.APIURL)
	}
}

func TestCheckApp(t *testing.T) {
	t.Parallel()
	var ue *cliflag.UsageError
	if err := parse(t, nil, "--client-id", "Iv23liX", "--app-id", "1").CheckApp(); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--client-id and --app-id both name the App") {
		t.Errorf("both flags: %v", err)
	}
	if err := parse(t, map[string]string{EnvAppID: "Iv23liX"}).CheckApp(); !errors.As(err, &ue) || !strings.Contains(err.Error(), EnvAppID+`="Iv23liX" is not a number`) {
		t.Errorf("a client ID in %s: %v", EnvAppID, err)
	}
	if err := parse(t, nil, "--client-id", "Iv23liX").CheckApp(); err != nil {
		t.Errorf("a client ID: %v", err)
	}
}

func TestHelperArgs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(key, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ghes, _ := ghhost.New("https://ghe.example", "")
	s := parse(t, map[string]string{EnvClientID: "Iv23liEnv"}, "--private-key-file", key, "--owner", "octo-org", "--permission", "issues=write,contents=read")
	got, err := s.HelperArgs(ghes)
	want := []string{"credential", "--private-key-file", key, "--host", "ghe.example", "--owner", "octo-org", "--permission", "contents=read", "--permission", "issues=write"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("HelperArgs = %q, %v\nwant %q (the environment's client ID is read again where git runs)", got, err, want)
	}
	loop, _ := ghhost.New("http://127.0.0.1:8080", "")
	if got, _ := parse(t, nil, "--client-id", "Iv23liX").HelperArgs(loop); !slices.Equal(got, []string{"credential", "--client-id", "Iv23liX", "--host", "http://127.0.0.1:8080"}) {
		t.Errorf("loopback http: %q, want --host with its scheme", got)
	}
	if got, _ := parse(t, nil, "--client-id", "Iv23liX").HelperArgs(ghhost.Default()); !slices.Equal(got, []string{"credential", "--client-id", "Iv23liX"}) {
		t.Errorf("github.com: %q, want no --host", got)
	}
	_, err = parse(t, nil, "--signer", "pkcs11:token=t;object=k?pin-value=1234").HelperArgs(ghhost.Default())
	if err == nil || strings.Contains(err.Error(), "1234") || !strings.Contains(err.Error(), "pin-source") {
		t.Errorf("a signer with a PIN: %v, want a refusal that does not repeat the PIN", err)
	}
	if _, err := parse(t, nil, "--private-key-file", filepath.Join(dir, "missing.pem")).HelperArgs(ghhost.Default()); err == nil {
		t.Error("a key file that does not exist was written into git's configuration")
	}
}
