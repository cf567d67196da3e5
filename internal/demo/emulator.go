package demo

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/safefile"
)

// Emulator serves the emulator's test world, with key as its App's key, on
// listen until ctx ends. It first writes into dir (a new temporary folder
// when empty) the App's key, a secrets file for act and an environment file
// for a shell, and tells on stdout what to put in a workflow.
func Emulator(ctx context.Context, key *rsa.PrivateKey, listen, dir string, stdout, stderr io.Writer) error {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "app-token-emulator-"); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	emu := emulator.NewWorld(key)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()

	pemText := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	keyPath := filepath.Join(dir, "emulator-app.pem")
	secretsPath := filepath.Join(dir, "act.secrets")
	envPath := filepath.Join(dir, "emulator.env")
	// act reads --secret-file as KEY=value lines: the PEM goes in base64,
	// which the action accepts as it is.
	secrets := fmt.Sprintf("APP_CLIENT_ID=%s\nAPP_PRIVATE_KEY=%s\n", emulator.WorldClientID, base64.StdEncoding.EncodeToString(pemText))
	env := fmt.Sprintf("GITHUB_API_URL=%s\nAPP_TOKEN_API_URL=%s\nAPP_TOKEN_CLIENT_ID=%s\nAPP_TOKEN_PRIVATE_KEY_FILE=%s\n", url, url, emulator.WorldClientID, keyPath)
	for path, data := range map[string]string{keyPath: string(pemText), secretsPath: secrets, envPath: env} {
		if err := safefile.WriteFile(path, []byte(data)); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, `GitHub emulator listening on %[1]s (REST API also under %[1]s/api/v3)

Test App %[2]q, client ID %[3]s
  installation %[4]d on organization %[5]s: alpha, beta, gamma (contents, issues, pull_requests: write)
  installation %[6]d on user %[7]s: hello-world (contents: read)
Its private key (a throwaway test key): %[8]s

In a workflow:
  - uses: org/app-token-action@v1
    with:
      client-id: ${{ secrets.APP_CLIENT_ID }}
      private-key: ${{ secrets.APP_PRIVATE_KEY }}
      owner: %[5]s
      github-api-url: ${{ vars.APP_TOKEN_API_URL }}

Dry run with act (no Docker), from a checkout of the action:
  act push -P ubuntu-latest=-self-hosted --local-repository org/app-token-action@v1=$PWD \
    --secret-file %[9]s --var APP_TOKEN_API_URL=%[1]s

From a shell:  set -a; . %[10]s; set +a; app-token token --owner %[5]s
`, url, emulator.WorldAppSlug, emulator.WorldClientID, emulator.WorldOrgInstID, emulator.WorldOrg,
		emulator.WorldUserInst, emulator.WorldUser, keyPath, secretsPath, envPath)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		fmt.Fprintln(stderr, "emulator stopped")
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
