package actionenv

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runner(t *testing.T, env map[string]string) (*Runner, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	return New(func(k string) string { return env[k] }, &out), &out
}

func TestMaskEachLine(t *testing.T) {
	t.Parallel()
	r, out := runner(t, nil)
	r.Mask("line one\r\n  line two  \n\nline three")
	want := "::add-mask::line one\n::add-mask::line two\n::add-mask::line three\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestOutputsAndStateRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STATE": filepath.Join(dir, "state")}
	r, _ := runner(t, env)
	if err := r.CheckFiles(); err != nil {
		t.Fatal(err)
	}
	long := "ghs_1_" + strings.Repeat("abc.DEF-", 70)
	if err := r.SetOutputs("token", long, "multi", "a\nb", "empty", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveState("token", long); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	got := ReadFileCommands(string(b))
	if got["token"] != long || got["multi"] != "a\nb" || got["empty"] != "" || len(got) != 3 {
		t.Errorf("outputs read back as %q", got)
	}
	b, _ = os.ReadFile(env["GITHUB_STATE"])
	if ReadFileCommands(string(b))["token"] != long {
		t.Error("state did not round-trip")
	}
}

func TestWriteFailureIsAnError(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "no", "such", "dir", "out"), "GITHUB_STATE": "x"}
	r, _ := runner(t, env)
	err := r.SetOutputs("token", "secret-value")
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("err = %v", err)
	}
}

// A write the file takes but the disk cannot hold (the runner's disk full:
// /dev/full fails every write, and closes fine) is an error, not lost
// outputs.
func TestFullDiskIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full on %s", runtime.GOOS)
	}
	r, _ := runner(t, map[string]string{"GITHUB_OUTPUT": "/dev/full", "GITHUB_STATE": "x"})
	err := r.SetOutputs("token", "secret-value")
	if err == nil || !strings.Contains(err.Error(), "write GITHUB_OUTPUT") || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("SetOutputs on a full disk = %v, want the failure without the value", err)
	}
}

func TestCheckFiles(t *testing.T) {
	t.Parallel()
	r, _ := runner(t, map[string]string{"GITHUB_STATE": "x"})
	if err := r.CheckFiles(); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT not set") {
		t.Errorf("err = %v", err)
	}
}

func TestBool(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "FALSE": false, "": true} {
		r, _ := runner(t, map[string]string{"INPUT_FLAG": v})
		got, err := r.Bool("flag", true)
		if err != nil || got != want {
			t.Errorf("%q: %v, %v", v, got, err)
		}
	}
	r, _ := runner(t, map[string]string{"INPUT_FLAG": "yes"})
	if _, err := r.Bool("flag", false); err == nil || !strings.Contains(err.Error(), `flag: "yes" is not a boolean`) {
		t.Errorf("yes: %v", err)
	}
}

func TestDebugOnlyWithRunnerDebug(t *testing.T) {
	t.Parallel()
	r, out := runner(t, nil)
	r.Debugf("hidden")
	r2, out2 := runner(t, map[string]string{"RUNNER_DEBUG": "1"})
	r2.Debugf("shown %d", 1)
	if out.Len() != 0 || out2.String() != "::debug::shown 1\n" {
		t.Errorf("%q %q", out.String(), out2.String())
	}
}

func FuzzReadFileCommands(f *testing.F) {
	f.Add("a=b\nc<<EOF\nx\ny\nEOF\n")
	f.Add("token<<ghadelimiter_1\n\nghadelimiter_1")
	f.Add("=\n<<\n")
	f.Fuzz(func(t *testing.T, data string) {
		got := ReadFileCommands(data)
		for k := range got {
			if strings.Contains(k, "\n") {
				t.Fatalf("name %q holds a newline", k)
			}
		}
	})
}

// TestServerTextDefinesNoOtherOutput: a value holding go-githubactions' fixed
// delimiter, or any line break, stays one value (issue 9, finding 5).
func TestServerTextDefinesNoOtherOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STATE": filepath.Join(dir, "state")}
	r, _ := runner(t, env)
	evil := "slug\n_GitHubActionsFileCommandDelimeter_\nINJECTED<<X\nevil\nX\nALSO=1\r\nghadelimiter_\n"
	if err := r.SetOutputs("app-slug", evil, "token", "ghs_x"); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveState("slug", evil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_STATE"} {
		b, _ := os.ReadFile(env[f])
		got := ReadFileCommands(string(b))
		if _, ok := got["INJECTED"]; ok || got["ALSO"] != "" {
			t.Errorf("%s defines an injected name: %q", f, got)
		}
		if name := map[string]string{"GITHUB_OUTPUT": "app-slug", "GITHUB_STATE": "slug"}[f]; got[name] != strings.ReplaceAll(evil, "\r\n", "\n") {
			t.Errorf("%s: %s read back as %q", f, name, got[name])
		}
	}
	// A fresh delimiter per value: two writes never share one.
	b, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	var delims []string
	for _, line := range strings.Split(string(b), "\n") {
		if _, d, ok := strings.Cut(line, "<<ghadelimiter_"); ok && !strings.Contains(line, "=") {
			delims = append(delims, d)
		}
	}
	if len(delims) != 2 || delims[0] == delims[1] || len(delims[0]) < 26 {
		t.Errorf("delimiters %q", delims)
	}
	if err := r.SetOutputs("a\nb", "x"); err == nil {
		t.Error("a name with a line break was written")
	}
}

// TestServerTextStartsNoWorkflowCommand: CR and LF in log text never begin
// a line of their own (issue 9, finding 5; Warningf, Errorf and Debugf are
// escaped by go-githubactions, pinned here).
func TestServerTextStartsNoWorkflowCommand(t *testing.T) {
	t.Parallel()
	r, out := runner(t, map[string]string{"RUNNER_DEBUG": "1"})
	repo := "octo-org/a\n::warning::owned\r::error::also"
	r.Infof("Created a token for %s.", repo)
	r.Warningf("could not revoke %s", repo)
	r.Errorf("failed for %s", repo)
	r.Debugf("debug %s", repo)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4: %q", len(lines), out.String())
	}
	for _, l := range lines {
		if strings.Contains(l, "\r") || strings.HasPrefix(l, "::warning::owned") || strings.HasPrefix(l, "::error::also") {
			t.Errorf("line %q carries a command of the server's", l)
		}
	}
	if lines[0] != `Created a token for octo-org/a\n::warning::owned\r::error::also.` {
		t.Errorf("info line %q", lines[0])
	}
}
