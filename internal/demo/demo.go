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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/org/app-token/internal/emulator"
)

// Step runs one step of the action (the main step, or with post the post
// step) as the runner would, with env as the step's whole environment, and
// returns what it wrote to its log.
type Step func(ctx context.Context, env map[string]string, post bool) (log string, err error)

// Run tells, on w, what the action does at each step: it starts the
// emulator on loopback, runs the main step with step, uses the token as a
// later step would (through client), runs the post step and checks that the
// token is dead. With git (nil skips it) a later step also clones and
// pushes with the token through app-token's credential helper. It fails when
// a step fails or the token outlives the post step.
func Run(ctx context.Context, w io.Writer, client *http.Client, step Step, git *Git) error {
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "app-token-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	emu := emulator.NewWorld(key, emulator.WithGit(filepath.Join(dir, "git")))
	apiURL, stopEmu, err := serveLoopback(emu)
	if err != nil {
		return fmt.Errorf("start the emulator: %w", err)
	}
	defer stopEmu()
	outputFile, stateFile, err := stepFiles(dir)
	if err != nil {
		return err
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
      permission-contents: write
      permission-pull-requests: write
      github-api-url: %s

`, apiURL, emulator.WorldAppSlug, emulator.WorldClientID, emulator.WorldOrg, emulator.WorldClientID, emulator.WorldOrg, apiURL)

	env := stepEnv(outputFile, stateFile, map[string]string{
		"INPUT_CLIENT-ID":                emulator.WorldClientID,
		"INPUT_PRIVATE-KEY":              base64.StdEncoding.EncodeToString(pemText),
		"INPUT_OWNER":                    emulator.WorldOrg,
		"INPUT_REPOSITORIES":             "alpha, beta",
		"INPUT_PERMISSION-CONTENTS":      "write",
		"INPUT_PERMISSION-PULL-REQUESTS": "write",
		"INPUT_GITHUB-API-URL":           apiURL,
	})

	// 1. The main step.
	fmt.Fprintln(w, "1. Main step (app-token action)")
	token, masked, err := mainStep(ctx, w, step, env, outputFile, "(each line\n   of the decoded private key, then the token), then what it did:",
		[]string{"token", "installation-id", "app-slug", "expires-at"})
	if err != nil {
		return err
	}
	reqs := emu.Requests()
	fmt.Fprintf(w, "   API requests for the token: %d\n", len(reqs))
	requests(w, reqs)

	// 2. A later step uses the token.
	if err := laterStep(ctx, w, client, apiURL, token); err != nil {
		return err
	}

	// 3. A later step uses it with git.
	fmt.Fprintln(w, "\n3. A later step clones and pushes octo-org/alpha with git")
	_, lookErr := exec.LookPath("git")
	switch {
	case git == nil || lookErr != nil:
		fmt.Fprintln(w, "     skipped: git is not installed")
	default:
		if err := gitTour(ctx, w, emu, git, apiURL, filepath.Join(dir, "git-step"), token); err != nil {
			return fmt.Errorf("the git step failed: %w", err)
		}
	}

	// 4. The post step.
	fmt.Fprintln(w, "\n4. Post step (app-token action-post)")
	post, err := postStep(ctx, w, client, step, emu, env, stateFile, apiURL, token, masked)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, `
Done: one token, narrowed to 2 repositories and 2 permissions, masked before
any output, used over the API and by git (through the credential helper,
never on a command line or in a URL), and revoked: %d API requests of
app-token's own, all to the emulator.
Next: 'app-token emulator' serves the same emulator for dry runs with act;
the README shows how to use the action for real.
`, len(reqs)+len(post))
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
