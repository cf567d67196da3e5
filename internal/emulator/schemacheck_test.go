//go:build !noschemacheck

package emulator

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSchemaCheckReplacesABrokenAnswer(t *testing.T) {
	t.Parallel()
	emu, url := serve(t)
	if !emu.SchemaChecked() {
		t.Fatal("SchemaChecked() = false without WithoutSchemaCheck in a build without the noschemacheck tag")
	}
	// A fault answering 200 with an error body breaks GET /app's schema.
	emu.Inject(Fault{Method: "GET", Path: "/app", Status: 200, Message: "not an app"})
	status, body := call(t, "GET", url+"/app", map[string]string{"Authorization": "Bearer " + signedJWT(t)}, "")
	if status != 500 || !strings.Contains(body["message"].(string), "missing properties") {
		t.Errorf("broken answer sent as %d %v", status, body)
	}
	if v := emu.Violations(); len(v) != 1 || !strings.Contains(v[0], "GET /app") {
		t.Errorf("violations %q", v)
	}
	// Errors on statuses a description omits must still be GitHub's error body.
	emu.Inject(Fault{Path: "/app", Status: 503})
	if status, body := call(t, "GET", url+"/app", nil, ""); status != 503 || body["message"] == nil || body["documentation_url"] == nil {
		t.Errorf("fault: %d %v", status, body)
	}
	// Unchecked, the emulator sends what it is told to.
	emu2, url2 := serve(t, WithoutSchemaCheck())
	if emu2.SchemaChecked() {
		t.Error("SchemaChecked() = true with WithoutSchemaCheck")
	}
	emu2.Inject(Fault{Method: "GET", Path: "/app", Status: 200, Message: "not an app"})
	if status, _ := call(t, "GET", url2+"/app", nil, ""); status != 200 || len(emu2.Violations()) != 0 {
		t.Errorf("unchecked: %d, violations %q", status, emu2.Violations())
	}
}

const jsonschemaPkg = "github.com/santhosh-tekuri/jsonschema/v6"

// TestReleaseBuildsLeaveOutTheSchemaCheck holds the builds that ship (the
// release script, the launcher's source build and the exchange's container
// image) to the noschemacheck
// tag, and checks what the tag does: app-token built with it links no
// JSON Schema validator and its emulator sends answers unchecked
// (TestUncheckedBuild, run here in a build with the tag), while the
// default build, which tests, `go run . demo` and `go run . emulator`
// use, links the validator and checks.
func TestReleaseBuildsLeaveOutTheSchemaCheck(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	// -tags=a,b or -tags a,b, as a go build argument in either file.
	tagsFlag := regexp.MustCompile(`-tags[= ]([A-Za-z0-9_.,]+)`)
	for _, f := range []string{"scripts/release-build.sh", "launcher/launch.js", "deploy/Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		m := tagsFlag.FindSubmatch(b)
		if m == nil || !slices.Contains(strings.Split(string(m[1]), ","), "noschemacheck") {
			t.Errorf("%s builds app-token without -tags noschemacheck (found %q): the shipped binary would link the schema check", f, m)
		}
	}

	deps := func(args ...string) []string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "go", append(append([]string{"list", "-deps"}, args...), "github.com/org/app-token")...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", strings.Join(args, " "), err, exitStderr(err))
		}
		return strings.Fields(string(out))
	}
	if d := deps(); !slices.Contains(d, jsonschemaPkg) || !slices.Contains(d, "github.com/org/app-token/internal/emulator") {
		t.Errorf("the default build of app-token does not link %s and the emulator: go run . emulator would not check answers", jsonschemaPkg)
	}
	for _, p := range deps("-tags", "noschemacheck") {
		if strings.HasPrefix(p, jsonschemaPkg) {
			t.Errorf("app-token built with -tags noschemacheck links %s", p)
		}
	}

	cmd := exec.CommandContext(t.Context(), "go", "test", "-tags", "noschemacheck", "-count=1", "-v", "-run", "^TestUncheckedBuild$", ".")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUncheckedBuild") {
		t.Errorf("go test -tags noschemacheck -run TestUncheckedBuild: %v\n%s", err, out)
	}
}

func exitStderr(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
