package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

// BenchmarkTokenCommand runs `app-token token` in process, as one CLI call
// per token (a new App, a signer opened afresh), against the emulator, with
// the key in a file, behind --signer file: and in local-kms, and reports the
// KMS's Sign and GetPublicKey calls per token.
func BenchmarkTokenCommand(b *testing.B) {
	k := startKMSWorld(b)
	var signs, pubs atomic.Int64
	target, _ := url.Parse(k.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "TrentService.Sign":
			signs.Add(1)
		case "TrentService.GetPublicKey":
			pubs.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(counting.Close)
	srv := httptest.NewServer(emulator.NewWorld(testKey()))
	b.Cleanup(srv.Close)
	keyFile := filepath.Join(b.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, []byte(testKeyPEM()), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, setting, value string }{
		{"private-key-file", "APP_TOKEN_PRIVATE_KEY_FILE", keyFile},
		{"signer-file", "APP_TOKEN_SIGNER", "file:" + keyFile},
		{"signer-awskms", "APP_TOKEN_SIGNER", "awskms://alias/app-token"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env := map[string]string{"APP_TOKEN_CLIENT_ID": emulator.WorldClientID, "APP_TOKEN_API_URL": srv.URL, tc.setting: tc.value,
				"AWS_REGION": k.env["AWS_REGION"], "AWS_ENDPOINT_URL_KMS": counting.URL}
			signs.Store(0)
			pubs.Store(0)
			tokens := 0
			for b.Loop() {
				var out, errb bytes.Buffer
				c := newCLI(func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
				c.wait = func(context.Context, time.Duration) error { return nil }
				if err := c.run(b.Context(), []string{"token", "--owner", "octo-org"}); err != nil {
					b.Fatalf("token: %v (%s)", err, errb.String())
				}
				tokens++
			}
			if tc.name == "signer-awskms" {
				b.ReportMetric(float64(signs.Load())/float64(tokens), "signs/token")
				b.ReportMetric(float64(pubs.Load())/float64(tokens), "getpublickey/token")
			}
		})
	}
}
