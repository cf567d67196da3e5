package appauth

import (
	"testing"
	"time"
)

// Without WithHTTPClient, requests go through a client of its own with a
// 30 s timeout, never http.DefaultClient (which waits forever); transient
// failures are retried 3 times; requests go to api.github.com.
func TestDefaults(t *testing.T) {
	t.Parallel()
	a, err := New("Iv1.0123456789abcdef", testKey())
	if err != nil {
		t.Fatal(err)
	}
	if a.base.Timeout != 30*time.Second {
		t.Errorf("timeout = %v, want 30s", a.base.Timeout)
	}
	if a.retries != 3 {
		t.Errorf("retries = %d, want 3", a.retries)
	}
	if a.APIURL() != "https://api.github.com/" {
		t.Errorf("API URL = %q", a.APIURL())
	}
}
