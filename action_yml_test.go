package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/appauth"
)

var update = flag.Bool("update", false, "rewrite generated files and golden files")

const (
	genStart = "  # <START GENERATED PERMISSIONS INPUTS>\n"
	genEnd   = "  # <END GENERATED PERMISSIONS INPUTS>\n"
)

// permissionInputs renders one input for every permission GitHub's
// create-installation-token API accepts (appauth.Permissions).
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

// TestActionYAMLDeclaresWhatTheCodeUses checks inputs and outputs against
// the names the code reads and writes, and the drop-in promise: every input
// and output of actions/create-github-app-token exists here.
func TestActionYAMLDeclaresWhatTheCodeUses(t *testing.T) {
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	inputs, outputs := yamlSection(string(data), "inputs"), yamlSection(string(data), "outputs")
	official := []string{"app-id", "client-id", "private-key", "owner", "repositories", "skip-token-revoke", "github-api-url",
		"permission-actions", "permission-administration", "permission-checks", "permission-codespaces", "permission-contents",
		"permission-dependabot-secrets", "permission-deployments", "permission-email-addresses", "permission-environments",
		"permission-followers", "permission-git-ssh-keys", "permission-gpg-keys", "permission-interaction-limits",
		"permission-issues", "permission-members", "permission-metadata", "permission-organization-administration",
		"permission-organization-announcement-banners", "permission-organization-copilot-seat-management",
		"permission-organization-custom-org-roles", "permission-organization-custom-properties",
		"permission-organization-custom-roles", "permission-organization-events", "permission-organization-hooks",
		"permission-organization-packages", "permission-organization-personal-access-token-requests",
		"permission-organization-personal-access-tokens", "permission-organization-plan", "permission-organization-projects",
		"permission-organization-secrets", "permission-organization-self-hosted-runners", "permission-organization-user-blocking",
		"permission-packages", "permission-pages", "permission-profile", "permission-pull-requests",
		"permission-repository-custom-properties", "permission-repository-hooks", "permission-repository-projects",
		"permission-secret-scanning-alerts", "permission-secrets", "permission-security-events", "permission-single-file",
		"permission-starring", "permission-statuses", "permission-team-discussions", "permission-vulnerability-alerts",
		"permission-workflows"}
	ours := []string{"installation-id", "setup-git"}
	for _, in := range append(official, ours...) {
		if !slices.Contains(inputs, in) {
			t.Errorf("input %q is not declared", in)
		}
	}
	for _, out := range []string{"token", "installation-id", "app-slug", "expires-at", "git-user-name", "git-user-email"} {
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
