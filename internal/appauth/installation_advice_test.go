package appauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// A suspended installation is reported as such by the lookup, and a token
// for it fails with advice naming the installation: by its account when
// the lookup told us, else by its ID.
func TestSuspendedInstallation(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.AddUser(&emulator.User{Login: "sleepy-org", ID: 9003, Type: "Organization"})
	emu.AddInstallation(&emulator.Installation{ID: 103, AppID: emulator.WorldAppID, Account: "sleepy-org", AccountID: 9003, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"dream"}, Permissions: map[string]string{"contents": "read"}, Suspended: true})
	a := newApp(t, srv.URL)
	inst, err := a.InstallationForOwner(t.Context(), "sleepy-org")
	if err != nil {
		t.Fatal(err)
	}
	if !inst.Suspended {
		t.Error("the suspended installation is not reported suspended")
	}
	if awake, err := a.InstallationForOwner(t.Context(), emulator.WorldOrg); err != nil || awake.Suspended {
		t.Errorf("octo-org's installation: %+v, %v; want not suspended", awake, err)
	}
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Owner: "sleepy-org"}, "the installation on sleepy-org is suspended: an owner of the account must unsuspend it"},
		{Request{InstallationID: 103}, "installation 103 is suspended: an owner of the account must unsuspend it"},
	} {
		_, err := a.Mint(t.Context(), tc.req)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != 403 || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Mint(%+v) = %v, want %q", tc.req, err, tc.want)
		}
	}
}

// When GitHub refuses permissions, the advice names exactly the requested
// permissions the installation lacks, with what it has; one it has at the
// requested level is not named.
func TestPermissionAdviceNamesOnlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, srv := world(t)
	a := newApp(t, srv.URL, WithNames(func(s string) string { return "--" + s }))
	_, err := a.Mint(t.Context(), Request{Owner: emulator.WorldUser, Permissions: map[string]string{"contents": "read", "metadata": "read", "issues": "write", "pull_requests": "read"}})
	want := "the installation on octocat was not granted issues: write (it has none; lower --permission-issues); pull_requests: read (it has none; lower --permission-pull-requests), or have an owner grant it"
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 422 || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	// Without a lookup (installation ID given), what it has is unknown.
	_, err = a.Mint(t.Context(), Request{InstallationID: emulator.WorldUserInst, Permissions: map[string]string{"contents": "write"}})
	want = "installation 102 was not granted every permission requested: lower the permission settings, or have an owner accept the app's new permissions"
	if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// Listing the installations fails with GitHub's refusal, turned into advice.
func TestInstallationsRefused(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Method: "GET", Path: "/app/installations", Status: 403, Message: "Forbidden"})
	list, err := newApp(t, srv.URL).Installations(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(err.Error(), "check the app's permissions") {
		t.Errorf("Installations = %v, %v; want the 403 with advice", list, err)
	}
}
