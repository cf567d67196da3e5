package openapi

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestVendoredPermissions(t *testing.T) {
	t.Parallel()
	if Version() == "" || Source() == "" {
		t.Errorf("version %q, source %q: the file must say where it came from", Version(), Source())
	}
	d := Described()
	if len(d) < 50 {
		t.Errorf("only %d permissions described", len(d))
	}
	for name, levels := range Permissions() {
		if len(levels) == 0 {
			t.Errorf("%s allows no level", name)
		}
		for _, l := range levels {
			if !slices.Contains([]string{"read", "write", "admin"}, l) {
				t.Errorf("%s: level %q", name, l)
			}
		}
	}
	for name := range Extras {
		if _, ok := d[name]; ok {
			t.Errorf("%s is an extra but GitHub's description has it: drop it from Extras", name)
		}
	}
	if names := Names(); !slices.IsSorted(names) || len(names) != len(d)+len(Extras) {
		t.Errorf("Names: %d, sorted %v", len(names), slices.IsSorted(names))
	}
}

func TestVendoredResponses(t *testing.T) {
	t.Parallel()
	var doc struct {
		Version    string                                `json:"version"`
		Operations map[string]map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(ResponsesJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != Version() {
		t.Errorf("responses.json is from %s, app-permissions.json from %s: regenerate both", doc.Version, Version())
	}
	if _, ok := doc.Operations["POST /app/installations/{installation_id}/access_tokens"]["201"]; !ok {
		t.Error("no schema for the token answer")
	}
}
