package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/org/app-token/internal/demo"
	"github.com/org/app-token/internal/emulator"
)

// worldGrants are the permissions of the emulator's installation on
// octo-org (emulator.NewWorld).
var worldGrants = map[string]bool{"contents": true, "issues": true, "pull_requests": true, "metadata": true}

// TestExamplesReadTheEmulatorsFiles: every app-token step in examples/ reads
// only variables and secrets that app-token emulator's act files give,
// points github-api-url at vars.APP_TOKEN_API_URL, and uses only inputs
// action.yml declares; then its inputs, resolved from those files, mint a
// token from the emulator as the action's main step (issue 11, finding 9).
func TestExamplesReadTheEmulatorsFiles(t *testing.T) {
	t.Parallel()
	w := newActWorld(t)
	files, err := demo.WriteFiles(t.TempDir(), w.url, testKey())
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]string{}
	for kind, path := range map[string]string{"vars": files.Vars, "secrets": files.Secrets} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			given[kind+"."+k] = v
		}
	}
	var action struct {
		Inputs map[string]any `yaml:"inputs"`
	}
	b, err := os.ReadFile("action.yml")
	if err != nil || yaml.Unmarshal(b, &action) != nil {
		t.Fatalf("action.yml: %v", err)
	}
	expr := regexp.MustCompile(`\$\{\{\s*((?:vars|secrets)\.[A-Z_]+)\s*\}\}`)
	paths, _ := filepath.Glob("examples/*.yml")
	if len(paths) < 5 {
		t.Fatalf("examples: %v", paths)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		steps := 0
		for _, job := range wf.Jobs {
			for _, st := range job.Steps {
				if st.Uses != "org/app-token-action@v1" {
					continue
				}
				steps++
				if got := st.With["github-api-url"]; got != "${{ vars.APP_TOKEN_API_URL }}" {
					t.Errorf("%s: github-api-url is %q, want ${{ vars.APP_TOKEN_API_URL }}", p, got)
				}
				env := w.env(nil)
				for name, v := range st.With {
					if _, ok := action.Inputs[name]; !ok {
						t.Errorf("%s: input %q is not in action.yml", p, name)
					}
					v = expr.ReplaceAllStringFunc(v, func(m string) string {
						ref := expr.FindStringSubmatch(m)[1]
						val, ok := given[ref]
						if !ok {
							t.Errorf("%s: %s reads %s, which app-token emulator's files do not give", p, name, ref)
						}
						return val
					})
					if strings.Contains(v, "${{") {
						t.Errorf("%s: %s = %q: an expression the test cannot resolve", p, name, v)
					}
					env["INPUT_"+strings.ToUpper(name)] = v
				}
				// The example's accounts are not the emulator's: its token step
				// runs against the emulator's organization instead.
				if env["INPUT_OWNER"] != "" || env["INPUT_REPOSITORIES"] != "" {
					env["INPUT_OWNER"], env["INPUT_REPOSITORIES"] = emulator.WorldOrg, "alpha"
				}
				// ... and asks for no permission the emulator's installation lacks.
				for k := range env {
					if p, ok := strings.CutPrefix(k, "INPUT_PERMISSION-"); ok && !worldGrants[strings.ReplaceAll(strings.ToLower(p), "-", "_")] {
						delete(env, k)
					}
				}
				home := t.TempDir()
				env["HOME"], env["GIT_CONFIG_GLOBAL"] = home, filepath.Join(home, ".gitconfig")
				// The example's KMS is not here: the same input names a file:
				// signer holding the emulator's key, and no private-key is given.
				if env["INPUT_PRIVATE-KEY-SIGNER"] != "" {
					keyPath := filepath.Join(home, "app.pem")
					if err := os.WriteFile(keyPath, []byte(testKeyPEM()), 0o600); err != nil {
						t.Fatal(err)
					}
					env["INPUT_PRIVATE-KEY-SIGNER"] = "file:" + keyPath
					delete(env, "INPUT_PRIVATE-KEY")
				}
				if out, stderr, err := runEnv(t, env, "action"); err != nil {
					t.Errorf("%s: the token step against the emulator: %v\n%s%s", p, err, stderr, out)
				}
			}
		}
		if steps == 0 {
			t.Errorf("%s has no org/app-token-action@v1 step", p)
		}
	}
}
