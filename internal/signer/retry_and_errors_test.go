package signer

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Open's defaults: a transient failure is retried twice (three attempts),
// waiting 200 ms, then 400 ms.
func TestDefaultRetriesAndWaits(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits []time.Duration
	rec := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	}
	s, err := Open(t.Context(), "file:"+writeFile(t, "app.pem", pkcs8PEM(t, appKey())), WithWait(rec))
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{key: appKey(), errs: []error{errTransient, errTransient, errTransient}}
	s.(*Signer).b = b
	sum := sha256.Sum256([]byte("x"))
	_, err = s.Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Unreachable, "file:")
	if b.calls != 3 || !slices.Equal(waits, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}) {
		t.Errorf("%d attempts with waits %v; want 3 with 200ms, 400ms", b.calls, waits)
	}
	if !strings.Contains(err.Error(), "(after 3 attempts)") {
		t.Errorf("error %q does not count the attempts", err)
	}
}

// With no retries, a transient failure is tried once and the error does not
// speak of attempts.
func TestNoRetries(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), "file:"+writeFile(t, "app.pem", pkcs8PEM(t, appKey())), WithRetries(0), WithWait(noWait))
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{key: appKey(), errs: []error{errTransient}}
	s.(*Signer).b = b
	sum := sha256.Sum256([]byte("x"))
	_, err = s.Sign(nil, sum[:], crypto.SHA256)
	checkErr(t, err, Unreachable, "file:")
	if b.calls != 1 || strings.Contains(err.Error(), "attempts") {
		t.Errorf("%d attempts, error %q; want 1, without a count", b.calls, err)
	}
}

// An Error reads `OP signer "URI": KIND[: ERR][ (HINT)]`.
func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{URI: "file:/k.pem", Op: "open", Kind: NotFound, Hint: "check the path", Err: errors.New("no such file")}, `open signer "file:/k.pem": no such key: no such file (check the path)`},
		{Error{URI: "file:/k.pem", Op: "sign", Kind: Failed, Err: errors.New("boom")}, `sign signer "file:/k.pem": failed: boom`},
		{Error{URI: "x", Op: "open", Kind: Invalid}, `open signer "x": invalid signer URI`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// The zero Kind is none of the kinds: an Error always says which it is.
func TestKindZeroIsNoKind(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range []Kind{Invalid, Unreachable, NotFound, Refused, WrongKey, Failed} {
		if k == 0 {
			t.Errorf("%v is the zero Kind", k)
		}
		if seen[k.String()] {
			t.Errorf("two kinds are called %q", k)
		}
		seen[k.String()] = true
	}
}
