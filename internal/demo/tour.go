package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/org/app-token/internal/actionenv"
	"github.com/org/app-token/internal/emulator"
)

// stepFiles makes the runner's empty output and state files in dir.
func stepFiles(dir string) (outputFile, stateFile string, err error) {
	outputFile, stateFile = filepath.Join(dir, "output"), filepath.Join(dir, "state")
	for _, f := range []string{outputFile, stateFile} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			return "", "", err
		}
	}
	return outputFile, stateFile, nil
}

// stepEnv is a main step's environment as the runner gives it in a job of
// octo-org/alpha, with inputs (INPUT_<NAME> and other variables) added.
func stepEnv(outputFile, stateFile string, more map[string]string) map[string]string {
	env := map[string]string{
		"GITHUB_ACTIONS":          "true",
		"GITHUB_REPOSITORY":       emulator.WorldOrg + "/alpha",
		"GITHUB_REPOSITORY_OWNER": emulator.WorldOrg,
		"GITHUB_SERVER_URL":       "https://github.com",
		"GITHUB_OUTPUT":           outputFile,
		"GITHUB_STATE":            stateFile,
		"INPUT_SKIP-TOKEN-REVOKE": "false",
	}
	for k, v := range more {
		env[k] = v
	}
	return env
}

// laterStep tells what token reaches, as a later step would see it.
func laterStep(ctx context.Context, w io.Writer, client *http.Client, apiURL, token string) error {
	fmt.Fprintln(w, "\n2. A later step uses the token (GET /installation/repositories)")
	status, names, err := repositories(ctx, client, apiURL, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "     %d: the token reaches %s\n", status, strings.Join(names, ", "))
	return nil
}

// mainStep runs the main step with env and tells its log as the runner
// shows it (maskedWhat says, after the count, which values were masked)
// and the outputs names. It returns the token and every masked value, and
// fails when the step fails or did not mask the token.
func mainStep(ctx context.Context, w io.Writer, step Step, env map[string]string, outputFile, maskedWhat string, names []string) (token string, masked []string, err error) {
	log, err := step(ctx, env, false)
	masked = masks(log)
	fmt.Fprintf(w, "   The step's log as the runner shows it: %d values masked first %s\n", len(masked), maskedWhat)
	indent(w, redact(log, masked), "     ")
	if err != nil {
		return "", nil, fmt.Errorf("the main step failed: %w", err)
	}
	outData, _ := os.ReadFile(outputFile)
	outputs := actionenv.ReadFileCommands(string(outData))
	token = outputs["token"]
	fmt.Fprintln(w, "   Outputs (steps.app-token.outputs.*):")
	for _, name := range names {
		v := outputs[name]
		if name == "token" {
			v = fmt.Sprintf("*** (masked; %d characters, never printed)", len(token))
		}
		fmt.Fprintf(w, "     %-16s %s\n", name, v)
	}
	if !slices.Contains(masked, token) {
		return "", nil, fmt.Errorf("the main step did not mask the token")
	}
	return token, masked, nil
}

// postStep runs the post step with env and the main step's state, tells
// its log and its requests to emu, and checks that token is refused
// afterwards. It returns those requests.
func postStep(ctx context.Context, w io.Writer, client *http.Client, step Step, emu *emulator.Server, env map[string]string, stateFile, apiURL, token string, masked []string) ([]emulator.Request, error) {
	stateData, _ := os.ReadFile(stateFile)
	for k, v := range actionenv.ReadFileCommands(string(stateData)) {
		env["STATE_"+k] = v
	}
	before := len(emu.Requests())
	log, err := step(ctx, env, true)
	indent(w, redact(log, append(masked, masks(log)...)), "     ")
	if err != nil {
		return nil, fmt.Errorf("the post step failed: %w", err)
	}
	post := emu.Requests()[before:]
	requests(w, post)
	status, _, err := repositories(ctx, client, apiURL, token)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "     Afterwards the token is refused: GET /installation/repositories answers %d.\n", status)
	if status != http.StatusUnauthorized {
		return nil, fmt.Errorf("the token still works after the post step")
	}
	return post, nil
}
