package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLauncherNodeSuite runs the launcher's own tests (launcher/*.test.js)
// with node --test, so that the README's one test command covers them. The
// files are listed rather than the folder given: "node --test DIR" works
// only up to Node 20.
func TestLauncherNodeSuite(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the launcher is JavaScript and its tests need node (20 or later)")
	}
	files, err := filepath.Glob(filepath.Join("launcher", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no launcher tests found (%v)", err)
	}
	cmd := exec.CommandContext(t.Context(), node, append([]string{"--test"}, files...)...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test launcher: %v\n%s", err, out)
	}
	t.Logf("%s", lastLines(string(out), 10))
}

func lastLines(s string, n int) string {
	lines := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			if lines++; lines > n {
				return s[i+1:]
			}
		}
	}
	return s
}
