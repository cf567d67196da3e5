package signer

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// installTools runs .ci/install-tools.sh for tool, once per test binary, so
// that `go test ./...` needs nothing installed by hand (as act_e2e_test.go
// does for act). A failure to install fails the test.
var installed sync.Map // tool -> *sync.Once result

func installTool(t testing.TB, tool string) {
	t.Helper()
	v, _ := installed.LoadOrStore(tool, sync.OnceValues(func() ([]byte, error) {
		return exec.Command("bash", filepath.Join("..", "..", ".ci", "install-tools.sh"), tool).CombinedOutput()
	}))
	if out, err := v.(func() ([]byte, error))(); err != nil {
		t.Fatalf("bash .ci/install-tools.sh %s: %v\n%s", tool, err, out)
	}
}

// pinnedVersion is the version .ci/install-tools.sh pins for module.
func pinnedVersion(t testing.TB, module string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".ci", "install-tools.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(module) + `@(v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf(".ci/install-tools.sh pins no %s version", module)
	}
	return string(m[1])
}

// goTool returns the path of the Go-built tool at the version
// install-tools.sh pins, installing it when it is missing.
func goTool(t testing.TB, name, module string) string {
	t.Helper()
	want := pinnedVersion(t, module)
	look := func() string {
		var candidates []string
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
		if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
			// One line each; an unset GOBIN is an empty first line, so
			// only the trailing newline may be trimmed.
			lines := strings.Split(strings.TrimRight(string(out), "\r\n"), "\n")
			if lines[0] != "" {
				candidates = append(candidates, filepath.Join(lines[0], name))
			}
			if len(lines) > 1 && lines[1] != "" {
				candidates = append(candidates, filepath.Join(strings.Split(lines[1], string(os.PathListSeparator))[0], "bin", name))
			}
		}
		for _, c := range candidates {
			out, err := exec.Command("go", "version", "-m", c).Output()
			if err == nil && regexp.MustCompile(`(?m)^\s+mod\s+`+regexp.QuoteMeta(module)+`\s+`+regexp.QuoteMeta(want)+`\s`).Match(out) {
				return c
			}
		}
		return ""
	}
	if p := look(); p != "" {
		return p
	}
	t.Logf("%s %s is not installed: installing it with .ci/install-tools.sh", name, want)
	installTool(t, name)
	p := look()
	if p == "" {
		t.Fatalf("%s %s is still missing after .ci/install-tools.sh %s", name, want, name)
	}
	return p
}
