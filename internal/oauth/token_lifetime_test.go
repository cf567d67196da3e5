package oauth

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The lifetimes of a token x/oauth2 got (web flow, refresh) are read from
// the raw answer, JSON numbers or form strings, and counted from when the
// request was sent on the client's clock; a lifetime that is missing, 0,
// negative or longer than a year is no lifetime.
func TestTokenLifetimesFromTheRawAnswer(t *testing.T) {
	t.Parallel()
	issued := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	const year = 365 * 24 * time.Hour
	for _, tc := range []struct {
		name             string
		extra            any
		expires, refresh time.Duration // 0: none
	}{
		{"JSON numbers", map[string]any{"expires_in": float64(28800), "refresh_token_expires_in": float64(15811200)}, 28800 * time.Second, 15811200 * time.Second},
		{"json.Number", map[string]any{"expires_in": json.Number("60"), "refresh_token_expires_in": json.Number("1")}, time.Minute, time.Second},
		{"int64", map[string]any{"expires_in": int64(1), "refresh_token_expires_in": int64(2)}, time.Second, 2 * time.Second},
		{"form strings", url.Values{"expires_in": {"28800"}, "refresh_token_expires_in": {"1"}}, 28800 * time.Second, time.Second},
		{"a year exactly", map[string]any{"expires_in": float64(365 * 24 * 3600), "refresh_token_expires_in": float64(365 * 24 * 3600)}, year, year},
		{"more than a year", map[string]any{"expires_in": float64(365*24*3600 + 1), "refresh_token_expires_in": float64(365*24*3600 + 1)}, 0, 0},
		{"zero", map[string]any{"expires_in": float64(0), "refresh_token_expires_in": float64(0)}, 0, 0},
		{"negative", map[string]any{"expires_in": float64(-5), "refresh_token_expires_in": "-5"}, 0, 0},
		{"missing", map[string]any{}, 0, 0},
		{"not a number", map[string]any{"expires_in": "soon", "refresh_token_expires_in": true}, 0, 0},
	} {
		tok := fromOAuth2((&oauth2.Token{AccessToken: "ghu_a", TokenType: "bearer", RefreshToken: "ghr_r"}).WithExtra(tc.extra), issued)
		if tok.AccessToken != "ghu_a" || tok.RefreshToken != "ghr_r" || tok.TokenType != "bearer" {
			t.Errorf("%s: token = %#v", tc.name, tok)
		}
		wantLifetimes(t, tc.name, tok, issued, tc.expires, tc.refresh)
	}
}

// The scope GitHub granted is kept, in JSON and form answers alike.
func TestTokenKeepsTheGrantedScope(t *testing.T) {
	t.Parallel()
	for _, extra := range []any{map[string]any{"scope": "repo,gist"}, url.Values{"scope": {"repo,gist"}}} {
		if tok := fromOAuth2((&oauth2.Token{AccessToken: "a"}).WithExtra(extra), time.Now()); tok.Scope != "repo,gist" {
			t.Errorf("%T: Scope = %q", extra, tok.Scope)
		}
	}
}

// wantLifetimes checks that tok expires expires after issued and its
// refresh token refresh after issued; 0 means no expiry.
func wantLifetimes(t *testing.T, what string, tok *Token, issued time.Time, expires, refresh time.Duration) {
	t.Helper()
	for _, x := range []struct {
		field string
		got   time.Time
		want  time.Duration
	}{{"ExpiresAt", tok.ExpiresAt, expires}, {"RefreshExpiresAt", tok.RefreshExpiresAt, refresh}} {
		if (x.want == 0 && !x.got.IsZero()) || (x.want != 0 && !x.got.Equal(issued.Add(x.want))) {
			t.Errorf("%s: %s = %v, want %v after %v", what, x.field, x.got, x.want, issued)
		}
	}
}
