// Package signertest starts the real components the signer tests run
// against: local-kms for AWS KMS and SoftHSM2 for PKCS#11, each installed by
// .ci/install-tools.sh when missing, so that `go test ./...` needs nothing
// installed by hand. It is for tests only: every function takes a
// testing.TB and fails it when a component cannot be had.
package signertest

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the folder holding go.mod, above the test's working folder.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("signertest: no go.mod above the working folder")
		}
		dir = parent
	}
}

// installed holds one install-tools.sh run per tool and test binary.
var installed sync.Map // tool -> func() ([]byte, error)

// InstallTool runs .ci/install-tools.sh for tool, once per test binary. A
// failure to install fails the test.
func InstallTool(tb testing.TB, tool string) {
	tb.Helper()
	script := filepath.Join(repoRoot(tb), ".ci", "install-tools.sh")
	v, _ := installed.LoadOrStore(tool, sync.OnceValues(func() ([]byte, error) {
		return exec.Command("bash", script, tool).CombinedOutput()
	}))
	if out, err := v.(func() ([]byte, error))(); err != nil {
		tb.Fatalf("bash .ci/install-tools.sh %s: %v\n%s", tool, err, out)
	}
}

// pinnedVersion is the version .ci/install-tools.sh pins for module.
func pinnedVersion(tb testing.TB, module string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(tb), ".ci", "install-tools.sh"))
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(module) + `@(v\S+)`).FindSubmatch(b)
	if m == nil {
		tb.Fatalf(".ci/install-tools.sh pins no %s version", module)
	}
	return string(m[1])
}

// GoTool returns the path of the Go-built tool at the version
// install-tools.sh pins, installing it when it is missing.
func GoTool(tb testing.TB, name, module string) string {
	tb.Helper()
	want := pinnedVersion(tb, module)
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
	tb.Logf("%s %s is not installed: installing it with .ci/install-tools.sh", name, want)
	InstallTool(tb, name)
	p := look()
	if p == "" {
		tb.Fatalf("%s %s is still missing after .ci/install-tools.sh %s", name, want, name)
	}
	return p
}

// PKCS8PEM is key as a PKCS#8 PEM.
func PKCS8PEM(tb testing.TB, key crypto.PrivateKey) string {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
