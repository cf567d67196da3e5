package appauth

import (
	"slices"
	"strings"
	"testing"
)

func TestSelectionResolve(t *testing.T) {
	t.Parallel()
	names := func(s string) string { return "--" + s }
	cur := Selection{CurrentRepository: "octo-org/alpha", CurrentOwner: "octo-org"}
	for _, tc := range []struct {
		name    string
		sel     Selection
		owner   string
		repos   []string
		inst    int64
		current bool
	}{
		{"current repository", cur, "octo-org", []string{"alpha"}, 0, true},
		{"owner only", Selection{Owner: "octocat", CurrentRepository: "octo-org/alpha"}, "octocat", nil, 0, false},
		{"bare repositories: the current owner", Selection{Repositories: "beta, gamma", CurrentRepository: "octo-org/alpha", CurrentOwner: "octo-org"}, "octo-org", []string{"beta", "gamma"}, 0, false},
		{"bare repositories: the current repository's owner", Selection{Repositories: "beta", CurrentRepository: "octo-org/alpha"}, "octo-org", []string{"beta"}, 0, false},
		{"qualified repositories", Selection{Repositories: "octocat/hello-world", CurrentRepository: "octo-org/alpha"}, "octocat", []string{"hello-world"}, 0, false},
		{"installation", Selection{InstallationID: 102, CurrentRepository: "octo-org/alpha", CurrentOwner: "octo-org"}, "", nil, 102, false},
		{"installation narrowed", Selection{InstallationID: 102, Repositories: "octocat/hello-world"}, "octocat", []string{"hello-world"}, 102, false},
	} {
		req, current, err := tc.sel.Resolve(names)
		if err != nil || req.Owner != tc.owner || !slices.Equal(req.Repositories, tc.repos) || req.InstallationID != tc.inst || current != tc.current {
			t.Errorf("%s: Resolve = %+v, current %v, %v", tc.name, req, current, err)
		}
	}
	for _, tc := range []struct {
		name string
		sel  Selection
		want []string
	}{
		{"nothing at all", Selection{}, []string{"say which installation", "--owner", "--installation-id"}},
		{"owner with installation", Selection{Owner: "octo-org", InstallationID: 102}, []string{"--owner and --installation-id exclude each other"}},
		{"bad owner", Selection{Owner: "not an owner"}, []string{`--owner: "not an owner" is not a GitHub account name`}},
		{"negative installation", Selection{InstallationID: -1, Owner: "x"}, []string{"--installation-id: -1"}},
		{"other owner's repositories", Selection{Owner: "a", Repositories: "b/c"}, []string{`--repositories: "b/c" belongs to "b"`}},
		{"bare repositories, no owner anywhere", Selection{Repositories: "x"}, []string{"--owner: not set, and GITHUB_REPOSITORY_OWNER is empty"}},
		{"every problem at once", Selection{Owner: "bad owner", InstallationID: -1}, []string{"account name", "--installation-id: -1"}},
	} {
		_, _, err := tc.sel.Resolve(names)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Resolve = %v, want it to say %q", tc.name, err, w)
			}
		}
	}
}
