package main

import (
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/openapi"
)

var update = flag.Bool("update", false, "rewrite generated files and golden files")

const (
	genStart = "  # <START GENERATED PERMISSIONS INPUTS>\n"
	genEnd   = "  # <END GENERATED PERMISSIONS INPUTS>\n"
)

// permissionInputs renders one input for every permission GitHub's
// create-installation-token API accepts (appauth.Permissions, from the
// vendored description internal/openapi/app-permissions.json, and the
// official action's deprecated extras).
func permissionInputs() string {
	var b strings.Builder
	for _, p := range appauth.Permissions() {
		levels := appauth.Levels(p)
		q := make([]string, len(levels))
		for i, l := range levels {
			q[i] = "'" + l + "'"
		}
		can := q[0]
		if len(q) > 1 {
			can = strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
		}
		fmt.Fprintf(&b, "  %s:\n    description: \"The level of permission to grant the access token for %s. Can be set to %s.\"\n",
			actionenv.PermissionInput(p), strings.ReplaceAll(p, "_", " "), can)
	}
	return b.String()
}

// TestActionYAMLPermissionInputs fails when action.yml's permission inputs
// and appauth's list disagree. go test -run TestActionYAML -update rewrites
// them.
func TestActionYAMLPermissionInputs(t *testing.T) {
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, genStart), strings.Index(s, genEnd)
	if i < 0 || j < i {
		t.Fatal("action.yml lacks the generated-permissions markers")
	}
	want := permissionInputs()
	if got := s[i+len(genStart) : j]; got != want {
		if *update {
			if err := os.WriteFile("action.yml", []byte(s[:i+len(genStart)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("action.yml's permission inputs are out of date: run go test -run TestActionYAML -update")
	}
}

// TestPermissionSourcesAgree fails when action.yml's permission inputs, the
// CLI's validation (appauth), the emulator and the vendored description
// (internal/openapi) disagree on a permission's name or levels.
func TestPermissionSourcesAgree(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := openapi.Permissions()
	// action.yml: every permission-* input and the levels its description names.
	declared := map[string][]string{}
	re := regexp.MustCompile(`(?m)^  (permission-[a-z0-9-]+):\n    description: ".*Can be set to (.*)\."$`)
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		name := strings.ReplaceAll(strings.TrimPrefix(m[1], "permission-"), "-", "_")
		declared[name] = regexp.MustCompile(`'([a-z]+)'`).FindAllString(m[2], -1)
		for i, l := range declared[name] {
			declared[name][i] = strings.Trim(l, "'")
		}
	}
	if n := len(regexp.MustCompile(`(?m)^  permission-`).FindAllString(string(data), -1)); n != len(declared) {
		t.Errorf("action.yml declares %d permission inputs, %d with levels this test can read", n, len(declared))
	}

	// The emulator, asked over HTTP by an installation granted every
	// permission at its highest level: it must take exactly the allowed levels.
	emu := emulator.NewWorld(testKey())
	granted := map[string]string{}
	for name := range want {
		granted[name] = "admin"
	}
	emu.AddInstallation(&emulator.Installation{ID: 777, AppID: emulator.WorldAppID, Account: "all-perms", AccountID: 7007,
		AccountType: "Organization", RepositorySelection: "all", Permissions: granted})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	app, err := appauth.New(emulator.WorldClientID, testKey(), appauth.WithBaseURL(srv.URL), appauth.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range openapi.Names() {
		levels := want[name]
		if got := declared[name]; !slices.Equal(got, levels) {
			t.Errorf("%s: action.yml offers %q, the description %q", name, got, levels)
		}
		if got := appauth.Levels(name); !slices.Equal(got, levels) {
			t.Errorf("%s: appauth allows %q, the description %q", name, got, levels)
		}
		for _, level := range []string{"read", "write", "admin"} {
			allowed := slices.Contains(levels, level)
			if err := appauth.CheckPermission(name, level, "--permission"); (err == nil) != allowed {
				t.Errorf("%s=%s: appauth says %v, allowed = %v", name, level, err, allowed)
			}
			_, err := app.CreateToken(t.Context(), &appauth.Installation{ID: 777}, nil, map[string]string{name: level})
			if (err == nil) != allowed {
				t.Errorf("%s=%s: the emulator says %v, allowed = %v", name, level, err, allowed)
			}
		}
	}
	for name := range declared {
		if _, ok := want[name]; !ok {
			t.Errorf("action.yml offers permission-%s, which neither GitHub's description nor the official action has", strings.ReplaceAll(name, "_", "-"))
		}
	}
	if _, err := app.CreateToken(t.Context(), &appauth.Installation{ID: 777}, nil, map[string]string{"plan": "read"}); err == nil {
		t.Error("the emulator minted a token with a permission GitHub does not describe")
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("emulator answers broke GitHub's description: %q", v)
	}
}

// officialNames reads testdata/create-github-app-token-inputs.txt, the
// official action's input and output names (its header names the version).
func officialNames(t *testing.T, kind string) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/create-github-app-token-inputs.txt")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, kind+" "); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	if len(names) == 0 {
		t.Fatalf("no %s names in the official list", kind)
	}
	return names
}

// TestActionYAMLDeclaresWhatTheCodeUses checks inputs and outputs against
// the names the code reads and writes, and the drop-in promise: every input
// and output of actions/create-github-app-token (the vendored list) exists
// here.
func TestActionYAMLDeclaresWhatTheCodeUses(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	inputs, outputs := yamlSection(string(data), "inputs"), yamlSection(string(data), "outputs")
	for _, in := range officialNames(t, "input") {
		if !slices.Contains(inputs, in) {
			t.Errorf("input %q of actions/create-github-app-token is not declared", in)
		}
	}
	for _, out := range officialNames(t, "output") {
		if !slices.Contains(outputs, out) {
			t.Errorf("output %q of actions/create-github-app-token is not declared", out)
		}
	}
	for _, in := range []string{"installation-id", "setup-git", "enterprise"} {
		if !slices.Contains(inputs, in) {
			t.Errorf("input %q is not declared", in)
		}
	}
	for _, out := range []string{"expires-at", "git-user-name", "git-user-email"} {
		if !slices.Contains(outputs, out) {
			t.Errorf("output %q is not declared", out)
		}
	}
	if !strings.Contains(string(data), `using: "node24"`) {
		t.Error("runs.using is not node24")
	}
}

// yamlSection lists the keys two spaces deep under a top-level key: enough
// YAML for action.yml, without a YAML dependency.
func yamlSection(doc, top string) []string {
	var keys []string
	in := false
	key := regexp.MustCompile(`^  ([a-z0-9-]+):`)
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, " ") && strings.TrimSpace(line) != "" {
			in = strings.HasPrefix(line, top+":")
			continue
		}
		if m := key.FindStringSubmatch(line); in && m != nil {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// TestREADMEDropInTable fails when the README's drop-in table leaves out an
// input or output of the official action.
func TestREADMEDropInTable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"input", "output"} {
		for _, name := range officialNames(t, kind) {
			if !strings.Contains(string(data), fmt.Sprintf("| %s | `%s` | ", kind, name)) {
				t.Errorf("the README's drop-in table lacks the %s %q", kind, name)
			}
		}
	}
}
