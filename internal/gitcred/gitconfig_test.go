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
