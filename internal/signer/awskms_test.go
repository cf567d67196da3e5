package signer

import (
	"crypto"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/org/app-token/internal/signer/signertest"
)

// The AWS tests run the real AWS SDK against local-kms
// (github.com/nsmithuk/local-kms), seeded through KMS_SEED_PATH with
// PKCS#8 keys: it signs with them as AWS KMS signs with imported material.

const (
	lkmsRegion  = signertest.KMSRegion
	lkmsAccount = signertest.KMSAccount
	appKeyID    = "6e0b1c8a-0000-4000-8000-000000000001"
	ecKeyID     = "6e0b1c8a-0000-4000-8000-000000000002"
	cryptKeyID  = "6e0b1c8a-0000-4000-8000-000000000003"
	doomedKeyID = "6e0b1c8a-0000-4000-8000-000000000004"
	// Credentials the SDK signs requests with; local-kms does not check
	// them, and no error may show the secret.
	awsAccessKey = "AKIDAPPTOKENTEST"
	awsSecret    = "s3cr3t-aws-key-never-shown-0123456789"
)

// localKMS is one local-kms process (signertest), counting requests.
type localKMS struct {
	endpoint string
	mu       sync.Mutex
	targets  []string // X-Amz-Target of each request, in order
}

// startLocalKMS starts local-kms seeded with the App's key (SIGN_VERIFY, with
// an alias), an ECC key, an RSA ENCRYPT_DECRYPT key and a key the tests
// disable, and stops it when t ends.
func startLocalKMS(t testing.TB) *localKMS {
	t.Helper()
	l := signertest.StartLocalKMS(t, []signertest.KMSKey{
		{ID: appKeyID, Usage: "SIGN_VERIFY", Key: appKey()},
		{ID: cryptKeyID, Usage: "ENCRYPT_DECRYPT", Key: otherKey()},
		{ID: doomedKeyID, Usage: "SIGN_VERIFY", Key: otherKey()},
		{ID: ecKeyID, Usage: "SIGN_VERIFY", Key: ecKey()},
	}, map[string]string{"alias/app-token": appKeyID})
	return &localKMS{endpoint: l.Endpoint}
}

func (l *localKMS) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.targets = append(l.targets, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService."))
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (l *localKMS) count(op string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.targets {
		if t == op {
			n++
		}
	}
	return n
}

// awsOpts points the real SDK at endpoint with static credentials, through
// the SDK's own endpoint setting, counting requests in l.
func (l *localKMS) awsOpts(endpoint string) []Option {
	return []Option{
		WithGetenv(func(k string) string {
			return map[string]string{"AWS_REGION": lkmsRegion, "AWS_ENDPOINT_URL_KMS": endpoint}[k]
		}),
		WithAWSConfig(
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(awsAccessKey, awsSecret, "")),
		),
		WithAWSClientOptions(func(o *kms.Options) { o.HTTPClient = &http.Client{Transport: l} }),
		WithWait(noWait),
		WithTimeout(5 * time.Second),
	}
}

func TestAWSKMS(t *testing.T) {
	t.Parallel()
	l := startLocalKMS(t)
	ctx := t.Context()
	secrets := append(keyLines(pkcs8PEM(t, appKey())), awsSecret)
	arn := fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", lkmsRegion, lkmsAccount, appKeyID)

	t.Run("sign", func(t *testing.T) {
		for _, uri := range []string{"awskms://" + appKeyID, "awskms://alias/app-token", "awskms://" + arn, "awskms:///" + arn} {
			s, err := Open(ctx, uri, l.awsOpts(l.endpoint)...)
			if err != nil {
				t.Fatalf("Open(%q): %v", uri, err)
			}
			verifies(t, s, &appKey().PublicKey)
		}
	})

	t.Run("mint", func(t *testing.T) {
		s, err := Open(ctx, "awskms://alias/app-token", l.awsOpts(l.endpoint)...)
		if err != nil {
			t.Fatal(err)
		}
		before := l.count("Sign")
		mint(t, s, appKey())
		// One signature for the JWT that minted, one for the JWT mint
		// checks (a fresh one, from App.JWT).
		if n := l.count("Sign") - before; n != 2 {
			t.Errorf("%d Sign requests, want 2", n)
		}
	})

	t.Run("region from the ARN", func(t *testing.T) {
		// No AWS_REGION: the ARN's region is used.
		opts := append(l.awsOpts(l.endpoint), WithGetenv(func(k string) string {
			return map[string]string{"AWS_ENDPOINT_URL": l.endpoint}[k]
		}))
		s, err := Open(ctx, "awskms://"+arn, opts...)
		if err != nil {
			t.Fatal(err)
		}
		verifies(t, s, &appKey().PublicKey)
	})

	for _, tc := range []struct {
		name string
		uri  string
		kind Kind
	}{
		{"an ECC key", "awskms://" + ecKeyID, WrongKey},
		{"an ENCRYPT_DECRYPT key", "awskms://" + cryptKeyID, WrongKey},
		{"a missing key", "awskms://alias/no-such-key", NotFound},
		{"a missing key ID", "awskms://6e0b1c8a-0000-4000-8000-00000000dead", NotFound},
		{"no key", "awskms://", Invalid},
		{"a bad ARN", "awskms://arn:aws:s3:::bucket", Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.uri, l.awsOpts(l.endpoint)...)
			checkErr(t, err, tc.kind, tc.uri, secrets...)
		})
	}

	t.Run("refused signature", func(t *testing.T) {
		uri := "awskms://" + doomedKeyID
		s, err := Open(ctx, uri, l.awsOpts(l.endpoint)...)
		if err != nil {
			t.Fatal(err)
		}
		// The key is disabled after Open, as an administrator might.
		c := kms.New(kms.Options{Region: lkmsRegion, BaseEndpoint: aws.String(l.endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(awsAccessKey, awsSecret, ""),
			HTTPClient:  &http.Client{Transport: l}})
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(doomedKeyID)}); err != nil {
			t.Fatal(err)
		}
		before := l.count("Sign")
		_, err = s.Sign(nil, make([]byte, 32), crypto.SHA256)
		checkErr(t, err, Refused, uri, secrets...)
		if n := l.count("Sign") - before; n != 1 {
			t.Errorf("a refused Sign was sent %d times, want once (no retry)", n)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		uri := "awskms://alias/app-token"
		_, err = Open(ctx, uri, l.awsOpts(closed)...)
		e := checkErr(t, err, Unreachable, uri, secrets...)
		if !strings.Contains(e.Hint, "AWS_ENDPOINT_URL_KMS") {
			t.Errorf("hint %q does not say to check the endpoint", e.Hint)
		}
	})

	t.Run("no region", func(t *testing.T) {
		opts := append(l.awsOpts(l.endpoint), WithGetenv(func(string) string { return "" }), WithAWSConfig(config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil)))
		_, err := Open(ctx, "awskms://alias/app-token", opts...)
		e := checkErr(t, err, Invalid, "awskms://alias/app-token", secrets...)
		if !strings.Contains(e.Hint, "AWS_REGION") {
			t.Errorf("hint %q does not mention AWS_REGION", e.Hint)
		}
	})
}
