//go:build !noschemacheck

package emulator

import (
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
