package appauth

import (
	"context"
	"crypto"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

func TestInstallationsWithRepositories(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.AddWorldEnterprise()
	emu.AddUser(&emulator.User{Login: "frozen-org", ID: 9003, Type: "Organization"})
	emu.AddInstallation(&emulator.Installation{
		ID: 104, AppID: emulator.WorldAppID, Account: "frozen-org", AccountID: 9003, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"ice"}, Suspended: true,
	})
	got, err := newApp(t, srv.URL).InstallationsWithRepositories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]string{
		emulator.WorldOrgInstID:        {"alpha", "beta", "gamma"},
		emulator.WorldUserInst:         {"hello-world"},
		emulator.WorldEnterpriseInstID: {}, // an enterprise reaches no repository
		104:                            {}, // suspended: it cannot mint
	}
	if len(got) != len(want) {
		t.Fatalf("got %d installations, want %d", len(got), len(want))
	}
	for _, in := range got {
		repos := slices.Clone(in.Repositories)
		slices.Sort(repos)
		if w, ok := want[in.ID]; !ok || !slices.Equal(repos, w) || in.Repositories == nil {
			t.Errorf("installation %d: repositories %#v, want %#v", in.ID, in.Repositories, w)
		}
		if in.Permissions == nil {
			t.Errorf("installation %d: nil permissions, want a map", in.ID)
		}
		if in.ID == emulator.WorldOrgInstID && (len(in.Permissions) != 4 || in.Permissions["contents"] != "write") {
			t.Errorf("installation %d: permissions %v, want the installation's own", in.ID, in.Permissions)
		}
	}
	// One token per installation that can list, each narrowed to
	// metadata:read and revoked after use.
	toks := emu.Tokens()
	var insts []int64
	for _, tok := range toks {
		insts = append(insts, tok.InstallationID)
		if !tok.Revoked || len(tok.Permissions) != 1 || tok.Permissions["metadata"] != "read" {
			t.Errorf("token for installation %d: revoked %v, permissions %v; want revoked, metadata:read only", tok.InstallationID, tok.Revoked, tok.Permissions)
		}
	}
	slices.Sort(insts)
	if !slices.Equal(insts, []int64{emulator.WorldOrgInstID, emulator.WorldUserInst}) {
		t.Errorf("tokens minted for installations %v, want only 101 and 102", insts)
	}
}

func TestNameInstallation(t *testing.T) {
	t.Parallel()
	_, srv := world(t)
	app := newApp(t, srv.URL)
	tok := &Token{InstallationID: emulator.WorldUserInst}
	if err := app.NameInstallation(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if tok.Owner != emulator.WorldUser || tok.AppSlug != emulator.WorldAppSlug {
		t.Errorf("named %q/%q, want %q/%q", tok.Owner, tok.AppSlug, emulator.WorldUser, emulator.WorldAppSlug)
	}
	// What the token already says is kept.
	tok = &Token{InstallationID: emulator.WorldUserInst, Owner: "kept", AppSlug: "kept-app"}
	if err := app.NameInstallation(context.Background(), tok); err != nil || tok.Owner != "kept" || tok.AppSlug != "kept-app" {
		t.Errorf("named %q/%q (%v), want the token's own names kept", tok.Owner, tok.AppSlug, err)
	}
	err := app.NameInstallation(context.Background(), &Token{InstallationID: 999})
	if err == nil || !strings.Contains(err.Error(), "installation 999") {
		t.Errorf("unknown installation: %v, want an error naming it", err)
	}
}

// GitHub's enterprise installation names its account by slug: an
// enterprise object has no login and no type
// (https://docs.github.com/en/rest/apps/apps#list-installations-for-the-authenticated-app).
func TestEnterpriseAccountIsNamedBySlug(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[
			{"id": 7, "app_id": 1, "app_slug": "octo-app", "target_type": "Enterprise", "repository_selection": "selected",
			 "account": {"id": 9100, "slug": "octo-enterprise", "name": "Octo Enterprise"}, "permissions": {}},
			{"id": 8, "app_id": 1, "app_slug": "octo-app", "target_type": "Organization", "repository_selection": "all",
			 "account": {"id": 9001, "login": "octo-org", "type": "Organization", "slug": "ignored"}, "permissions": {}}
		]`))
	}))
	defer srv.Close()
	list, err := newApp(t, srv.URL).Installations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, in := range list {
		got[in.ID] = in.Account + " " + in.AccountType
	}
	if got[7] != "octo-enterprise Enterprise" || got[8] != "octo-org Organization" {
		t.Errorf("accounts = %v, want the enterprise by its slug and the organization by its login", got)
	}
}

// refusingSigner is a KMS key the caller may not use.
type refusingSigner struct{ crypto.Signer }

func (refusingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("AccessDeniedException: not authorized to kms:Sign")
}

// A JWT the key cannot sign is the key's failure, said as such; nothing
// is sent to GitHub.
func TestSigningFailureIsTheKeys(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	a, err := New(emulator.WorldClientID, refusingSigner{testKey()}, WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Installations(t.Context())
	if err == nil || !strings.Contains(err.Error(), "sign JWT: AccessDeniedException") {
		t.Errorf("Installations = %v, want the signer's refusal", err)
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("%d requests reached GitHub", n)
	}
}
