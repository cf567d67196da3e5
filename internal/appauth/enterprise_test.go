package appauth

import (
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

func TestMintEnterprise(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.AddWorldEnterprise()
	a := newApp(t, srv.URL)
	tok, err := a.Mint(t.Context(), Request{Enterprise: emulator.WorldEnterprise,
		Permissions: map[string]string{"enterprise_custom_properties_for_organizations": "read"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.InstallationID != emulator.WorldEnterpriseInstID || tok.Owner != emulator.WorldEnterprise || len(tok.Repositories) != 0 {
		t.Errorf("token for installation %d on %q, repositories %q", tok.InstallationID, tok.Owner, tok.Repositories)
	}
	var paths []string
	for _, r := range emu.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	if want := []string{"GET /enterprises/octo-enterprise/installation", "POST /app/installations/103/access_tokens"}; !slices.Equal(paths, want) {
		t.Errorf("requests %q, want %q", paths, want)
	}

	// The organization's lookups do not find the enterprise.
	if _, err := a.Mint(t.Context(), Request{Owner: emulator.WorldEnterprise}); err == nil {
		t.Error("the enterprise was found as a user or organization")
	}
	_, err = a.Mint(t.Context(), Request{Enterprise: "no-such-enterprise"})
	if err == nil || !strings.Contains(err.Error(), `the app is not installed on the enterprise "no-such-enterprise"`) {
		t.Errorf("unknown enterprise: %v", err)
	}
	n := len(emu.Requests())
	_, err = a.Mint(t.Context(), Request{Enterprise: emulator.WorldEnterprise, Owner: "octo-org"})
	if err == nil || !strings.Contains(err.Error(), "enterprise cannot be combined with owner or repositories") || len(emu.Requests()) != n {
		t.Errorf("enterprise with owner: %v (and %d requests)", err, len(emu.Requests())-n)
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("emulator answers broke GitHub's description: %q", v)
	}
}
