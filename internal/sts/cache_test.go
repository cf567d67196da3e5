package sts

import (
	"fmt"
	"testing"
	"time"
)

func TestPolicyCacheIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1e9, 0)
	c := &policyCache{ttl: time.Minute, now: func() time.Time { return now }, max: 3}
	for i := range 10 {
		c.put(fmt.Sprint(i), &policyEntry{err: errNoPolicy})
		if len(c.m) > 3 {
			t.Fatalf("after %d puts the cache holds %d entries, over its bound of 3", i+1, len(c.m))
		}
	}
	if c.entry("9") == nil {
		t.Error("the newest entry was dropped")
	}
	// A refreshed key takes no room.
	c.put("9", &policyEntry{err: errNoPolicy})
	if len(c.m) != 3 {
		t.Errorf("refreshing a key changed the size to %d", len(c.m))
	}
}
