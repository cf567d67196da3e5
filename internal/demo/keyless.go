package demo

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/sts"
)

// serveLoopback serves h on a new loopback port until the returned stop is
// called, and returns its URL.
func serveLoopback(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// RunKeyless tells, on w, what the action does with a token exchange and
// no key: it starts the emulator (GitHub and the runner's OIDC ID tokens)
// and the exchange (app-token serve's server, holding the App's key) on
// loopback, runs the main step with only sts-url and identity, uses the
// token, runs the post step and checks that the token is dead.
func RunKeyless(ctx context.Context, w io.Writer, client *http.Client, step Step) error {
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	emu := emulator.NewWorld(key)
	emu.PutFile(emulator.WorldOrg, "alpha", ".github/chainguard/ci.sts.yaml", []byte(emulator.WorldTrustPolicy))
	apiURL, stopEmu, err := serveLoopback(emu)
	if err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	defer stopEmu()
	stsURL, stopSTS, err := startExchange(key, apiURL, client)
	if err != nil {
		return err
	}
	defer stopSTS()

	dir, err := os.MkdirTemp("", "app-token-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	outputFile, stateFile, err := stepFiles(dir)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, `app-token demo --keyless: the action with no secret at all, offline.

The emulator serves GitHub's API, and the runner's OIDC ID tokens, at
%s. Its test App %q is installed on %q.
The token exchange (app-token serve) runs at %s and
alone holds the App's key. octo-org/alpha's trust policy
.github/chainguard/ci.sts.yaml says which jobs get what:

`, apiURL, emulator.WorldAppSlug, emulator.WorldOrg, stsURL)
	indent(w, emulator.WorldTrustPolicy, "  ")
	fmt.Fprintf(w, `
The workflow step being run, in a job of octo-org/alpha on main with
permissions: id-token: write (no secret, no client ID):

  - id: app-token
    uses: org/app-token-action@v1
    with:
      sts-url: %s
      identity: ci
      github-api-url: %s

`, stsURL, apiURL)

	env := stepEnv(outputFile, stateFile, map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   emulator.IDTokenRequestURL(apiURL),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": emu.AddJob(emulator.Job{}),
		"INPUT_STS-URL":                  stsURL,
		"INPUT_IDENTITY":                 "ci",
		"INPUT_GITHUB-API-URL":           apiURL,
	})

	fmt.Fprintln(w, "1. Main step (app-token action)")
	token, masked, err := mainStep(ctx, w, step, env, outputFile, "(the runner's\n   request token, the job's ID token, then the installation token):",
		[]string{"token", "installation-id", "expires-at"})
	if err != nil {
		return err
	}
	reqs := emu.Requests()
	fmt.Fprintf(w, "   Requests to the emulator: the step's for its ID token, then the exchange's\n   (discovery and keys, installation, a read-only token for the policy, the\n   policy, that token's revocation, the mint): %d\n", len(reqs))
	requests(w, reqs)

	if err := laterStep(ctx, w, client, apiURL, token); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n3. Post step (app-token action-post)")
	if _, err := postStep(ctx, w, client, step, emu, env, stateFile, apiURL, token, masked); err != nil {
		return err
	}
	fmt.Fprint(w, `
Done: no key or secret in the workflow; the job's own identity, checked
against the repository's trust policy, got a token with the policy's
permissions on the one repository, masked before any output, used, and
revoked.
Next: the README's "The token exchange" section shows how to run
'app-token serve' and write trust policies.
`)
	return nil
}

// startExchange serves the token exchange for the emulator at apiURL on
// loopback, with the App's key; its logs are dropped.
func startExchange(key *rsa.PrivateKey, apiURL string, client *http.Client) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start the token exchange: %w", err)
	}
	url := "http://" + ln.Addr().String()
	srv, err := sts.New(sts.Config{
		ClientID: emulator.WorldClientID, Signer: key, APIURL: apiURL, URL: url,
		Issuers: []string{emulator.OIDCIssuer(apiURL)}, HTTPClient: client,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	return url, func() { cancel(); <-done }, nil
}
