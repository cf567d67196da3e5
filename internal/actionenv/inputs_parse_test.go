package actionenv

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// step is a step's environment: the inputs as the runner passes them
// (INPUT_<NAME>) and the runner's variables. The key and client ID are
// there unless a test removes them.
func step(kv ...string) map[string]string {
	env := map[string]string{"INPUT_CLIENT-ID": "Iv23liABC", "INPUT_PRIVATE-KEY": testPEM(), "GITHUB_REPOSITORY": "octo-org/alpha", "GITHUB_REPOSITORY_OWNER": "octo-org"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(env, kv[i])
		} else {
			env[kv[i]] = kv[i+1]
		}
	}
	return env
}

func parse(t *testing.T, env map[string]string) (*Inputs, error) {
	t.Helper()
	var environ []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		environ = append(environ, k+"="+env[k])
	}
	r, out := runner(t, env)
	in, err := r.ParseInputs(environ)
	if out.Len() != 0 {
		t.Errorf("ParseInputs wrote %q", out.String())
	}
	return in, err
}

// With only the App's credentials, the token is for the workflow's own
// repository, revoked after the job, on GitHub.com, with all of the
// installation's permissions.
func TestInputsDefaults(t *testing.T) {
	t.Parallel()
	in, err := parse(t, step())
	if err != nil {
		t.Fatal(err)
	}
	if in.ClientID != "Iv23liABC" || in.PrivateKey == nil || in.PrivateKey.Reencoded || len(in.Warnings) != 0 {
		t.Errorf("client ID %q, key %v, warnings %q", in.ClientID, in.PrivateKey != nil, in.Warnings)
	}
	if in.Owner != "octo-org" || !slices.Equal(in.Repositories, []string{"alpha"}) || !in.CurrentRepository || in.InstallationID != 0 {
		t.Errorf("owner %q, repositories %q, current %v, installation %d", in.Owner, in.Repositories, in.CurrentRepository, in.InstallationID)
	}
	if in.Permissions != nil || in.SkipTokenRevoke || in.SetupGit || in.APIURL != "https://api.github.com" {
		t.Errorf("permissions %v, skip revoke %v, setup-git %v, API %q", in.Permissions, in.SkipTokenRevoke, in.SetupGit, in.APIURL)
	}
}

// client-id wins over the deprecated app-id; app-id alone still works,
// with a warning.
func TestInputsClientIDAndAppID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		clientID, appID, want, warning string
	}{
		{"", "12345", "12345", "app-id is deprecated"},
		{"Iv23liABC", "Iv23liABC", "Iv23liABC", ""},
		{"Iv23liABC", "12345", "Iv23liABC", "both client-id and app-id are set: using client-id"},
	} {
		in, err := parse(t, step("INPUT_CLIENT-ID", tc.clientID, "INPUT_APP-ID", tc.appID))
		if err != nil {
			t.Fatal(err)
		}
		if in.ClientID != tc.want {
			t.Errorf("client-id %q, app-id %q: ClientID = %q, want %q", tc.clientID, tc.appID, in.ClientID, tc.want)
		}
		if got := strings.Join(in.Warnings, "\n"); (tc.warning == "") != (got == "") || !strings.Contains(got, tc.warning) {
			t.Errorf("client-id %q, app-id %q: warnings %q, want %q", tc.clientID, tc.appID, got, tc.warning)
		}
	}
}

// Which installation and repositories: owner alone is all of its
// installation; repositories narrow it, under owner, the owner they name,
// or the workflow's owner; installation-id needs no lookup.
func TestInputsResolution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		owner   string
		repos   []string
		current bool
		instID  int64
	}{
		{"owner only", step("INPUT_OWNER", "acme"), "acme", nil, false, 0},
		{"owner and repositories", step("INPUT_OWNER", "acme", "INPUT_REPOSITORIES", "api, web\nweb"), "acme", []string{"api", "web"}, false, 0},
		{"qualified repositories", step("INPUT_REPOSITORIES", "acme/api,acme/web"), "acme", []string{"api", "web"}, false, 0},
		{"repositories of the workflow's owner", step("INPUT_REPOSITORIES", "beta"), "octo-org", []string{"beta"}, false, 0},
		{"owner from GITHUB_REPOSITORY", step("INPUT_REPOSITORIES", "beta", "GITHUB_REPOSITORY_OWNER", ""), "octo-org", []string{"beta"}, false, 0},
		{"installation-id", step("INPUT_INSTALLATION-ID", "101"), "", nil, false, 101},
		{"installation-id and repositories", step("INPUT_INSTALLATION-ID", "7", "INPUT_REPOSITORIES", "beta"), "", []string{"beta"}, false, 7},
	} {
		in, err := parse(t, tc.env)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if in.Owner != tc.owner || !slices.Equal(in.Repositories, tc.repos) || in.CurrentRepository != tc.current || in.InstallationID != tc.instID {
			t.Errorf("%s: owner %q, repositories %q, current %v, installation %d; want %q, %q, %v, %d",
				tc.name, in.Owner, in.Repositories, in.CurrentRepository, in.InstallationID, tc.owner, tc.repos, tc.current, tc.instID)
		}
	}
}

// Every problem is reported at once, each naming its input and what to do,
// and nothing is returned.
func TestInputsReportEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	env := step("INPUT_CLIENT-ID", "", "INPUT_PRIVATE-KEY", " \n ", "INPUT_OWNER", "not an owner",
		"INPUT_INSTALLATION-ID", "0", "INPUT_SKIP-TOKEN-REVOKE", "yes", "INPUT_SETUP-GIT", "1",
		"INPUT_PERMISSION-CONTENTS", "all", "INPUT_PERMISSION-CONTENT", "read", "INPUT_GITHUB-API-URL", "api.github.com")
	in, err := parse(t, env)
	if in != nil || err == nil {
		t.Fatalf("ParseInputs = %+v, %v", in, err)
	}
	for _, want := range []string{
		"client-id: missing: set client-id",
		"private-key: missing",
		`owner: "not an owner" is not a GitHub account name`,
		`installation-id: "0" is not an installation ID`,
		`skip-token-revoke: "yes" is not a boolean`,
		`setup-git: "1" is not a boolean`,
		"permission-contents",
		"permission-content",
		"github-api-url:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n < 9 {
		t.Errorf("%d lines, want one per problem:\n%v", n, err)
	}
}

func TestInputsInstallationID(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "-3", "12a", "1.5", "99999999999999999999"} {
		if _, err := parse(t, step("INPUT_INSTALLATION-ID", v)); err == nil || !strings.Contains(err.Error(), "installation-id: ") {
			t.Errorf("installation-id %q: %v", v, err)
		}
	}
	if in, err := parse(t, step("INPUT_INSTALLATION-ID", "1")); err != nil || in.InstallationID != 1 {
		t.Errorf("installation-id 1: %+v, %v", in, err)
	}
}

// A private key that is there but not a key is refused with what it
// looked like; a base64-encoded one is taken and marked for masking.
func TestInputsPrivateKey(t *testing.T) {
	t.Parallel()
	_, err := parse(t, step("INPUT_PRIVATE-KEY", "ssh-rsa AAAAB3Nza"))
	if err == nil || !strings.HasPrefix(err.Error(), "private-key: an SSH public key") {
		t.Errorf("SSH key: %v", err)
	}
	in, err := parse(t, step("INPUT_PRIVATE-KEY", strings.ReplaceAll(strings.TrimSpace(testPEM()), "\n", `\n`)))
	if err != nil || !in.PrivateKey.Reencoded {
		t.Errorf("escaped key: %v", err)
	}
}

// Without owner or repositories, the workflow's own repository is the
// default; when GITHUB_REPOSITORY cannot say which, owner is asked for.
func TestInputsNeedAnOwner(t *testing.T) {
	t.Parallel()
	if _, err := parse(t, step("GITHUB_REPOSITORY", "")); err == nil || !strings.Contains(err.Error(), "say which installation: pass owner, repositories owner/name or installation-id") {
		t.Errorf("no GITHUB_REPOSITORY: %v", err)
	}
	if _, err := parse(t, step("INPUT_INSTALLATION-ID", "1", "INPUT_OWNER", "acme")); err == nil || !strings.Contains(err.Error(), "owner and installation-id exclude each other") {
		t.Errorf("owner and installation-id: %v", err)
	}
	if _, err := parse(t, step("GITHUB_REPOSITORY", "", "GITHUB_REPOSITORY_OWNER", "", "INPUT_REPOSITORIES", "api")); err == nil || !strings.Contains(err.Error(), "owner: not set, and GITHUB_REPOSITORY_OWNER is empty: set owner") {
		t.Errorf("repositories without any owner: %v", err)
	}
}

// The API URL is github-api-url, else the runner's GITHUB_API_URL (GHES),
// else GitHub.com's.
func TestInputsAPIURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{step("INPUT_GITHUB-API-URL", "https://ghe.example.com/api/v3", "GITHUB_API_URL", "https://other.example.com/api/v3"), "https://ghe.example.com/api/v3"},
		{step("GITHUB_API_URL", "https://other.example.com/api/v3"), "https://other.example.com/api/v3"},
		{step(), "https://api.github.com"},
	} {
		if in, err := parse(t, tc.env); err != nil || in.APIURL != tc.want {
			t.Errorf("APIURL = %v, %v; want %q", in, err, tc.want)
		}
	}
}

// permission-<name> inputs narrow the token; a level that does not exist,
// or a permission-* input that names no permission, is an error (ignoring
// it would mint a token with every permission). Empty ones are unset.
func TestInputsPermissions(t *testing.T) {
	t.Parallel()
	in, err := parse(t, step("INPUT_PERMISSION-CONTENTS", "read", "INPUT_PERMISSION-PULL-REQUESTS", "write", "INPUT_PERMISSION-ISSUES", " "))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"contents": "read", "pull_requests": "write"}; !maps.Equal(in.Permissions, want) {
		t.Errorf("permissions = %v, want %v", in.Permissions, want)
	}
	for _, tc := range []struct{ k, v, want string }{
		{"INPUT_PERMISSION-CONTENTS", "admin", "permission-contents"},
		{"INPUT_PERMISSION-CONTENT", "read", "permission-content"},
	} {
		if _, err := parse(t, step(tc.k, tc.v)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v, want an error naming %s", tc.k, tc.v, err, tc.want)
		}
	}
	if PermissionInput("pull_requests") != "permission-pull-requests" {
		t.Errorf("PermissionInput(pull_requests) = %q", PermissionInput("pull_requests"))
	}
}

// Boolean inputs take the spellings the Actions toolkit takes.
func TestInputsBooleans(t *testing.T) {
	t.Parallel()
	in, err := parse(t, step("INPUT_SKIP-TOKEN-REVOKE", "True", "INPUT_SETUP-GIT", "TRUE"))
	if err != nil || !in.SkipTokenRevoke || !in.SetupGit {
		t.Errorf("ParseInputs = %+v, %v", in, err)
	}
}
