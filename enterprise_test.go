package main

// The enterprise installation (issue 10; actions/create-github-app-token
// v3.2.0's enterprise input): the action and the token command look it up
// with GET /enterprises/{enterprise}/installation, then mint.

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// paths lists the paths the emulator was asked for, in order.
func paths(emu *emulator.Server) []string {
	var out []string
	for _, r := range emu.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

var enterpriseRequests = []string{
	"GET /enterprises/" + emulator.WorldEnterprise + "/installation",
	"POST /app/installations/" + strconv.Itoa(emulator.WorldEnterpriseInstID) + "/access_tokens",
}

func TestActionEnterprise(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	w.emu.AddWorldEnterprise()
	stdout, stderr, err := runEnv(t, w.env(map[string]string{"enterprise": emulator.WorldEnterprise}), "action")
	if err != nil {
		t.Fatalf("action: %v\n%s%s", err, stdout, stderr)
	}
	if got := paths(w.emu); !slices.Equal(got, enterpriseRequests) {
		t.Errorf("requests = %q, want %q", got, enterpriseRequests)
	}
	out := w.outputs(t)
	info, ok := w.emu.TokenInfo(out["token"])
	if !ok {
		t.Fatal("the output token was not issued by the emulator")
	}
	if info.InstallationID != emulator.WorldEnterpriseInstID || info.Permissions["enterprise_custom_properties_for_organizations"] != "write" {
		t.Errorf("token of installation %d with %v, want %d with the enterprise's permission", info.InstallationID, info.Permissions, emulator.WorldEnterpriseInstID)
	}
	if out["installation-id"] != "103" || out["app-slug"] != emulator.WorldAppSlug {
		t.Errorf("installation-id, app-slug = %q, %q; want 103, %q", out["installation-id"], out["app-slug"], emulator.WorldAppSlug)
	}
	if !strings.Contains(stdout, `installation on enterprise "octo-enterprise"`) {
		t.Errorf("the log does not say the enterprise's installation is used:\n%s", stdout)
	}
	assertMaskedFirst(t, stdout, out["token"])
}

func TestActionEnterpriseRefusals(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		inputs map[string]string
		want   string
	}{
		"with owner":           {map[string]string{"owner": "octo-org"}, "enterprise: cannot be combined with owner or repositories"},
		"with repositories":    {map[string]string{"repositories": "alpha"}, "enterprise: cannot be combined with owner or repositories"},
		"with installation-id": {map[string]string{"installation-id": "101"}, "enterprise: cannot be combined with installation-id"},
		"not a slug":           {map[string]string{"enterprise": "not a slug"}, `enterprise: "not a slug" is not an enterprise slug`},
		"with setup-git":       {map[string]string{"setup-git": "true"}, "setup-git: an enterprise installation's token reaches no repository"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newActWorld(t)
			w.emu.AddWorldEnterprise()
			inputs := map[string]string{"enterprise": emulator.WorldEnterprise}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			stdout, _, err := runEnv(t, w.env(inputs), "action")
			if exitCode(err) != exitError {
				t.Errorf("exit %d, want %d", exitCode(err), exitError)
			}
			if !strings.Contains(stdout, "::error::") || !strings.Contains(stdout, escapeCommand(tc.want)) {
				t.Errorf("the log lacks the error %q:\n%s", tc.want, stdout)
			}
			if n := len(w.emu.Requests()); n != 0 {
				t.Errorf("%d requests, want none: refused before any request", n)
			}
			if out := w.outputs(t); len(out) != 0 {
				t.Errorf("outputs written on failure: %v", out)
			}
		})
	}
}

func TestTokenCommandEnterprise(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	w.emu.AddWorldEnterprise()
	env := cliEnv(t, w)
	// The current repository is no default once --enterprise names the
	// installation.
	env["GITHUB_REPOSITORY"] = "octo-org/alpha"
	out, stderr, err := runEnv(t, env, "token", "--enterprise", emulator.WorldEnterprise, "--json")
	if err != nil {
		t.Fatalf("token --enterprise: %v (%s)", err, stderr)
	}
	var j struct {
		Token          string `json:"token"`
		InstallationID int64  `json:"installation_id"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if _, ok := w.emu.TokenInfo(j.Token); !ok || j.InstallationID != emulator.WorldEnterpriseInstID {
		t.Errorf("--json = %s", out)
	}
	if got := paths(w.emu); !slices.Equal(got, enterpriseRequests) {
		t.Errorf("requests = %q, want %q", got, enterpriseRequests)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--owner", "octo-org"}, "--enterprise: cannot be combined with --owner or --repositories"},
		{[]string{"--repositories", "octo-org/alpha"}, "--enterprise: cannot be combined with --owner or --repositories"},
		{[]string{"--installation-id", "103"}, "--enterprise: cannot be combined with --installation-id"},
	} {
		before := len(w.emu.Requests())
		out, stderr, err := runEnv(t, env, append([]string{"token", "--enterprise", emulator.WorldEnterprise}, tc.args...)...)
		if exitCode(err) != exitUsage || !strings.Contains(stderr+errString(err), tc.want) {
			t.Errorf("token --enterprise %q: exit %d, %q; want %d and %q", tc.args, exitCode(err), stderr+errString(err), exitUsage, tc.want)
		}
		if out != "" || len(w.emu.Requests()) != before {
			t.Errorf("token --enterprise %q printed %q or asked GitHub", tc.args, out)
		}
	}
	// An enterprise the app is not installed on: GitHub's 404, as advice
	// naming the flag.
	_, stderr, err = runEnv(t, env, "token", "--enterprise", "other-enterprise")
	if err == nil || !strings.Contains(stderr+errString(err), "--enterprise") {
		t.Errorf("token --enterprise other-enterprise: %v %q, want an error naming --enterprise", err, stderr)
	}
}
