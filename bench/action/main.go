// Command action measures the action's main step as the runner runs it:
// "node launcher/main.js" (action.yml's runs.main) with a warm launcher cache,
// against the emulator on loopback.
//
// Run it from the repository root:
//
//	go run ./bench/action [-n 20] [-node /path/to/node] [-bin NAME=PATH]...
//
// It reports:
//   - the main step's wall time, launcher included, over a bare "node -e 0"
//     (median of interleaved per-round differences; target: under 15 ms), on
//     a release ref (the binary in the tool cache) and on a cached source
//     build (act, a local checkout);
//   - the API requests per token: 2 (lookup and token), 1 with installation-id;
//   - the Go binary's peak RSS while it mints a token, through GNU time
//     (target: under 30 MB).
//
// Each -bin NAME=PATH (a release build, an older commit's build) is measured
// on a release ref as well, in the same rounds as the launcher's own build:
// on a busy machine only figures taken side by side compare.
package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/emulator"
)

func main() {
	n := flag.Int("n", 20, "runs per measurement")
	nodeFlag := flag.String("node", "node", "the node `binary` to run the launcher with")
	var bins []namedBinary
	flag.Func("bin", "also measure the app-token binary at PATH on a release ref, as NAME=PATH (repeatable)", func(v string) error {
		name, path, ok := strings.Cut(v, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("want NAME=PATH, got %q", v)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return err
		}
		bins = append(bins, namedBinary{name, abs})
		return nil
	})
	flag.Parse()
	if err := run(*n, *nodeFlag, bins); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// namedBinary is an app-token binary to measure, with the name to report.
type namedBinary struct{ name, path string }

func run(n int, nodeName string, extra []namedBinary) error {
	node, err := exec.LookPath(nodeName)
	if err != nil {
		return err
	}
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	// Unchecked: the figures measure the client, not the emulator's schema check.
	emu := emulator.NewWorld(key, emulator.WithoutSchemaCheck())
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

	// The path a workflow on a release ref takes: launcher/checksums.txt
	// lists the binary and the runner's tool cache holds the verified copy
	// an earlier job downloaded. Nothing is fingerprinted or hashed.
	bin, err := launcherBinary(filepath.Join(dir, "state-1"))
	if err != nil {
		return err
	}
	bins := append([]namedBinary{{"the launcher's build", bin}}, extra...)
	releases := make([]func(int) *exec.Cmd, len(bins))
	for j, b := range bins {
		tree := filepath.Join(dir, fmt.Sprintf("release%d", j))
		if err := releaseTree(tree, b.path); err != nil {
			return err
		}
		releases[j] = func(i int) *exec.Cmd {
			c := exec.Command(node, filepath.Join(tree, "launcher", "main.js"))
			c.Env = append(step(3000+i*len(bins)+j), "RUNNER_TOOL_CACHE="+filepath.Join(tree, "toolcache"))
			return c
		}
	}
	_, releaseSteps, releaseOvers, err := interleaveAll(n,
		func(int) *exec.Cmd { return exec.Command(node, "-e", "0") }, releases...)
	if err != nil {
		return err
	}

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

	// Peak RSS of each Go binary itself, run directly.
	peaks := make([]int64, len(bins))
	for j, b := range bins {
		for i := range 5 {
			c := exec.Command(b.path, "action")
			c.Env = step(2000 + i*len(bins) + j)
			rss, err := peakRSS(c)
			if err != nil {
				return err
			}
			peaks[j] = max(peaks[j], rss)
		}
	}

	fmt.Printf("\nbare node -e 0 (median of %d): %s\n", n, bare)
	fmt.Printf("main step, launcher included, over bare node (median of per-round differences; target: under 15ms):\n")
	for j, b := range bins {
		fmt.Printf("  release ref, binary in the tool cache, %s: %s (step %s)\n", b.name, releaseOvers[j], releaseSteps[j])
	}
	fmt.Printf("  source build cached (act, local checkout): %s (step %s)\n", over, mainStep)
	fmt.Printf("with installation-id (median of %d):          %s\n", n, byID)
	fmt.Printf("API requests per token:                       %.2f (target: 2)\n", perToken)
	fmt.Printf("API requests per token with installation-id:  %.2f (target: 1)\n", perTokenByID)
	for j, b := range bins {
		fmt.Printf("peak RSS of app-token action, %s: %.1f MB (target: under 30 MB)\n", b.name, float64(peaks[j])/(1<<20))
	}
	return nil
}

// interleave runs a and b in turn, n rounds, and returns their medians and
// the median of the per-round differences b-a, which a machine that speeds
// up or slows down for a while disturbs less than the difference of medians.
func interleave(n int, a, b func(i int) *exec.Cmd) (ma, mb, diff time.Duration, err error) {
	ma, mbs, diffs, err := interleaveAll(n, a, b)
	if err != nil {
		return 0, 0, 0, err
	}
	return ma, mbs[0], diffs[0], nil
}

// interleaveAll is interleave for several commands bs: each round runs
// a, then bs[k], for each k, starting at a different one each round.
func interleaveAll(n int, a func(i int) *exec.Cmd, bs ...func(i int) *exec.Cmd) (ma time.Duration, mbs, diffs []time.Duration, err error) {
	var ta []time.Duration
	tb, td := make([][]time.Duration, len(bs)), make([][]time.Duration, len(bs))
	for i := range n {
		for r := range bs {
			k := (r + i) % len(bs)
			da, err := timeRun(a(i))
			if err != nil {
				return 0, nil, nil, err
			}
			db, err := timeRun(bs[k](i))
			if err != nil {
				return 0, nil, nil, err
			}
			ta, tb[k], td[k] = append(ta, da), append(tb[k], db), append(td[k], db-da)
		}
	}
	for k := range bs {
		mbs, diffs = append(mbs, median(tb[k])), append(diffs, median(td[k]))
	}
	return median(ta), mbs, diffs, nil
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

// releaseTree lays out the action in root as a release ref has it: the
// launcher and a checksums.txt listing bin as this platform's asset of
// v0.0.0, with the verified copy already in root/toolcache.
func releaseTree(root, bin string) error {
	if err := os.MkdirAll(filepath.Join(root, "launcher"), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"launch.js", "fetch.js", "main.js", "post.js"} {
		b, err := os.ReadFile(filepath.Join("launcher", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, "launcher", f), b, 0o644); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	asset := fmt.Sprintf("app-token-%s-%s", runtime.GOOS, runtime.GOARCH)
	exe := "app-token"
	if runtime.GOOS == "windows" {
		asset, exe = asset+".exe", exe+".exe"
	}
	list := fmt.Sprintf("version v0.0.0\n%s  %s\n", sum, asset)
	if err := os.WriteFile(filepath.Join(root, "launcher", "checksums.txt"), []byte(list), 0o644); err != nil {
		return err
	}
	cached := filepath.Join(root, "toolcache", "app-token", "v0.0.0", strings.TrimSuffix(asset, ".exe")+"-"+sum[:16])
	if err := os.MkdirAll(cached, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cached, exe), data, 0o755)
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
