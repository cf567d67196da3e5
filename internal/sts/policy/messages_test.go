package policy

import (
	"errors"
	"strings"
	"testing"
)

// A policy lives at .github/chainguard/NAME.sts.yaml, as octo-sts's does.
func TestPath(t *testing.T) {
	t.Parallel()
	if got := Path("release"); got != ".github/chainguard/release.sts.yaml" {
		t.Errorf("Path(release) = %q", got)
	}
}

// An Error reads file: field: problem: fix, each part only when it is set.
func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f", Field: "subject", Problem: "is empty", Fix: "set it"}, "f: subject: is empty: set it"},
		{Error{File: "f", Problem: "is not YAML"}, "f: is not YAML"},
		{Error{File: "f", Field: "issuer", Problem: "is empty"}, "f: issuer: is empty"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// A mismatch names the field and why.
func TestMismatchMessage(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, "issuer: https://token.actions.githubusercontent.com\nsubject: repo:octo-org/alpha:environment:prod\npermissions: {contents: read}\n", false)
	err := tp.Check(claims(), []string{"https://sts.example"})
	var m *Mismatch
	if !errors.As(err, &m) || !strings.HasPrefix(err.Error(), "subject: ") || m.Reason == "" || !strings.Contains(err.Error(), m.Reason) {
		t.Errorf("Check = %v", err)
	}
}

// A file of exactly MaxSize bytes is read; one byte more is refused for
// its size.
func TestMaxSizeBoundary(t *testing.T) {
	t.Parallel()
	src := "issuer: https://token.actions.githubusercontent.com\nsubject_pattern: '.*'\npermissions: {contents: read}\n#"
	at := src + strings.Repeat("x", MaxSize-len(src)) // a comment to the limit
	if _, err := Parse(file, []byte(at), false); err != nil {
		t.Errorf("a policy of exactly %d bytes: %v", MaxSize, err)
	}
	_, err := Parse(file, []byte(at+"x"), false)
	if err == nil || !strings.Contains(err.Error(), "over the 65536-byte limit") {
		t.Errorf("a policy of %d bytes: %v", MaxSize+1, err)
	}
}
