package gitcred

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestGitConfigReplaceRestore(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not on PATH")
	}
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	ctx := t.Context()
	if err := g.Set(ctx, "--add", "credential.https://h.helper", "old-helper"); err != nil {
		t.Fatal(err)
	}
	if err := g.Set(ctx, "user.name", "Someone"); err != nil {
		t.Fatal(err)
	}
	saved, err := g.Replace(ctx, []Setting{
		{Key: "credential.https://h.helper", Values: []string{"", "!app-token credential"}},
		{Key: "credential.https://h.useHttpPath", Values: []string{"true"}},
		{Key: "user.name", Values: []string{"bot[bot]"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := g.GetAll(ctx, "credential.https://h.helper"); !slices.Equal(got, []string{"", "!app-token credential"}) {
		t.Errorf("helper = %q", got)
	}
	if got, _ := g.GetAll(ctx, "user.name"); !slices.Equal(got, []string{"bot[bot]"}) {
		t.Errorf("user.name = %q", got)
	}
	if err := g.Restore(ctx, saved); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]string{
		"credential.https://h.helper":      {"old-helper"},
		"credential.https://h.useHttpPath": nil,
		"user.name":                        {"Someone"},
	} {
		if got, err := g.GetAll(ctx, key); err != nil || !slices.Equal(got, want) {
			t.Errorf("after Restore %s = %q, %v; want %q", key, got, err, want)
		}
	}
}

func TestGitConfigReplaceUndoesOnFailure(t *testing.T) {
	t.Parallel()
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	ctx := t.Context()
	if err := g.Set(ctx, "user.name", "Someone"); err != nil {
		t.Fatal(err)
	}
	_, err := g.Replace(ctx, []Setting{
		{Key: "user.name", Values: []string{"bot"}},
		{Key: "not a valid key", Values: []string{"x"}},
	})
	var ge *GitError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want *GitError", err)
	}
	if got, _ := g.GetAll(ctx, "user.name"); !slices.Equal(got, []string{"Someone"}) {
		t.Errorf("user.name after a failed Replace = %q, want it restored", got)
	}
}

func TestSetupAndRemoveHelper(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not on PATH")
	}
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	ctx := t.Context()
	const base, other = "https://ghe.example", "https://github.com"
	if err := g.Set(ctx, "--add", "credential."+base+".helper", "old-helper"); err != nil {
		t.Fatal(err)
	}
	if err := g.Set(ctx, "--add", "credential."+other+".helper", "other-helper"); err != nil {
		t.Fatal(err)
	}
	// Twice: the second run leaves the same configuration, not two helpers.
	for range 2 {
		if err := g.SetupHelper(ctx, base, "!app-token credential"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := g.GetAll(ctx, "credential."+base+".helper"); !slices.Equal(got, []string{"", "!app-token credential"}) {
		t.Errorf("helper = %q, want the reset and app-token's", got)
	}
	if got, _ := g.GetAll(ctx, "credential."+base+".useHttpPath"); !slices.Equal(got, []string{"true"}) {
		t.Errorf("useHttpPath = %q", got)
	}
	if removed, err := g.RemoveHelper(ctx, base); err != nil || !removed {
		t.Fatalf("RemoveHelper = %v, %v; want removed", removed, err)
	}
	for _, key := range []string{"credential." + base + ".helper", "credential." + base + ".useHttpPath"} {
		if got, _ := g.GetAll(ctx, key); len(got) != 0 {
			t.Errorf("after RemoveHelper %s = %q", key, got)
		}
	}
	if removed, err := g.RemoveHelper(ctx, base); err != nil || removed {
		t.Errorf("second RemoveHelper = %v, %v; want nothing removed", removed, err)
	}
	// Another host's helper is not touched.
	if got, _ := g.GetAll(ctx, "credential."+other+".helper"); !slices.Equal(got, []string{"other-helper"}) {
		t.Errorf("other host's helper = %q", got)
	}
}

func TestNewGitConfigTakesLocationsFromGetenv(t *testing.T) {
	t.Parallel()
	environ := []string{"PATH=/bin", "HOME=/process/home", "GIT_CONFIG_GLOBAL=/process/gitconfig"}
	getenv := func(k string) string {
		return map[string]string{"HOME": "/test/home", "XDG_CONFIG_HOME": "/test/xdg"}[k]
	}
	g := NewGitConfig(environ, getenv, "--global")
	want := []string{"PATH=/bin", "HOME=/test/home", "XDG_CONFIG_HOME=/test/xdg"}
	if !slices.Equal(g.Env, want) || !slices.Equal(g.Scope, []string{"--global"}) {
		t.Errorf("NewGitConfig = %q %q, want env %q", g.Env, g.Scope, want)
	}
	if environ[1] != "HOME=/process/home" {
		t.Errorf("NewGitConfig changed its environ: %q", environ)
	}
}

// Helpers lists what git runs for a host: the values after the last empty
// one, which resets the list (gitcredentials(7)).
func TestHelpers(t *testing.T) {
	t.Parallel()
	g := GitConfig{Scope: []string{"--file", filepath.Join(t.TempDir(), "config")}}
	ctx := t.Context()
	const base = "https://ghe.example"
	if got, err := g.Helpers(ctx, base); err != nil || len(got) != 0 {
		t.Errorf("no helper: %q, %v", got, err)
	}
	for _, v := range []string{"first", "second"} {
		if err := g.Set(ctx, "--add", "credential."+base+".helper", v); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := g.Helpers(ctx, base); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("without a reset: %q, want both", got)
	}
	for _, v := range []string{"", "third", "", "!app-token credential", "fourth"} {
		if err := g.Set(ctx, "--add", "credential."+base+".helper", v); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := g.Helpers(ctx, base); !slices.Equal(got, []string{"!app-token credential", "fourth"}) {
		t.Errorf("after resets: %q, want what follows the last one", got)
	}
	// The reset as the very first value, as setup-git writes it.
	if err := g.SetupHelper(ctx, "https://other.example", "!app-token credential"); err != nil {
		t.Fatal(err)
	}
	if got, _ := g.Helpers(ctx, "https://other.example"); !slices.Equal(got, []string{"!app-token credential"}) {
		t.Errorf("after setup-git's reset: %q, want app-token's alone", got)
	}
}
