package gitcred

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/ghhost"
)

// fakeExchange hands out numbered tokens and records the scopes asked.
type fakeExchange struct {
	mu      sync.Mutex
	scopes  []string
	expires time.Time
	err     error
}

func (f *fakeExchange) exchange(_ context.Context, scope string) (*appauth.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.scopes = append(f.scopes, scope)
	return &appauth.Token{Value: appauth.Secret(fmt.Sprintf("ghs_x_%d", len(f.scopes))), ExpiresAt: f.expires}, nil
}

func (f *fakeExchange) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.scopes...)
}

func exchangeConfig(t *testing.T, f *fakeExchange, secret string, now func() time.Time) *Config {
	return &Config{
		Host: ghhost.Default(), Exchange: f.exchange, ExchangeName: "https://sts.example ci",
		ExchangeSecret: func() ([]byte, error) { return []byte(secret), nil },
		Key:            func() ([]byte, error) { t.Error("the exchange path read a key"); return nil, errors.New("no key") },
		CacheDir:       filepath.Join(t.TempDir(), "cache"), Now: now,
	}
}

const askAlpha = "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n"

func TestServeExchangeCachesPerScope(t *testing.T) {
	t.Parallel()
	f := &fakeExchange{expires: time.Now().Add(time.Hour)}
	cfg := exchangeConfig(t, f, "job-1", nil)
	out, err := serve(t, cfg, "get", askAlpha)
	if err != nil || !strings.Contains(out, "username=x-access-token\npassword=ghs_x_1\n") {
		t.Fatalf("get = %q, %v", out, err)
	}
	if again, _ := serve(t, cfg, "get", askAlpha); again != out {
		t.Errorf("second get = %q, want the cached %q", again, out)
	}
	// Another repository is another scope (its repository policy).
	serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/beta.git\n\n")
	if got := f.asked(); len(got) != 2 || got[0] != "octo-org/alpha" || got[1] != "octo-org/beta" {
		t.Errorf("scopes asked %q", got)
	}
	// Another job's proof opens nothing of this job's.
	other := *cfg
	other.ExchangeSecret = func() ([]byte, error) { return []byte("job-2"), nil }
	if out, _ := serve(t, &other, "get", askAlpha); !strings.Contains(out, "password=ghs_x_3\n") {
		t.Errorf("another job's get = %q, want a fresh exchange", out)
	}
	// erase drops the token git says failed; the next get exchanges again.
	serve(t, &other, "erase", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=x-access-token\npassword=ghs_x_3\n\n")
	if out, _ := serve(t, &other, "get", askAlpha); !strings.Contains(out, "password=ghs_x_4\n") {
		t.Errorf("get after erase = %q", out)
	}
}

func TestServeExchangeOrganizationPolicy(t *testing.T) {
	t.Parallel()
	f := &fakeExchange{expires: time.Now().Add(time.Hour)}
	cfg := exchangeConfig(t, f, "job", nil)
	cfg.Owner = "octo-org"
	serve(t, cfg, "get", askAlpha)
	serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/beta.git\n\n")
	if got := f.asked(); len(got) != 1 || got[0] != "octo-org" {
		t.Errorf("scopes asked %q, want one organization scope", got)
	}
}

// An exchange that does not say when the token expires (octo-sts): the
// token is handed out for UnknownExpiryTTL, then exchanged again.
func TestServeExchangeUnknownExpiry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := &fakeExchange{}
	cfg := exchangeConfig(t, f, "job", clock)
	serve(t, cfg, "get", askAlpha)
	// Installation tokens live an hour: one without expires_at is handed
	// out for 50 minutes.
	mu.Lock()
	now = now.Add(50*time.Minute - time.Second)
	mu.Unlock()
	if out, _ := serve(t, cfg, "get", askAlpha); !strings.Contains(out, "password=ghs_x_1\n") {
		t.Errorf("get before 50 minutes = %q, want the cached token", out)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if out, _ := serve(t, cfg, "get", askAlpha); !strings.Contains(out, "password=ghs_x_2\n") {
		t.Errorf("get after 50 minutes = %q, want a fresh exchange", out)
	}
}

func TestServeExchangeFailure(t *testing.T) {
	t.Parallel()
	f := &fakeExchange{err: errors.New("refused (HTTP 403): no trust policy")}
	out, err := serve(t, exchangeConfig(t, f, "job", nil), "get", askAlpha)
	if out != "" || err == nil || !strings.Contains(err.Error(), "no token for octo-org/alpha from the token exchange: refused") {
		t.Errorf("get = %q, %v", out, err)
	}
}

// An exchange that does not answer within the get's timeout is reported
// as that, not as the context's own words.
func TestServeExchangeTimeout(t *testing.T) {
	t.Parallel()
	cfg := exchangeConfig(t, &fakeExchange{}, "job", nil)
	cfg.Timeout = 50 * time.Millisecond
	cfg.Exchange = func(ctx context.Context, _ string) (*appauth.Token, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("exchange: %w", ctx.Err())
	}
	_, err := serve(t, cfg, "get", askAlpha)
	if err == nil || !strings.Contains(err.Error(), "from the token exchange: no answer within 50ms") {
		t.Errorf("get = %v, want no answer within 50ms", err)
	}
	// A deadline of the exchange's own (its HTTP client's) while the get
	// still has time is the exchange's error, as it said it.
	cfg.Timeout = time.Minute
	cfg.Exchange = func(context.Context, string) (*appauth.Token, error) {
		return nil, fmt.Errorf("POST /sts/exchange: %w", context.DeadlineExceeded)
	}
	_, err = serve(t, cfg, "get", askAlpha)
	if err == nil || !strings.Contains(err.Error(), "POST /sts/exchange: context deadline exceeded") {
		t.Errorf("get = %v, want the exchange's own error", err)
	}
}

// A cache that cannot be opened is said once, as a note; a cache that
// opens and takes the token says nothing of the kind.
func TestServeExchangeCacheNotes(t *testing.T) {
	t.Parallel()
	var notes, debug []string
	cfg := exchangeConfig(t, &fakeExchange{expires: time.Now().Add(time.Hour)}, "job", nil)
	cfg.Notef = func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }
	cfg.Debugf = func(f string, a ...any) { debug = append(debug, fmt.Sprintf(f, a...)) }
	if _, err := serve(t, cfg, "get", askAlpha); err != nil {
		t.Fatal(err)
	}
	for _, l := range append(notes, debug...) {
		if strings.Contains(l, "not caching") || strings.Contains(l, "cannot write") {
			t.Errorf("a working cache said %q", l)
		}
	}
	broken := *cfg
	broken.ExchangeSecret = func() ([]byte, error) { return nil, errors.New("no ID token request token") }
	notes = nil
	if _, err := serve(t, &broken, "get", askAlpha); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "not caching tokens: no ID token request token") {
		t.Errorf("notes = %q, want one saying why tokens are not cached", notes)
	}
}

// erase waits for a get of the same scope that holds the cache's lock, and
// lets the lock go when done.
func TestEraseExchangedTakesAndReleasesTheLock(t *testing.T) {
	t.Parallel()
	cfg := exchangeConfig(t, &fakeExchange{expires: time.Now().Add(time.Hour)}, "job", nil)
	if _, err := serve(t, cfg, "get", askAlpha); err != nil {
		t.Fatal(err)
	}
	cache := cfg.exchangeCache(false)
	cs := cfg.exchangeCacheScope("octo-org/alpha")
	unlock, err := cache.Lock(t.Context(), cs.APIURL, cs.App, "octo-org/alpha", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(t, cfg, "erase", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=x-access-token\npassword=ghs_x_1\n\n")
	}()
	time.Sleep(200 * time.Millisecond)
	if _, ok := cache.Token(cs); !ok {
		t.Error("erase dropped the token while another process held the lock")
	}
	unlock()
	<-done
	if _, ok := cache.Token(cs); ok {
		t.Error("erase did not drop the token once the lock was free")
	}
	// erase let the lock go: it can be taken at once.
	unlock, err = cache.Lock(t.Context(), cs.APIURL, cs.App, "octo-org/alpha", 500*time.Millisecond)
	if err != nil {
		t.Fatalf("the lock after erase: %v", err)
	}
	unlock()
}
