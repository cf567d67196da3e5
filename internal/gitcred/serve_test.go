package gitcred

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/ghhost"
)

// serveConfig answers for github.com with app, counting key reads.
func serveConfig(t *testing.T, app *fakeApp) (*Config, *int) {
	t.Helper()
	var keyReads int
	return &Config{
		Host:  ghhost.Default(),
		AppID: "Iv23test",
		Key: func() ([]byte, error) {
			keyReads++
			return []byte("a key"), nil
		},
		NewApp:   func([]byte) (Minter, error) { return app, nil },
		CacheDir: filepath.Join(t.TempDir(), "cache"),
	}, &keyReads
}

func serve(t *testing.T, cfg *Config, op, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Serve(t.Context(), *cfg, op, strings.NewReader(in), &out)
	return out.String(), err
}

func TestServeGet(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{"octo-org": 101}}
	cfg, keyReads := serveConfig(t, app)
	out, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n")
	if err != nil || !strings.Contains(out, "username=x-access-token\npassword=ghs_101_1\n") {
		t.Fatalf("get = %q, %v", out, err)
	}
	// Cached now: the same answer, no mint.
	if again, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/beta.git\n\n"); err != nil || again != out || app.mints.Load() != 1 {
		t.Errorf("second get = %q, %v after %d mints", again, err, app.mints.Load())
	}
	// erase drops it; the next get mints again.
	if _, err := serve(t, cfg, "erase", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\nusername=x-access-token\npassword=ghs_101_1\n\n"); err != nil {
		t.Fatal(err)
	}
	if out, _ := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n"); !strings.Contains(out, "password=ghs_101_2\n") {
		t.Errorf("get after erase = %q", out)
	}
	// Not ours: no answer, no error, and the key is not even read.
	reads := *keyReads
	for _, in := range []string{"protocol=https\nhost=gitlab.com\npath=octo-org/alpha.git\n", "protocol=http\nhost=github.com\npath=octo-org/alpha.git\n", "protocol=https\nhost=github.com\n"} {
		if out, err := serve(t, cfg, "get", in); out != "" || err != nil {
			t.Errorf("get %q = %q, %v; want no answer", in, out, err)
		}
	}
	if *keyReads != reads {
		t.Error("a request Serve does not answer read the key")
	}
	if out, err := serve(t, cfg, "store", "protocol=https\nhost=github.com\npassword=x\n"); out != "" || err != nil {
		t.Errorf("store = %q, %v", out, err)
	}
}

func TestServeFailures(t *testing.T) {
	t.Parallel()
	app := &fakeApp{installs: map[string]int64{}}
	cfg, _ := serveConfig(t, app)
	_, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=lonely/x.git\n\n")
	if err == nil || !strings.Contains(err.Error(), "no installation token for lonely/x: the app is not installed on lonely") {
		t.Errorf("get for a missing installation = %v", err)
	}
	keyErr := errors.New("no private key: pass --private-key-file")
	cfg.Key = func() ([]byte, error) { return nil, keyErr }
	if _, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/x.git\n\n"); !errors.Is(err, keyErr) {
		t.Errorf("get without a key = %v, want the Key error as it is", err)
	}
	file := filepath.Join(t.TempDir(), "token.json")
	WriteTokenFile(file, TokenFile{Host: "github.com", Token: "ghs_old", ExpiresAt: time.Now().Add(-time.Minute)})
	tf := Config{TokenFile: file}
	if _, err := serve(t, &tf, "get", "protocol=https\nhost=github.com\npath=octo-org/x.git\n\n"); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("get with an expired token file = %v", err)
	}
	slow := Config{Host: ghhost.Default(), Timeout: time.Nanosecond, UserToken: func(ctx context.Context, _ string) (string, time.Time, error) {
		<-ctx.Done()
		return "", time.Time{}, ctx.Err()
	}}
	if _, err := serve(t, &slow, "get", "protocol=https\nhost=github.com\n\n"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a user token past the timeout = %v", err)
	}
}
