package appauth

import (
	"maps"
	"strings"
	"testing"
)

// An enterprise selection is the enterprise's installation alone: never
// the current repository, and refused with an owner, repositories or an
// installation ID, or a slug that cannot be one.
func TestSelectionEnterprise(t *testing.T) {
	t.Parallel()
	names := func(s string) string { return "--" + s }
	perms := map[string]string{"enterprise_custom_properties_for_organizations": "write"}
	req, current, err := Selection{Enterprise: "octo-enterprise", Permissions: perms, CurrentRepository: "octo-org/alpha"}.Resolve(names)
	if err != nil || current || req.Enterprise != "octo-enterprise" || req.Owner != "" || req.Repositories != nil || !maps.Equal(req.Permissions, perms) {
		t.Errorf("Resolve = %+v, %v, %v", req, current, err)
	}
	for _, tc := range []struct {
		sel  Selection
		want string
	}{
		{Selection{Enterprise: "octo-enterprise", Owner: "octo-org"}, "--enterprise: cannot be combined with --owner or --repositories"},
		{Selection{Enterprise: "octo-enterprise", Repositories: "alpha"}, "--enterprise: cannot be combined with --owner or --repositories"},
		{Selection{Enterprise: "octo-enterprise", InstallationID: 5}, "--enterprise: cannot be combined with --installation-id"},
		{Selection{Enterprise: "no/such"}, `--enterprise: "no/such" is not an enterprise slug`},
		{Selection{Enterprise: "dotted.name"}, `--enterprise: "dotted.name" is not an enterprise slug`},
	} {
		if req, _, err := tc.sel.Resolve(names); err == nil || !strings.Contains(err.Error(), tc.want) || req.Enterprise != "" {
			t.Errorf("%+v: %+v, %v; want %q", tc.sel, req, err, tc.want)
		}
	}
}

// No permissions (nil or an empty map) is all of the installation's: the
// request carries none.
func TestSelectionWithoutPermissions(t *testing.T) {
	t.Parallel()
	for _, perms := range []map[string]string{nil, {}} {
		req, _, err := Selection{Owner: "octo-org", Permissions: perms}.Resolve(func(s string) string { return s })
		if err != nil || req.Permissions != nil {
			t.Errorf("permissions %v: %+v, %v", perms, req.Permissions, err)
		}
	}
	if _, _, err := (Selection{InstallationID: -1}).Resolve(func(s string) string { return s }); err == nil || !strings.Contains(err.Error(), "installation-id: -1 is not an installation ID") {
		t.Errorf("installation ID -1: %v", err)
	}
}

// Repositories that do not parse are the only complaint: no second one
// about a missing owner.
func TestSelectionBadRepositoriesAlone(t *testing.T) {
	t.Parallel()
	_, _, err := Selection{Repositories: "bad name!"}.Resolve(func(s string) string { return s })
	if err == nil || !strings.Contains(err.Error(), `repositories: "bad name!" is not a repository name`) || strings.Contains(err.Error(), "GITHUB_REPOSITORY_OWNER") {
		t.Errorf("Resolve = %v", err)
	}
}
