// Package demo is app-token's offline tour: it runs the whole action
// against the emulator in-process (Run), and serves the emulator for dry
// runs with the files a workflow or act needs (Emulator). It writes its
// account to the writer it is given, and reads no environment.
package demo

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/emulator"
)

// Step runs one step of the action (the main step, or with post the post
// step) as the runner would, with env as the step's whole environment, and
// returns what it wrote to its log.
type Step func(ctx context.Context, env map[string]string, post bool) (log string, err error)

// Run tells, on w, what the action does at each step: it starts the
// emulator on loopback, runs the main step with step, uses the token as a
// later step would (through client), runs the post step and checks that the
// token is dead. It fails when a step fails or the token outlives the post
// step.
func Run(ctx context.Context, w io.Writer, client *http.Client, step Step) error {
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	emu := emulator.NewWorld(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	apiURL := "http://" + ln.Addr().String()

	dir, err := os.MkdirTemp("", "app-token-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	outputFile, stateFile := filepath.Join(dir, "output"), filepath.Join(dir, "state")
	for _, f := range []string{outputFile, stateFile} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			return err
		}
	}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	fmt.Fprintf(w, `app-token demo: the whole action, offline, against the built-in GitHub emulator.

The emulator serves GitHub's API at %s. Its test App %q (client ID
%s) is installed on the organization %q (repositories alpha,
beta and gamma) with contents, issues and pull_requests: write.

The workflow step being run:

  - id: app-token
    uses: org/app-token-action@v1
    with:
      client-id: %s
      private-key: ${{ secrets.APP_PRIVATE_KEY }}   # a generated test key, base64-encoded
      owner: %s
      repositories: alpha, beta
      permission-contents: read
      permission-pull-requests: write
      github-api-url: %s

`, apiURL, emulator.WorldAppSlug, emulator.WorldClientID, emulator.WorldOrg, emulator.WorldClientID, emulator.WorldOrg, apiURL)

	env := map[string]string{
		"GITHUB_ACTIONS":                 "true",
		"GITHUB_REPOSITORY":              emulator.WorldOrg + "/alpha",
		"GITHUB_REPOSITORY_OWNER":        emulator.WorldOrg,
		"GITHUB_SERVER_URL":              "https://github.com",
		"GITHUB_OUTPUT":                  outputFile,
		"GITHUB_STATE":                   stateFile,
		"INPUT_CLIENT-ID":                emulator.WorldClientID,
		"INPUT_PRIVATE-KEY":              base64.StdEncoding.EncodeToString(pemText),
		"INPUT_OWNER":                    emulator.WorldOrg,
		"INPUT_REPOSITORIES":             "alpha, beta",
		"INPUT_PERMISSION-CONTENTS":      "read",
		"INPUT_PERMISSION-PULL-REQUESTS": "write",
		"INPUT_GITHUB-API-URL":           apiURL,
		"INPUT_SKIP-TOKEN-REVOKE":        "false",
	}

	// 1. The main step.
	fmt.Fprintln(w, "1. Main step (app-token action)")
	log, err := step(ctx, env, false)
	masked := masks(log)
	fmt.Fprintf(w, "   The step's log as the runner shows it: %d values masked first (each line\n   of the decoded private key, then the token), then what it did:\n", len(masked))
	indent(w, redact(log, masked), "     ")
	if err != nil {
		return fmt.Errorf("the main step failed: %w", err)
	}
	outData, _ := os.ReadFile(outputFile)
	outputs := actionenv.ReadFileCommands(string(outData))
	token := outputs["token"]
	fmt.Fprintln(w, "   Outputs (steps.app-token.outputs.*):")
	for _, name := range []string{"token", "installation-id", "app-slug", "expires-at"} {
		v := outputs[name]
		if name == "token" {
			v = fmt.Sprintf("*** (masked; %d characters, never printed)", len(token))
		}
		fmt.Fprintf(w, "     %-16s %s\n", name, v)
	}
	if !slices.Contains(masked, token) {
		return fmt.Errorf("the main step did not mask the token")
	}
	reqs := emu.Requests()
	fmt.Fprintf(w, "   API requests for the token: %d\n", len(reqs))
	requests(w, reqs)

	// 2. A later step uses the token.
	fmt.Fprintln(w, "\n2. A later step uses the token (GET /installation/repositories)")
	status, names, err := repositories(ctx, client, apiURL, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "     %d: the token reaches %s\n", status, strings.Join(names, ", "))

	// 3. The post step.
	fmt.Fprintln(w, "\n3. Post step (app-token action-post)")
	stateData, _ := os.ReadFile(stateFile)
	for k, v := range actionenv.ReadFileCommands(string(stateData)) {
		env["STATE_"+k] = v
	}
	before := len(emu.Requests())
	log, err = step(ctx, env, true)
	indent(w, redact(log, append(masked, masks(log)...)), "     ")
	if err != nil {
		return fmt.Errorf("the post step failed: %w", err)
	}
	requests(w, emu.Requests()[before:])
	status, _, err = repositories(ctx, client, apiURL, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "     Afterwards the token is refused: GET /installation/repositories answers %d.\n", status)
	if status != http.StatusUnauthorized {
		return fmt.Errorf("the token still works after the post step")
	}

	fmt.Fprintf(w, `
Done: one token, narrowed to 2 repositories and 2 permissions, masked before
any output, used, and revoked: %d API requests of app-token's own, all to the
emulator.
Next: 'app-token emulator' serves the same emulator for dry runs with act;
the README shows how to use the action for real.
`, len(emu.Requests())-2)
	return nil
}

// masks returns the values ::add-mask:: lines registered.
func masks(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
			out = append(out, v)
		}
	}
	return out
}

// redact hides masked values as the runner's log does.
func redact(log string, masks []string) string {
	for _, m := range masks {
		log = strings.ReplaceAll(log, m, "***")
	}
	return log
}

// indent prints text indented, folding runs of one repeated line.
func indent(w io.Writer, text, prefix string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		if n := j - i; n > 1 {
			fmt.Fprintf(w, "%s%s   (%d times)\n", prefix, lines[i], n)
		} else {
			fmt.Fprintln(w, prefix+lines[i])
		}
		i = j
	}
}

// requests lists the emulator's requests.
func requests(w io.Writer, reqs []emulator.Request) {
	for _, r := range reqs {
		fmt.Fprintf(w, "     %-6s %-45s %d\n", r.Method, r.Path, r.Status)
	}
}

// repositories lists what token can reach, as a later step would.
func repositories(ctx context.Context, client *http.Client, apiURL, token string) (int, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/installation/repositories", nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Repositories []struct {
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	var names []string
	for _, r := range body.Repositories {
		names = append(names, r.FullName)
	}
	return resp.StatusCode, names, nil
}
