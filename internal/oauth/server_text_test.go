package oauth

import (
	"strings"
	"testing"
)

// Text the server sends (error descriptions, logins, user codes) is printed
// to a terminal: clean turns every C0 and C1 control character into a space
// and keeps all other text, cut to 300 bytes (plus an ellipsis) on a rune
// boundary.
func TestServerTextIsSafeToPrint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode and € stay", "plain text, ünïcode and € stay"},
		{"a\x1b[31mred", "a [31mred"},
		{"a\x00b\x1fc\x7fd", "a b c d"},
		{"a\u0080b\u009fc", "a b c"},   // C1 controls
		{"a\u00a0b ~c", "a\u00a0b ~c"}, // no-break space and the last ASCII are text
		{"  \ttrimmed\r\n", "trimmed"},
		{strings.Repeat("x", 300), strings.Repeat("x", 300)},
		{strings.Repeat("x", 301), strings.Repeat("x", 300) + "…"},
		{strings.Repeat("x", 299) + "é", strings.Repeat("x", 299) + "…"}, // é's first byte is byte 300
	} {
		if got := clean(tc.in); got != tc.want {
			t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
