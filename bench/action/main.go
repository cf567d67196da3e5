// Command action measures the action's main step as the runner runs it:
// "node launcher/main.js" (action.yml's runs.main) with a warm launcher cache,
// against the emulator on loopback.
//
// Run it from the repository root:
//
//	go run ./bench/action [-n 20]
//
// It reports:
//   - the median wall time of the main step, launcher included, next to the
//     median of a bare "node -e 0" (target: within 15 ms of it);
//   - the API requests per token: 2 (lookup and token), 1 with installation-id;
//   - the Go binary's peak RSS while it mints a token (target: under 30 MB).
package main

import (
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/emulator"
)

func main() {
	n := flag.Int("n", 20, "runs per measurement")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	node, err := exec.LookPath("node")
	if err != nil {
		return err
	}
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	emu := emulator.NewWorld(key)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "app-token-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pemText := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	base := os.Environ()
	base = append(base, "RUNNER_TOOL_CACHE="+filepath.Join(dir, "toolcache"), "RUNNER_TEMP="+dir,
		"GITHUB_REPOSITORY=octo-org/alpha", "GITHUB_REPOSITORY_OWNER=octo-org",
		"INPUT_CLIENT-ID="+emulator.WorldClientID, "INPUT_PRIVATE-KEY="+string(pemText),
		"INPUT_GITHUB-API-URL="+srv.URL, "INPUT_SKIP-TOKEN-REVOKE=false", "INPUT_SETUP-GIT=false")
	step := func(i int, extra ...string) []string {
		out, state := filepath.Join(dir, fmt.Sprintf("out%d", i)), filepath.Join(dir, fmt.Sprintf("state%d", i))
		os.WriteFile(out, nil, 0o600)
		os.WriteFile(state, nil, 0o600)
		return append(append(slices.Clone(base), "GITHUB_OUTPUT="+out, "GITHUB_STATE="+state), extra...)
	}

	// Warm the launcher's cache: the first run builds app-token from source.
	fmt.Println("warming the launcher's cache (builds app-token from source once)...")
	warm := exec.Command(node, "launcher/main.js")
	warm.Env = step(-1)
	if out, err := warm.CombinedOutput(); err != nil {
		return fmt.Errorf("warm-up run: %v\n%s", err, out)
	}

	before := len(emu.Requests())
	bare, mainStep, over, err := interleave(n,
		func(int) *exec.Cmd { return exec.Command(node, "-e", "0") },
		func(i int) *exec.Cmd {
			c := exec.Command(node, "launcher/main.js")
			c.Env = step(i)
			return c
		})
	if err != nil {
		return err
	}
	perToken := float64(len(emu.Requests())-before) / float64(n)

	before = len(emu.Requests())
	byID, err := timeRuns(n, func(i int) *exec.Cmd {
		c := exec.Command(node, "launcher/main.js")
		c.Env = step(1000+i, "INPUT_INSTALLATION-ID=101")
		return c
	})
	if err != nil {
		return err
	}
	perTokenByID := float64(len(emu.Requests())-before) / float64(n)

	// Peak RSS of the Go binary itself, run directly.
	bin, err := launcherBinary(filepath.Join(dir, "state-1"))
	if err != nil {
		return err
	}
	var peak int64
	for i := range 5 {
		c := exec.Command(bin, "action")
		c.Env = step(2000 + i)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%s action: %v\n%s", bin, err, out)
		}
		peak = max(peak, peakRSS(c.ProcessState))
	}

	fmt.Printf("\nmain step, launcher included (median of %d): %s\n", n, mainStep)
	fmt.Printf("bare node -e 0 (median of %d):                %s\n", n, bare)
	fmt.Printf("overhead over bare node (median of per-round differences): %s (target: under 15ms)\n", over)
	fmt.Printf("with installation-id (median of %d):          %s\n", n, byID)
	fmt.Printf("API requests per token:                       %.2f (target: 2)\n", perToken)
	fmt.Printf("API requests per token with installation-id:  %.2f (target: 1)\n", perTokenByID)
	fmt.Printf("peak RSS of app-token action:                 %.1f MB (target: under 30 MB)\n", float64(peak)/(1<<20))
	return nil
}

// interleave runs a and b in turn, n rounds, and returns their medians and
// the median of the per-round differences b-a, which a machine that speeds
// up or slows down for a while disturbs less than the difference of medians.
func interleave(n int, a, b func(i int) *exec.Cmd) (ma, mb, diff time.Duration, err error) {
	var ta, tb, td []time.Duration
	for i := range n {
		da, err := timeRun(a(i))
		if err != nil {
			return 0, 0, 0, err
		}
		db, err := timeRun(b(i))
		if err != nil {
			return 0, 0, 0, err
		}
		ta, tb, td = append(ta, da), append(tb, db), append(td, db-da)
	}
	return median(ta), median(tb), median(td), nil
}

func timeRun(c *exec.Cmd) (time.Duration, error) {
	start := time.Now()
	if out, err := c.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
	}
	return time.Since(start), nil
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	n := len(d)
	return (d[(n-1)/2] + d[n/2]) / 2
}

// timeRuns runs n commands one after another and returns the median time.
func timeRuns(n int, cmd func(i int) *exec.Cmd) (time.Duration, error) {
	times := make([]time.Duration, 0, n)
	for i := range n {
		d, err := timeRun(cmd(i))
		if err != nil {
			return 0, err
		}
		times = append(times, d)
	}
	return median(times), nil
}

// launcherBinary reads the binary the launcher ran from its state file.
func launcherBinary(stateFile string) (string, error) {
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "launcher-binary="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("the launcher saved no launcher-binary state")
}
