package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The golden files are rewritten with go test -run Golden -update (the
// flag is declared in action_yml_test.go). Review the diff: a golden file
// changes only when the output is meant to.

// volatile are what changes from run to run, with what replaces it.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(127\.0\.0\.1|localhost)([:_])\d+`), "$1${2}PORT"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "TIME"},
	{regexp.MustCompile(`gh[sup]_[A-Za-z0-9_]{8,}`), "TOKEN"},
}

// golden compares got with testdata/name.golden after replacing the
// volatile parts (and each of paths with $DIR).
func golden(t *testing.T, name, got string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		got = strings.ReplaceAll(got, p, "$DIR")
	}
	for _, v := range volatile {
		got = v.re.ReplaceAllString(got, v.with)
	}
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if want := string(b); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s differs at line %d:\n got: %q\nwant: %q\n(go test -run %s -update rewrites it; review the diff)", file, i+1, g, w, t.Name())
				return
			}
		}
	}
}

func TestGoldenHelp(t *testing.T) {
	t.Parallel()
	out, _, err := runEnv(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "help", out)
	for _, cmd := range commands() {
		_, stderr, err := runEnv(t, nil, cmd.name, "-h")
		if err != nil {
			t.Errorf("%s -h: %v", cmd.name, err)
		}
		golden(t, "help-"+cmd.name, stderr)
	}
}

func TestGoldenAppCommands(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	env := cliEnv(t, w)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"installations", []string{"installations"}},
		{"installations-json", []string{"installations", "--json"}},
		{"token-json", []string{"token", "--owner", "octo-org", "--repositories", "alpha,beta", "--permission", "contents=read", "--json"}},
	} {
		out, stderr, err := runEnv(t, env, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v (%s)", tc.name, err, stderr)
		}
		golden(t, tc.name, out)
	}
}

func TestGoldenStatus(t *testing.T) {
	t.Parallel()
	w := newLoginWorld(t)
	w.login(t)
	out, _, err := w.run(t, "status")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "status", out, w.dir)
}

func TestGoldenDemo(t *testing.T) {
	t.Parallel()
	out, stderr, err := runEnv(t, nil, "demo")
	if err != nil {
		t.Fatalf("demo: %v (%s)", err, stderr)
	}
	golden(t, "demo", out)
}
