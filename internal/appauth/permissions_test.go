package appauth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/openapi"
)

func TestPermissionsList(t *testing.T) {
	t.Parallel()
	ps := Permissions()
	if !slices.IsSorted(ps) {
		t.Error("not sorted")
	}
	// GitHub's description (app-permissions), spelled as the REST API
	// spells it, plus the official action's deprecated team_discussions.
	for _, want := range []string{"actions", "artifact_metadata", "code_quality", "contents", "email_addresses", "git_ssh_keys",
		"organization_copilot_agent_settings", "team_discussions", "workflows"} {
		if !IsPermission(want) {
			t.Errorf("%q missing", want)
		}
	}
	// Names go-github knows but GitHub's token endpoint does not accept.
	for _, notGitHubs := range []string{"emails", "keys", "plan", "gists", "watching", "blocking", "codespaces_metadata"} {
		if IsPermission(notGitHubs) {
			t.Errorf("%q is accepted; GitHub's description has no such permission", notGitHubs)
		}
	}
	if want := len(openapi.Described()) + len(openapi.Extras); len(ps) != want {
		t.Errorf("%d permissions, want %d (the vendored description's and the extras)", len(ps), want)
	}
	for name, levels := range openapi.Permissions() {
		if !slices.Equal(Levels(name), levels) {
			t.Errorf("%s: levels %q, description says %q", name, Levels(name), levels)
		}
	}
}

func TestCheckPermission(t *testing.T) {
	t.Parallel()
	if err := CheckPermission("pull_requests", "write", "permission-pull-requests"); err != nil {
		t.Error(err)
	}
	if err := CheckPermission("repository_projects", "admin", "x"); err != nil {
		t.Error(err)
	}
	err := CheckPermission("pull_request", "write", "permission-pull-request")
	if err == nil || !strings.Contains(err.Error(), `did you mean "pull_requests"`) || !strings.Contains(err.Error(), "permission-pull-request:") {
		t.Errorf("misspelt name: %v", err)
	}
	err = CheckPermission("contents", "admin", "permission-contents")
	if err == nil || !strings.Contains(err.Error(), `use "read" or "write"`) {
		t.Errorf("bad level: %v", err)
	}
	// organization_events is read-only: the error names the one level.
	err = CheckPermission("organization_events", "write", "permission-organization-events")
	if err == nil || !strings.Contains(err.Error(), `"write" is not a valid level for organization_events: use "read"`) {
		t.Errorf("read-only permission: %v", err)
	}
	err = CheckPermission("workflows", "read", "permission-workflows")
	if err == nil || !strings.Contains(err.Error(), `use "write"`) {
		t.Errorf("write-only permission: %v", err)
	}
}

func TestParseRepositories(t *testing.T) {
	t.Parallel()
	cases := []struct {
		list, owner string
		want        []string
		wantOwner   string
		wantErr     string
	}{
		{"alpha, beta\ngamma,,\n  ", "octo-org", []string{"alpha", "beta", "gamma"}, "octo-org", ""},
		{"octo-org/alpha\nbeta.git", "", []string{"alpha", "beta"}, "octo-org", ""},
		{"Octo-Org/alpha", "octo-org", []string{"alpha"}, "octo-org", ""},
		{"alpha,alpha,ALPHA", "o", []string{"alpha"}, "o", ""},
		{"other/alpha", "octo-org", nil, "", `belongs to "other", not to owner "octo-org"`},
		{"a/b/c", "o", nil, "", "is not a repository name"},
		{"bad name!", "o", nil, "", "is not a repository name"},
		{"", "o", nil, "o", ""},
	}
	for _, tc := range cases {
		got, owner, err := ParseRepositories(tc.list, tc.owner, "repositories")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "repositories: ") {
				t.Errorf("%q: err = %v, want %q", tc.list, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) || owner != tc.wantOwner {
			t.Errorf("%q: got %q, %q, %v; want %q, %q", tc.list, got, owner, err, tc.want, tc.wantOwner)
		}
	}
	// Every problem at once.
	_, _, err := ParseRepositories("x/a, y/b, bad!", "o", "repositories")
	if n := len(strings.Split(err.Error(), "\n")); n != 3 {
		t.Errorf("%d problems reported, want 3: %v", n, err)
	}
}

func FuzzParseRepositories(f *testing.F) {
	f.Add("alpha, beta\ngamma", "")
	f.Add("octo-org/alpha", "octo-org")
	f.Add("a/b/c,,", "x")
	f.Fuzz(func(t *testing.T, list, owner string) {
		names, resolved, err := ParseRepositories(list, owner, "repositories")
		if err != nil {
			if names != nil {
				t.Fatal("names returned with an error")
			}
			return
		}
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "/,\n\r ") || !validName(n) {
				t.Fatalf("invalid name %q accepted", n)
			}
		}
		if owner != "" && resolved != owner {
			t.Fatalf("owner changed from %q to %q", owner, resolved)
		}
	})
}

func FuzzCheckPermission(f *testing.F) {
	f.Add("contents", "read")
	f.Add("pull-requests", "write")
	f.Fuzz(func(t *testing.T, name, level string) {
		err := CheckPermission(name, level, "input")
		var pe *PermissionError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error of type %T", err)
		}
		if err == nil && (!IsPermission(name) || !slices.Contains(Levels(name), level)) {
			t.Fatalf("accepted %q=%q", name, level)
		}
	})
}
