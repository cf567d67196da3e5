package oauth

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/org/app-token/internal/emulator"
)

// sinceStart returns when each request arrived, counted from start.
func sinceStart(start time.Time, reqs []request) []time.Duration {
	out := make([]time.Duration, len(reqs))
	for i, r := range reqs {
		out[i] = r.at.Sub(start)
	}
	return out
}

// RFC 8628 §3.5: on slow_down "the interval MUST be increased by 5 seconds
// for this and all subsequent requests". A server need not announce the
// new interval (GitHub does, other servers and proxies may not): the client
// adds the 5 s itself, and again at every slow_down.
func TestSlowDownWithoutIntervalAddsFiveSeconds(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	s.on(tokenPath,
		answer{body: `{"error":"authorization_pending"}`},
		answer{body: `{"error":"slow_down"}`},
		answer{body: `{"error":"authorization_pending"}`},
		answer{body: `{"error":"slow_down","error_description":"Too many requests"}`},
		answer{body: `{"access_token":"ghu_scripted","token_type":"bearer"}`},
	)
	c := s.client(t, Config{})
	start := s.clock.Now()
	var told []time.Duration
	tok, err := c.DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: 5}, func(d time.Duration) { told = append(told, d) })
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "ghu_scripted" {
		t.Errorf("token = %q", tok.AccessToken)
	}
	if got := s.clock.Waits(); !slices.Equal(got, secs(5, 5, 10, 10, 15)) {
		t.Errorf("waits = %v, want 5 5, then 10 after the first slow_down, 15 after the second", got)
	}
	if got := sinceStart(start, s.requests(tokenPath)); !slices.Equal(got, secs(5, 10, 20, 30, 45)) {
		t.Errorf("polls at %v, want 5s 10s 20s 30s 45s", got)
	}
	if !slices.Equal(told, secs(10, 15)) {
		t.Errorf("onSlowDown heard %v, want 10s then 15s", told)
	}
}

// An announced interval shorter than the current one + 5 s does not slow
// the client down less than RFC 8628 §3.5 asks.
func TestSlowDownAnnouncingLessStillAddsFiveSeconds(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	s.on(tokenPath,
		answer{body: `{"error":"slow_down","interval":6}`},
		answer{body: `{"access_token":"ghu_scripted"}`},
	)
	c := s.client(t, Config{})
	if _, err := c.DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.clock.Waits(); !slices.Equal(got, secs(5, 10)) {
		t.Errorf("waits = %v, want 5 then 10", got)
	}
}

// The client waits the interval the device code announced before every
// poll, and 5 s when it announced none (RFC 8628 §3.2: "If no value is
// provided, clients MUST use 5 as the default").
func TestDeviceFlowWaitsTheAnnouncedInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		announce time.Duration // 0: the emulator's default
		want     int64         // da.Interval
		waits    []time.Duration
	}{
		{"7 s", 7 * time.Second, 7, secs(7, 7, 7)},
		{"1 s", time.Second, 1, secs(1, 1, 1)},
		{"default", 0, 5, secs(5, 5, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.em.SetOAuth(emulator.OAuthSettings{DeviceInterval: tc.announce})
			w.em.OnDevice(emulator.DeviceBehaviour{Pending: 2, Decision: emulator.DeviceApprove})
			c := w.client(t, "")
			da, err := c.DeviceCode(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if da.Interval != tc.want {
				t.Errorf("Interval = %d, want %d", da.Interval, tc.want)
			}
			if _, err := c.DeviceToken(t.Context(), da, nil); err != nil {
				t.Fatal(err)
			}
			if got := w.clock.Waits(); !slices.Equal(got, tc.waits) {
				t.Errorf("waits = %v, want %v", got, tc.waits)
			}
		})
	}
}

// A device code without an interval (or with 0 or less, as a caller may
// build one) is polled every 5 s, never in a busy loop.
func TestDeviceTokenWithoutIntervalPollsEveryFiveSeconds(t *testing.T) {
	t.Parallel()
	for _, interval := range []int64{0, -3} {
		s := newScripted(t)
		s.on(tokenPath,
			answer{body: `{"error":"authorization_pending"}`},
			answer{body: `{"access_token":"ghu_scripted"}`},
		)
		c := s.client(t, Config{})
		if _, err := c.DeviceToken(t.Context(), &oauth2.DeviceAuthResponse{DeviceCode: "dc", Interval: interval}, nil); err != nil {
			t.Fatal(err)
		}
		if got := s.clock.Waits(); !slices.Equal(got, secs(5, 5)) {
			t.Errorf("Interval %d: waits = %v, want 5 5", interval, got)
		}
	}
}

// The device code is dead from the instant its expires_in has passed: the
// client stops with expired_token instead of polling at or after that
// instant, and polls normally until then.
func TestDeviceFlowStopsAtTheExpiryInstant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expiresIn time.Duration
		polls     int
	}{
		{10 * time.Second, 1}, // polls at 5 s; at 10 s it has expired
		{11 * time.Second, 2}, // polls at 5 and 10 s; at 15 s it has expired
		{9 * time.Second, 1},
	} {
		w := newWorld(t)
		w.em.SetOAuth(emulator.OAuthSettings{DeviceExpiresIn: tc.expiresIn})
		c := w.client(t, "")
		start := w.clock.Now()
		da, err := c.DeviceCode(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !da.Expiry.Equal(start.Add(tc.expiresIn)) {
			t.Errorf("expires_in %v: Expiry = %v, want %v", tc.expiresIn, da.Expiry, start.Add(tc.expiresIn))
		}
		_, err = c.DeviceToken(t.Context(), da, nil)
		wantCode(t, err, CodeExpiredToken)
		if n := w.em.TokenRequests("urn:ietf:params:oauth:grant-type:device_code"); n != tc.polls {
			t.Errorf("expires_in %v: %d polls, want %d", tc.expiresIn, n, tc.polls)
		}
	}
}
