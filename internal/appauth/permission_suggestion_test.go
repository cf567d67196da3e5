package appauth

import (
	"strings"
	"testing"
)

// A misspelt permission gets the nearest known name as a suggestion when it
// is at most 3 edits (insertions, deletions, substitutions) away, and none
// when it is further.
func TestPermissionSuggestionWithinThreeEdits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"contentx", "contents"},      // substitution at the end
		{"ontents", "contents"},       // deletion at the start
		{"contentswxy", "contents"},   // three insertions
		{"issu", "issues"},            // two deletions
		{"contentswxyz", ""},          // four edits
		{"zzzzzzzzzzzzzzzzzzzzz", ""}, // nothing near
	} {
		err := CheckPermission(tc.name, "read", "permission-x")
		if err == nil {
			t.Fatalf("%s accepted", tc.name)
		}
		msg := err.Error()
		if tc.want == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("%s: %v, want no suggestion", tc.name, msg)
		}
		if tc.want != "" && !strings.Contains(msg, `(did you mean "`+tc.want+`"?)`) {
			t.Errorf("%s: %v, want %q suggested", tc.name, msg, tc.want)
		}
	}
}
