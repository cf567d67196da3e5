package oauth

import (
	"strconv"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// An access token lifetime beyond a year counts as a year, whether the
// device flow's parser or x/oauth2 read it, and never overflows into a
// time in the past.
func TestLongLifetimesCountAsAYear(t *testing.T) {
	t.Parallel()
	issued := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	year := issued.Add(maxSeconds * time.Second)
	for _, n := range []int64{maxSeconds + 1, 2 * maxSeconds, 1e12, 1 << 62} {
		tok := fromOAuth2((&oauth2.Token{AccessToken: "a", ExpiresIn: n}).WithExtra(map[string]any{"expires_in": float64(n)}), issued)
		if !tok.ExpiresAt.Equal(year) {
			t.Errorf("expires_in %d via x/oauth2: ExpiresAt = %v, want a year after %v", n, tok.ExpiresAt, issued)
		}
		w, err := parseResponse("application/json", []byte(`{"access_token":"a","expires_in":`+strconv.FormatInt(n, 10)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := w.token(issued).ExpiresAt; !got.Equal(year) {
			t.Errorf("expires_in %d via the device flow: ExpiresAt = %v, want a year after %v", n, got, issued)
		}
	}
}
