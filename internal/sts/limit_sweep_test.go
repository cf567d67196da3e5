package sts

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
)

// When the limiter holds maxBuckets subjects, a new subject sweeps the
// buckets that have refilled (those subjects are idle), and keeps those
// of subjects still limited.
func TestLimiterSweepsIdleSubjectsOnly(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	l := newLimiter(1, 2, func() time.Time { return now })
	l.allow("busy")
	for i := range maxBuckets - 1 {
		l.allow(fmt.Sprint(i))
	}
	now = now.Add(time.Hour) // every bucket refills
	if !l.allow("busy") || !l.allow("busy") || l.allow("busy") {
		t.Fatal("a burst of 2 was not 2")
	}
	l.allow("new") // the 10,001st subject
	if len(l.buckets) != 2 {
		t.Errorf("after the sweep %d buckets, want 2 (the limited subject and the new one)", len(l.buckets))
	}
	if l.allow("busy") {
		t.Error("the sweep forgot a subject that is still limited")
	}
}

// Concurrent exchanges that miss the same installation wait for one
// look-up and all get its answer.
func TestInstallCacheOneLookupForConcurrentMisses(t *testing.T) {
	t.Parallel()
	c := &installCache{ttl: time.Minute, now: time.Now}
	want := &appauth.Installation{ID: 7, Account: "octo-org"}
	var mu sync.Mutex
	lookups := 0
	started, release := make(chan struct{}), make(chan struct{})
	lookup := func() (*appauth.Installation, error) {
		mu.Lock()
		lookups++
		n := lookups
		mu.Unlock()
		if n == 1 {
			close(started)
			<-release
		}
		return want, nil
	}
	got := make(chan *appauth.Installation, 2)
	go func() { i, _ := c.get(t.Context(), "octo-org/alpha", lookup); got <- i }()
	<-started
	go func() { i, _ := c.get(t.Context(), "Octo-Org/Alpha", lookup); got <- i }()
	time.Sleep(50 * time.Millisecond) // let the second wait on the first
	close(release)
	for range 2 {
		if i := <-got; i != want {
			t.Errorf("a caller got %v, want the looked-up installation", i)
		}
	}
	if lookups != 1 {
		t.Errorf("%d look-ups, want 1", lookups)
	}
}
