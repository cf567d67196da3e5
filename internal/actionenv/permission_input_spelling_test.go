package actionenv

import (
	"strings"
	"testing"
)

// permission-pull_requests (with the API's underscore) is not the input
// permission-pull-requests: it must be refused, not silently ignored, or the
// token would carry every permission of the installation.
func TestPermissionInputWithUnderscoresIsRefused(t *testing.T) {
	t.Parallel()
	in, err := parse(t, step("INPUT_PERMISSION-PULL_REQUESTS", "read"))
	if err == nil || !strings.Contains(err.Error(), "permission-pull_requests") || !strings.Contains(err.Error(), "permission-pull-requests") {
		t.Errorf("ParseInputs = %+v, %v; want an error naming permission-pull_requests and saying permission-pull-requests", in, err)
	}
}
