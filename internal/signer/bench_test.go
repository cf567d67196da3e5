package signer

import (
	"crypto"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
)

// benchPKCS11 opens the SoftHSM2 signer; nil in builds without cgo.
var benchPKCS11 func(b *testing.B) crypto.Signer

// BenchmarkMint mints an installation token through each signer against the
// emulator (local-kms for AWS, the in-process Cloud KMS stand-in, SoftHSM2)
// and reports the signatures asked of the signer per token. "fresh-app"
// builds a new App per token, as each workflow step's process does: one
// signature per token. "one-app" mints with one App, as the credential
// helper and `serve` do: its JWT serves every token while it has more than a
// minute left, so signatures per token fall towards 0.
func BenchmarkMint(b *testing.B) {
	signers := []struct {
		name string
		open func(b *testing.B) crypto.Signer
	}{
		{"file", func(b *testing.B) crypto.Signer {
			s, err := Open(b.Context(), "file:"+writeFile(b, "app.pem", pkcs8PEM(b, appKey())))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"awskms", func(b *testing.B) crypto.Signer {
			l := startLocalKMS(b)
			s, err := Open(b.Context(), "awskms://alias/app-token", l.awsOpts(l.endpoint)...)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"gcpkms", func(b *testing.B) crypto.Signer {
			name := gcpPrefix + "app/cryptoKeyVersions/1"
			f := &fakeKMS{versions: map[string]gcpVersion{name: {key: appKey(), algorithm: kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_2048_SHA256}}}
			s, err := Open(b.Context(), "gcpkms://"+name, gcpOpts(serveFakeKMS(b, f))...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.(*Signer).Close() })
			return s
		}},
		{"pkcs11", benchPKCS11},
	}
	for _, sg := range signers {
		if sg.open == nil {
			continue
		}
		b.Run(sg.name, func(b *testing.B) {
			s := &countingSigner{Signer: sg.open(b)}
			srv := httptest.NewServer(emulator.NewWorld(appKey()))
			b.Cleanup(srv.Close)
			client := &http.Client{Timeout: 10 * time.Second}
			newApp := func() *appauth.App {
				a, err := appauth.New(emulator.WorldClientID, s, appauth.WithBaseURL(srv.URL), appauth.WithHTTPClient(client))
				if err != nil {
					b.Fatal(err)
				}
				return a
			}
			for _, mode := range []string{"fresh-app", "one-app"} {
				b.Run(mode, func(b *testing.B) {
					s.n.Store(0)
					a := newApp()
					tokens := 0
					for b.Loop() {
						if mode == "fresh-app" {
							a = newApp()
						}
						if _, err := a.Mint(b.Context(), appauth.Request{Owner: emulator.WorldOrg}); err != nil {
							b.Fatal(err)
						}
						tokens++
					}
					b.ReportMetric(float64(s.n.Load())/float64(tokens), "signs/token")
				})
			}
		})
	}
}
