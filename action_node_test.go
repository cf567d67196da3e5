package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runsEntry reads runs.<key> of action.yml.
func runsEntry(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  ` + key + `: "?([^"\n]+)"?$`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("action.yml has no runs.%s", key)
	}
	return m[1]
}

// runnerEnv is the environment the runner gives a node action's step: the
// machine's basics (PATH, and Go's folders for the launcher's source
// build), GITHUB_* and RUNNER_* variables, and INPUT_<NAME> for every input
// given or defaulted, hyphens kept.
func runnerEnv(w *actWorld, toolCache string, inputs map[string]string) []string {
	env := []string{"RUNNER_TOOL_CACHE=" + toolCache, "RUNNER_TEMP=" + w.dir}
	for _, k := range []string{"PATH", "HOME", "USERPROFILE", "SystemRoot", "TEMP", "TMP", "LOCALAPPDATA", "GOCACHE", "GOPATH", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range w.env(map[string]string{"setup-git": "false"}) {
		env = append(env, k+"="+v)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	return env
}

// TestActionYAMLUnderNode runs action.yml's main and post launchers with
// node, as the runner does, against the emulator: the launcher finds or
// builds the real binary, which mints, masks, writes outputs and state, and
// the post step revokes.
func TestActionYAMLUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the action's launchers are JavaScript and need node (20 or later)")
	}
	w := newActWorld(t)
	toolCache := t.TempDir()

	mainCmd := exec.Command(node, runsEntry(t, "main"))
	mainCmd.Env = runnerEnv(w, toolCache, map[string]string{"owner": "octo-org", "permission-contents": "read"})
	out, err := mainCmd.Output()
	if err != nil {
		t.Fatalf("main step: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderrOf(err))
	}
	outputs := w.outputs(t)
	token := outputs["token"]
	info, ok := w.emu.TokenInfo(token)
	if !ok {
		t.Fatalf("output token not issued by the emulator; outputs: %v", keys(outputs))
	}
	if info.Permissions["contents"] != "read" || len(info.Permissions) != 1 {
		t.Errorf("token permissions %v", info.Permissions)
	}
	if outputs["installation-id"] != "101" || outputs["app-slug"] != "octo-app" || outputs["expires-at"] == "" {
		t.Errorf("outputs %v", outputs)
	}
	assertMaskedFirst(t, string(out), token)
	state := w.state(t)
	if state["token"] != token || state["launcher-binary"] == "" {
		t.Errorf("state lacks the token or the launcher's binary: %v", keys(state))
	}
	if len(w.emu.Requests()) != 2 {
		t.Errorf("%d API requests, want 2", len(w.emu.Requests()))
	}

	postCmd := exec.Command(node, runsEntry(t, "post"))
	postCmd.Env = runnerEnv(w, toolCache, nil)
	for k, v := range state {
		postCmd.Env = append(postCmd.Env, "STATE_"+k+"="+v)
	}
	out, err = postCmd.Output()
	if err != nil {
		t.Fatalf("post step: %v\n%s\n%s", err, out, stderrOf(err))
	}
	if info, _ := w.emu.TokenInfo(token); !info.Revoked {
		t.Errorf("post step did not revoke; log:\n%s", out)
	}
	if strings.Contains(strings.ReplaceAll(string(out), "::add-mask::"+token, ""), token) {
		t.Error("the token appears unmasked in the post step's log")
	}

	// A failing step: the exit code passes through, one ::error:: line, no
	// outputs.
	os.WriteFile(filepath.Join(w.dir, "output"), nil, 0o600)
	bad := exec.Command(node, runsEntry(t, "main"))
	bad.Env = runnerEnv(w, toolCache, map[string]string{"owner": "lonely-org"})
	out, err = bad.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("failing main step: err = %v, want exit code 1", err)
	}
	if n := strings.Count(string(out), "::error::"); n != 1 || !strings.Contains(string(out), "not installed on the account") {
		t.Errorf("failing main step wrote %d ::error:: lines:\n%s", n, out)
	}
	if len(w.outputs(t)) != 0 {
		t.Error("outputs written by a failing step")
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
