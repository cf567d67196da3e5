package sts

import (
	"cmp"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/sts/policy"
)

// flights runs one fetch per key at a time: concurrent exchanges that miss
// the same cache entry wait for the first one's fetch instead of each
// asking GitHub.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
}

// do runs fetch for key unless one is running, in which case it waits for
// that one and returns its error.
func (f *flights) do(ctx context.Context, key string, fetch func() error) error {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	if fl := f.m[key]; fl != nil {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	fl.err = fetch()
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
	close(fl.done)
	return fl.err
}

// installCache keeps installation look-ups, by scope, for a TTL. Failures
// are not kept: an App just installed is found on the next exchange.
type installCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]installEntry
	flights
}

type installEntry struct {
	inst    *appauth.Installation
	expires time.Time
}

func (c *installCache) get(ctx context.Context, scope string, lookup func() (*appauth.Installation, error)) (*appauth.Installation, error) {
	key := strings.ToLower(scope)
	for {
		c.mu.Lock()
		e, ok := c.m[key]
		c.mu.Unlock()
		if ok && c.now().Before(e.expires) {
			return e.inst, nil
		}
		var inst *appauth.Installation
		ran := false
		err := c.do(ctx, key, func() error {
			ran = true
			var err error
			if inst, err = lookup(); err != nil {
				return err
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.m == nil {
				c.m = map[string]installEntry{}
			}
			c.m[key] = installEntry{inst: inst, expires: c.now().Add(c.ttl)}
			return nil
		})
		if err != nil || ran {
			return inst, err
		}
		// Another exchange fetched it: read what it stored.
	}
}

// policyCache keeps what reading a policy file gave, by file, for a TTL;
// after it, the file is read again with If-None-Match, and an unchanged
// one (304) is kept for another TTL without parsing it again. A missing or
// invalid policy is kept too, so that a bad file does not cost GitHub a
// read per exchange; a policy fixed on GitHub is seen within the TTL.
type policyCache struct {
	ttl time.Duration
	now func() time.Time
	// max bounds the entries: identities are the caller's choice, and a
	// missing policy is kept too (default maxPolicies).
	max int

	mu sync.Mutex
	m  map[string]*policyEntry
	flights
}

type policyEntry struct {
	tp      *policy.TrustPolicy
	err     error // *policy.Error, or errNoPolicy
	etag    string
	expires time.Time
}

func (c *policyCache) entry(key string) *policyEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *policyCache) put(key string, e *policyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*policyEntry{}
	}
	now := c.now()
	if _, ok := c.m[key]; !ok && len(c.m) >= cmp.Or(c.max, maxPolicies) {
		// Full: drop the stale entries, then any, to make room.
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < cmp.Or(c.max, maxPolicies) {
				break
			}
			delete(c.m, k)
		}
	}
	e.expires = now.Add(c.ttl)
	c.m[key] = e
}

// maxPolicies is the policy cache's default bound.
const maxPolicies = 10_000
