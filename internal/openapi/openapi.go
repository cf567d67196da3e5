// Package openapi holds app-token's trimmed copy of GitHub's REST
// description (npm @octokit/openapi; version and source are in each file):
// the permissions an installation token can be asked for, with the levels
// each allows, and the response schemas of the endpoints the emulator
// serves. The CLI's permission validation, the action's permission-* inputs
// and the emulator's permission table are all generated from it, so they
// cannot drift apart or from GitHub.
//
// Regenerate with scripts/regen-openapi.sh; never edit the JSON by hand.
package openapi

import (
	_ "embed"
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

//go:embed app-permissions.json
var permissionsJSON []byte

// ResponsesJSON is a JSON Schema (2020-12) document: "operations" maps
// "METHOD /path" (as the description spells the path) to each status's
// response schema (null: no JSON body), and "$defs" holds the component
// schemas they use.
//
//go:embed responses.json
var ResponsesJSON []byte

type permissionsFile struct {
	Source      string              `json:"source"`
	Version     string              `json:"version"`
	Permissions map[string][]string `json:"permissions"`
}

var parsed = sync.OnceValue(func() permissionsFile {
	var f permissionsFile
	if err := json.Unmarshal(permissionsJSON, &f); err != nil {
		panic("openapi: app-permissions.json: " + err.Error()) // embedded at build time: a test covers it
	}
	return f
})

// Extras are permissions that actions/create-github-app-token (v3.1.1's
// action.yml) still offers as inputs although GitHub's description no
// longer lists them: team discussions were retired, but a workflow that
// sets permission-team-discussions must keep working with a drop-in.
var Extras = map[string][]string{
	"team_discussions": {"read", "write"},
}

// Version is the @octokit/openapi version the permissions were taken from.
func Version() string { return parsed().Version }

// Source says where the permissions were taken from.
func Source() string { return parsed().Source }

// Described returns GitHub's description's permissions (name: levels),
// without the Extras. The caller may not modify it.
func Described() map[string][]string { return parsed().Permissions }

// Permissions returns every permission an installation token can be asked
// for, GitHub's described ones and the Extras, with the levels each allows.
var Permissions = sync.OnceValue(func() map[string][]string {
	all := maps.Clone(Described())
	maps.Copy(all, Extras)
	return all
})

// Names returns the names of Permissions, sorted.
var Names = sync.OnceValue(func() []string {
	return slices.Sorted(maps.Keys(Permissions()))
})
