package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/safefile"
)

func (c *cli) cmdEmulator(ctx context.Context, args []string) error {
	var listen, dir, keyFile string
	fs := c.flags("emulator", "", `Serve the offline GitHub API emulator with a generated test App, for dry
runs with act and for trying app-token without GitHub. It serves the REST
API at / and at /api/v3/ (like GitHub Enterprise Server) and the OAuth
endpoints at /login/. It writes the test App's key and a secrets file for
act into --dir and prints what to put in a workflow. Stop it with Ctrl-C.`)
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "the `address` to listen on (port 0 picks a free one)")
	fs.StringVar(&dir, "dir", "", "the `folder` for the test App's key and act's secrets file (default: a new temporary folder)")
	fs.StringVar(&keyFile, "key-file", "", "use this test App key (PEM) instead of generating one")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	key, err := emulatorKey(keyFile)
	if err != nil {
		return err
	}
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

	fmt.Fprintf(c.stdout, `GitHub emulator listening on %[1]s (REST API also under %[1]s/api/v3)

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
		fmt.Fprintln(c.stderr, "emulator stopped")
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// emulatorKey loads the test App's key from file, or generates one.
func emulatorKey(file string) (*rsa.PrivateKey, error) {
	if file == "" {
		return emulator.GenerateKey()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	k, _, err := appauth.ParsePrivateKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	return k, nil
}
