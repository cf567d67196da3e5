package appauth

import (
	"crypto"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// countingSigner counts signatures, as a KMS or HSM would bill them.
type countingSigner struct {
	crypto.Signer
	n atomic.Int32
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.Signer.Sign(r, digest, opts)
}

// A token costs one signature, not one per request: with a KMS or HSM key
// each signature is a remote call. The JWT is signed again once it has less
// than a minute left.
func TestOneSignaturePerJWTLifetime(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	clock := func() time.Time { return *now.Load() }
	_, srv := world(t, emulator.WithClock(clock)) // GitHub's clock is ours
	signer := &countingSigner{Signer: testKey()}
	a, err := New(emulator.WorldClientID, signer, WithBaseURL(srv.URL), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.Mint(t.Context(), Request{Owner: "octo-org"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := signer.n.Load(); n != 1 {
		t.Errorf("two tokens (four requests) took %d signatures, want 1", n)
	}
	// exp is iat + 10 min = now + 9 min: reused up to a minute before.
	later := start.Add(7*time.Minute + 59*time.Second)
	now.Store(&later)
	if _, err := a.InstallationForOwner(t.Context(), "octo-org"); err != nil {
		t.Fatal(err)
	}
	if n := signer.n.Load(); n != 1 {
		t.Errorf("%d signatures with over a minute left, want 1", n)
	}
	minuteLeft := later.Add(time.Second)
	now.Store(&minuteLeft)
	if _, err := a.InstallationForOwner(t.Context(), "octo-org"); err != nil {
		t.Fatal(err)
	}
	if n := signer.n.Load(); n != 2 {
		t.Errorf("%d signatures with a minute left, want 2", n)
	}
}
