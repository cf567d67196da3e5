package appauth

import (
	"context"
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
