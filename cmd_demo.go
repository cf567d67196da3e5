package main

import (
	"bytes"
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

func (c *cli) cmdDemo(ctx context.Context, args []string) error {
	fs := c.flags("demo", "", `Run the whole action offline: start the GitHub emulator in this process,
run the action's main step (mint a token, mask it, write outputs), use the
token as a later step would, run the post step (revoke it), and tell what
happened at each step. Needs no network and no GitHub account.`)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments")
	}
	return c.demo(ctx)
}

func (c *cli) demo(ctx context.Context) error {
	w := c.stdout
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
	log, err := c.demoStep(ctx, env, (*cli).cmdAction)
	masks := demoMasks(log)
	fmt.Fprintf(w, "   The step's log as the runner shows it: %d values masked first (each line\n   of the decoded private key, then the token), then what it did:\n", len(masks))
	demoIndent(w, demoRedact(log, masks), "     ")
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
	if !slices.Contains(masks, token) {
		return fmt.Errorf("the main step did not mask the token")
	}
	reqs := emu.Requests()
	fmt.Fprintf(w, "   API requests for the token: %d\n", len(reqs))
	demoRequests(w, reqs)

	// 2. A later step uses the token.
	fmt.Fprintln(w, "\n2. A later step uses the token (GET /installation/repositories)")
	status, names, err := c.demoRepositories(ctx, apiURL, token)
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
	log, err = c.demoStep(ctx, env, (*cli).cmdActionPost)
	demoIndent(w, demoRedact(log, append(masks, demoMasks(log)...)), "     ")
	if err != nil {
		return fmt.Errorf("the post step failed: %w", err)
	}
	demoRequests(w, emu.Requests()[before:])
	status, _, err = c.demoRepositories(ctx, apiURL, token)
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

// demoStep runs one action subcommand as the runner would, with env as the
// step's environment, and returns what it wrote to its log.
func (c *cli) demoStep(ctx context.Context, env map[string]string, cmd func(*cli, context.Context, []string) error) (string, error) {
	var log bytes.Buffer
	step := &cli{
		getenv: func(k string) string { return env[k] },
		environ: func() []string {
			out := make([]string, 0, len(env))
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
		stdin:  strings.NewReader(""),
		stdout: &log,
		stderr: &log,
		http:   c.http,
		now:    c.now,
		wait:   c.wait,
	}
	err := cmd(step, ctx, nil)
	if err != nil && err.Error() == "" {
		err = fmt.Errorf("see the ::error:: line above")
	}
	return log.String(), err
}

// demoMasks returns the values ::add-mask:: lines registered.
func demoMasks(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
			out = append(out, v)
		}
	}
	return out
}

// demoRedact hides masked values as the runner's log does.
func demoRedact(log string, masks []string) string {
	for _, m := range masks {
		log = strings.ReplaceAll(log, m, "***")
	}
	return log
}

// demoIndent prints text indented, folding runs of one repeated line.
func demoIndent(w io.Writer, text, prefix string) {
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

func demoRequests(w io.Writer, reqs []emulator.Request) {
	for _, r := range reqs {
		fmt.Fprintf(w, "     %-6s %-45s %d\n", r.Method, r.Path, r.Status)
	}
}

// demoRepositories lists what token can reach, as a later step would.
func (c *cli) demoRepositories(ctx context.Context, apiURL, token string) (int, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/installation/repositories", nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
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
