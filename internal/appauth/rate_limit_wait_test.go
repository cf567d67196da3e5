package appauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// A rate limit GitHub lifts within a minute is waited out, the minute
// included; a longer one fails at once with when to retry.
func TestRateLimitWaitUpToAMinute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		retryAfter string
		wait       time.Duration // -1: no wait, a *RateLimitError
	}{
		{"0", 0},
		{"1", time.Second},
		{"60", time.Minute},
		{"61", -1},
	} {
		emu, srv := world(t)
		emu.Inject(emulator.Fault{Path: "/users/", Status: 429, Header: http.Header{"Retry-After": {tc.retryAfter}}})
		w := &waits{}
		now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		_, err := newApp(t, srv.URL, WithWait(w.wait), WithClock(func() time.Time { return now })).InstallationForOwner(t.Context(), emulator.WorldOrg)
		if tc.wait < 0 {
			var rl *RateLimitError
			if !errors.As(err, &rl) || len(w.d) != 0 || rl.In != 61*time.Second || !rl.Until.Equal(now.Add(61*time.Second)) {
				t.Errorf("Retry-After %s: %v, waits %v; want a RateLimitError in 61s and no wait", tc.retryAfter, err, w.d)
			}
			continue
		}
		if err != nil || len(w.d) != 1 || w.d[0] != tc.wait {
			t.Errorf("Retry-After %s: %v, waits %v; want one wait of %v", tc.retryAfter, err, w.d, tc.wait)
		}
	}
}

// A 429 is a secondary rate limit unless no requests remain; the error
// says which.
func TestRateLimitKinds(t *testing.T) {
	t.Parallel()
	reset := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	for _, tc := range []struct {
		status    int
		header    http.Header
		secondary bool
	}{
		{429, http.Header{"Retry-After": {"3600"}}, true},
		{429, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {reset}}, false},
		{403, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {reset}}, false},
	} {
		emu, srv := world(t)
		emu.Inject(emulator.Fault{Path: "/users/", Status: tc.status, Header: tc.header})
		_, err := newApp(t, srv.URL).InstallationForOwner(t.Context(), emulator.WorldOrg)
		var rl *RateLimitError
		if !errors.As(err, &rl) || rl.Secondary != tc.secondary {
			t.Errorf("%d %v: %v, want a RateLimitError, secondary %v", tc.status, tc.header, err, tc.secondary)
			continue
		}
		if kind := strings.HasPrefix(err.Error(), "GitHub's secondary rate limit is exhausted"); kind != tc.secondary {
			t.Errorf("%d %v: %q", tc.status, tc.header, err)
		}
	}
}

// A 403 with Retry-After is a secondary rate limit even when its message
// does not say so: it is waited out and retried. A plain 403 is not.
func TestForbiddenWithRetryAfterIsWaitedOut(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	emu.Inject(emulator.Fault{Path: "/users/", Status: 403, Message: "Forbidden", Header: http.Header{"Retry-After": {"2"}}})
	w := &waits{}
	if _, err := newApp(t, srv.URL, WithWait(w.wait)).InstallationForOwner(t.Context(), emulator.WorldOrg); err != nil || len(w.d) != 1 {
		t.Errorf("403 with Retry-After: %v, waits %v; want one wait", err, w.d)
	}
	emu.Inject(emulator.Fault{Path: "/users/", Status: 403, Message: "Forbidden"})
	w = &waits{}
	_, err := newApp(t, srv.URL, WithWait(w.wait)).InstallationForOwner(t.Context(), emulator.WorldOrg)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || len(w.d) != 0 {
		t.Errorf("plain 403: %v, waits %v; want the 403 and no wait", err, w.d)
	}
}

// x-ratelimit-reset is a time on GitHub's clock: the wait is counted from
// GitHub's Date, so a client whose clock is an hour ahead still waits the
// 30 s GitHub asked for, not nothing.
func TestRateLimitResetReadAgainstGitHubsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	github := now.Add(-time.Hour)
	emu, srv := world(t, emulator.WithClock(func() time.Time { return github }))
	emu.Inject(emulator.Fault{Path: "/users/", Status: 403, Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(github.Add(30 * time.Second).Unix())}}})
	w := &waits{}
	a := newApp(t, srv.URL, WithWait(w.wait), WithClock(func() time.Time { return now }))
	// The JWT is signed on our clock, an hour ahead: GitHub refuses its
	// times once and the client corrects; the rate limit comes first.
	_, _ = a.InstallationForOwner(t.Context(), emulator.WorldOrg)
	if len(w.d) == 0 || w.d[0] != 30*time.Second {
		t.Errorf("waits = %v, want 30s first", w.d)
	}
}
