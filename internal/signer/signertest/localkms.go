package signertest

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Where local-kms says its keys live.
const (
	KMSRegion  = "eu-west-2"
	KMSAccount = "111122223333"
)

// KMSKey is a key local-kms is seeded with: an RSA or ECDSA private key,
// with its key ID and usage (SIGN_VERIFY or ENCRYPT_DECRYPT).
type KMSKey struct {
	ID, Usage string
	Key       crypto.PrivateKey
}

// LocalKMS is one running local-kms (github.com/nsmithuk/local-kms): it
// answers the real AWS SDK at Endpoint, and signs with its seeded keys as
// AWS KMS signs with imported key material.
type LocalKMS struct {
	Endpoint string
}

// StartLocalKMS starts local-kms seeded through KMS_SEED_PATH with keys and
// aliases (alias/NAME -> key ID) on a free loopback port, and stops it when
// tb ends.
func StartLocalKMS(tb testing.TB, keys []KMSKey, aliases map[string]string) *LocalKMS {
	tb.Helper()
	bin := GoTool(tb, "local-kms", "github.com/nsmithuk/local-kms")
	dir := tb.TempDir()
	entry := func(k KMSKey, pemText string) string {
		return fmt.Sprintf("      - Metadata:\n          KeyId: %s\n          KeyUsage: %s\n        PrivateKeyPem: |\n%s", k.ID, k.Usage, indent(pemText))
	}
	var rsaKeys, ecKeys strings.Builder
	for _, k := range keys {
		if ec, ok := k.Key.(*ecdsa.PrivateKey); ok {
			// local-kms reads ECC keys as SEC 1 ("EC PRIVATE KEY") PEMs.
			der, err := x509.MarshalECPrivateKey(ec)
			if err != nil {
				tb.Fatal(err)
			}
			ecKeys.WriteString(entry(k, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))))
			continue
		}
		rsaKeys.WriteString(entry(k, PKCS8PEM(tb, k.Key)))
	}
	seed := "Keys:\n  Asymmetric:\n"
	if rsaKeys.Len() > 0 {
		seed += "    Rsa:\n" + rsaKeys.String()
	}
	if ecKeys.Len() > 0 {
		seed += "    Ecc:\n" + ecKeys.String()
	}
	if len(aliases) > 0 {
		seed += "Aliases:\n"
		for name, id := range aliases {
			seed += "  - AliasName: " + name + "\n    TargetKeyId: " + id + "\n"
		}
	}
	seedPath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		tb.Fatal(err)
	}
	// local-kms has no setting for its listening address: it listens on
	// all interfaces, on the port the system picks for PORT=0, and says
	// which in its log. The tests only ever connect to 127.0.0.1.
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT=0", "KMS_SEED_PATH="+seedPath, "KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_REGION="+KMSRegion, "KMS_ACCOUNT_ID="+KMSAccount)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
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
		return &LocalKMS{Endpoint: "http://127.0.0.1:" + port}
	case <-time.After(30 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		tb.Fatalf("local-kms did not start within 30s:\n%s", log.String())
		return nil
	}
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("          " + l + "\n")
	}
	return b.String()
}
