package actionenv

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// SetOutputs and SaveState write name, value pairs; a name without its
// value (an odd count) is left out, and the pairs before it are written.
func TestOddPairsWriteTheCompletePairs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STATE": filepath.Join(dir, "state")}
	r, _ := runner(t, env)
	if err := r.SetOutputs("a", "1", "b", "2", "dangling"); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveState("s", "x", "dangling"); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]map[string]string{"GITHUB_OUTPUT": {"a": "1", "b": "2"}, "GITHUB_STATE": {"s": "x"}} {
		b, err := os.ReadFile(env[file])
		if err != nil {
			t.Fatal(err)
		}
		if got := ReadFileCommands(string(b)); !maps.Equal(got, want) {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
}

// ReadFileCommands reads name=value lines and name<<DELIMITER blocks, the
// later value winning; a block whose delimiter never comes runs to the end
// of the file.
func TestReadFileCommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		want map[string]string
	}{
		{"a=1\r\nb=x=y\n", map[string]string{"a": "1", "b": "x=y"}},
		{"t<<EOF\nline 1\nline 2\nEOF\nu=2\n", map[string]string{"t": "line 1\nline 2", "u": "2"}},
		{"a=1\na=2\n", map[string]string{"a": "2"}},
		{"t<<EOF\nno end\nstill", map[string]string{"t": "no end\nstill"}},
		{"t<<EOF", map[string]string{"t": ""}},
		{"x=a<<b\n", map[string]string{"x": "a<<b"}},
		{"no separator\n", map[string]string{}},
	} {
		if got := ReadFileCommands(tc.data); !maps.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.data, got, tc.want)
		}
	}
}

// The post step reads what the main step saved as STATE_<name>, which is
// how the runner hands state over.
func TestStateIsReadFromTheRunnersVariables(t *testing.T) {
	t.Parallel()
	r, _ := runner(t, map[string]string{"STATE_token": "ghs_x", "token": "not this"})
	if got := r.State("token"); got != "ghs_x" {
		t.Errorf("State(token) = %q", got)
	}
	if got := r.State("missing"); got != "" {
		t.Errorf("State(missing) = %q", got)
	}
}
