package signer

import (
	"bufio"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// The AWS tests run the real AWS SDK against local-kms
// (github.com/nsmithuk/local-kms), seeded through KMS_SEED_PATH with
// PKCS#8 keys: it signs with them as AWS KMS signs with imported material.

const (
	lkmsRegion  = "eu-west-2"
	lkmsAccount = "111122223333"
	appKeyID    = "6e0b1c8a-0000-4000-8000-000000000001"
	ecKeyID     = "6e0b1c8a-0000-4000-8000-000000000002"
	cryptKeyID  = "6e0b1c8a-0000-4000-8000-000000000003"
	doomedKeyID = "6e0b1c8a-0000-4000-8000-000000000004"
	// Credentials the SDK signs requests with; local-kms does not check
	// them, and no error may show the secret.
	awsAccessKey = "AKIDAPPTOKENTEST"
	awsSecret    = "s3cr3t-aws-key-never-shown-0123456789"
)

// localKMS is one local-kms process, started on a free loopback port.
type localKMS struct {
	endpoint string
	mu       sync.Mutex
	targets  []string // X-Amz-Target of each request, in order
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("          " + l + "\n")
	}
	return b.String()
}

// startLocalKMS starts local-kms seeded with the App's key (SIGN_VERIFY, with
// an alias), an ECC key, an RSA ENCRYPT_DECRYPT key and a key the tests
// disable, and stops it when t ends.
func startLocalKMS(t testing.TB) *localKMS {
	t.Helper()
	bin := goTool(t, "local-kms", "github.com/nsmithuk/local-kms")
	dir := t.TempDir()
	rsaKey := func(id, usage string, k *rsa.PrivateKey) string {
		return fmt.Sprintf("      - Metadata:\n          KeyId: %s\n          KeyUsage: %s\n        PrivateKeyPem: |\n%s", id, usage, indent(pkcs8PEM(t, k)))
	}
	// local-kms reads ECC keys as SEC 1 ("EC PRIVATE KEY") PEMs.
	ecDER, err := x509.MarshalECPrivateKey(ecKey())
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))
	seed := "Keys:\n  Asymmetric:\n    Rsa:\n" +
		rsaKey(appKeyID, "SIGN_VERIFY", appKey()) +
		rsaKey(cryptKeyID, "ENCRYPT_DECRYPT", otherKey()) +
		rsaKey(doomedKeyID, "SIGN_VERIFY", otherKey()) +
		"    Ecc:\n" + fmt.Sprintf("      - Metadata:\n          KeyId: %s\n          KeyUsage: SIGN_VERIFY\n        PrivateKeyPem: |\n%s", ecKeyID, indent(ecPEM)) +
		"Aliases:\n  - AliasName: alias/app-token\n    TargetKeyId: " + appKeyID + "\n"
	seedPath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	// local-kms has no setting for its listening address: it listens on
	// all interfaces, on the port the system picks for PORT=0, and says
	// which in its log. The tests only ever connect to 127.0.0.1.
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT=0", "KMS_SEED_PATH="+seedPath, "KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_REGION="+lkmsRegion, "KMS_ACCOUNT_ID="+lkmsAccount)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		pw.Close()
	})
	started := regexp.MustCompile(`Local KMS started on [0-9.]*:(\d+)`)
	portc := make(chan string, 1)
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := started.FindStringSubmatch(sc.Text()); m != nil {
				portc <- m[1]
			}
		}
	}()
	select {
	case port := <-portc:
		return &localKMS{endpoint: "http://127.0.0.1:" + port}
	case <-time.After(30 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("local-kms did not start within 30s:\n%s", log.String())
		return nil
	}
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
