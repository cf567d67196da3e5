//go:build noschemacheck

package emulator

import "testing"

// TestUncheckedBuild runs in a build with the noschemacheck tag
// (TestReleaseBuildsLeaveOutTheSchemaCheck starts it): there the emulator
// says it does not check, and sends a broken answer as it is.
func TestUncheckedBuild(t *testing.T) {
	t.Parallel()
	emu, url := serve(t)
	if emu.SchemaChecked() {
		t.Fatal("SchemaChecked() = true in a build with the noschemacheck tag")
	}
	// A fault answering 200 with an error body breaks GET /app's schema.
	emu.Inject(Fault{Method: "GET", Path: "/app", Status: 200, Message: "not an app"})
	status, body := call(t, "GET", url+"/app", map[string]string{"Authorization": "Bearer " + signedJWT(t)}, "")
	if status != 200 || body["message"] != "not an app" || len(emu.Violations()) != 0 {
		t.Errorf("unchecked build: %d %v, violations %q", status, body, emu.Violations())
	}
}
