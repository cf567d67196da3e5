//go:build noschemacheck

package emulator

// A build with the noschemacheck tag (scripts/release-build.sh, the
// action's source build in launcher/launch.js) sends every answer
// unchecked and links no JSON Schema validator: santhosh-tekuri/jsonschema
// compiles its metaschemas in its package initialiser, about 4 ms of every
// start of app-token, the action's included, for a check that only the
// emulator needs. Tests, `go run . demo` and `go run . emulator` build
// without the tag and check (schemacheck.go).

// builtInCheck is nil: this build has no schema check.
var builtInCheck answerCheck
