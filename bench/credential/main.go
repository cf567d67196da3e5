// Command credential measures "app-token credential" as git runs it: one
// process per request, against the emulator on loopback.
//
// Run it from the repository root:
//
//	go run ./bench/credential [-n 200]
//
// It builds app-token, starts the emulator, and reports:
//   - process start: "app-token version", the floor under every figure;
//   - warm get: a token in the cache (target: median under 5 ms, 0 requests);
//   - warm "git credential fill" with app-token as the helper (target:
//     under 10 ms), next to the same fill with a helper that does nothing;
//   - cold get: empty cache (target: the 2 API requests plus under 15 ms);
//   - 100 gets for repositories of one installation: exactly 1 token minted.
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/org/app-token/internal/emulator"
)

func main() {
	n := flag.Int("n", 200, "runs per measurement")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	dir, bin, keyFile string
	em                *emulator.Server
	api               *httptest.Server
	gitHost           string
}

func run(n int) error {
	dir, err := os.MkdirTemp("", "app-token-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, bin: filepath.Join(dir, "app-token"), gitHost: "127.0.0.1:9"}
	// As scripts/release-build.sh builds it: static, no cgo, no schema check.
	build := exec.Command("go", "build", "-trimpath", "-tags", "noschemacheck", "-o", b.bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (run from the repository root): %v\n%s", err, out)
	}
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	b.keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(b.keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	// Unchecked: the figures measure the client, not the emulator's schema check.
	b.em = emulator.NewWorld(key, emulator.WithoutSchemaCheck())
	b.api = httptest.NewServer(b.em)
	defer b.api.Close()

	fmt.Printf("app-token credential, %d runs each, one process per run (%s, CGO_ENABLED=0, %d CPUs, load %s)\n\n", n, goVersion(), runtime.NumCPU(), loadavg())

	// Warm: one get fills the cache, the measured ones read it.
	warmCache := filepath.Join(dir, "warm")
	ask := fmt.Sprintf("protocol=http\nhost=%s\npath=octo-org/alpha.git\n\n", b.gitHost)
	if _, err := b.get(warmCache, ask); err != nil {
		return err
	}

	// git credential fill, with app-token and with a helper doing nothing.
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	helper := fmt.Sprintf("!%s credential --client-id %s --private-key-file %s --api-url %s --host %s",
		b.bin, emulator.WorldClientID, b.keyFile, b.api.URL, b.gitHost)
	gitcfg := filepath.Join(home, "gitconfig")
	nop := filepath.Join(home, "nop.gitconfig")
	os.WriteFile(gitcfg, []byte(fmt.Sprintf("[credential]\n\thelper = %q\n\tuseHttpPath = true\n", helper)), 0o600)
	os.WriteFile(nop, []byte("[credential]\n\thelper = \"!f() { cat >/dev/null; echo username=u; echo password=p; }; f\"\n\tuseHttpPath = true\n"), 0o600)
	gitEnv := func(cfg string) []string {
		return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_GLOBAL=" + cfg, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_TERMINAL_PROMPT=0", "APP_TOKEN_CACHE_DIR=" + warmCache}
	}
	fillCmd := func(cfg string) func(int) (*exec.Cmd, string) {
		return func(int) (*exec.Cmd, string) {
			c := exec.Command("git", "credential", "fill")
			c.Env = gitEnv(cfg)
			return c, ask
		}
	}

	// The four warm measurements run interleaved, round by round, so that
	// load from elsewhere on the machine weighs on each alike.
	before := len(b.em.Requests())
	res, err := b.interleave(n,
		func(int) (*exec.Cmd, string) { return exec.Command(b.bin, "version"), "" },
		func(int) (*exec.Cmd, string) { return b.getCmd(warmCache), ask },
		fillCmd(nop),
		fillCmd(gitcfg),
	)
	if err != nil {
		return err
	}
	floor, warm, fillNop, fill := res[0], res[1], res[2], res[3]
	report("process start (app-token version)", floor, "")
	report("warm get (token cached)", warm, fmt.Sprintf("%d API requests in %d runs; target median < 5 ms", len(b.em.Requests())-before, n))
	report("git credential fill, shell helper doing nothing", fillNop, "")
	report("git credential fill, app-token warm", fill, "target median < 10 ms")

	// Cold: a fresh cache each run. APP_TOKEN_DEBUG makes appauth say how
	// long each request took on the wire, so that what the helper adds
	// can be told from the two requests.
	before = len(b.em.Requests())
	runs := min(n, 50)
	var cold, overhead []time.Duration
	for i := range runs {
		c := b.getCmd(filepath.Join(dir, fmt.Sprintf("cold-%d", i)))
		c.Env = append(c.Env, "APP_TOKEN_DEBUG=1")
		c.Stdin = strings.NewReader(ask)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		start := time.Now()
		if err := c.Run(); err != nil {
			return fmt.Errorf("cold get: %v: %s", err, stderr.String())
		}
		total := time.Since(start)
		cold = append(cold, total)
		overhead = append(overhead, total-requestTime(stderr.String()))
	}
	perRun := float64(len(b.em.Requests())-before) / float64(runs)
	report("cold get (empty cache)", cold, fmt.Sprintf("%.1f API requests per run", perRun))
	report("cold get minus its 2 requests' wire time", overhead, "target < 15 ms")

	// 100 gets for the repositories of one installation.
	cache := filepath.Join(dir, "hundred")
	before = len(b.em.Requests())
	mintsBefore := countMints(b.em)
	repos := []string{"alpha", "beta", "gamma"}
	start := time.Now()
	for i := range 100 {
		q := fmt.Sprintf("protocol=http\nhost=%s\npath=octo-org/%s.git\n\n", b.gitHost, repos[i%len(repos)])
		if _, err := b.get(cache, q); err != nil {
			return err
		}
	}
	fmt.Printf("%-48s %d tokens minted, %d API requests, %s in all\n", "100 gets, repositories of one installation",
		countMints(b.em)-mintsBefore, len(b.em.Requests())-before, time.Since(start).Round(time.Millisecond))
	return nil
}

func (b *bench) getCmd(cache string) *exec.Cmd {
	c := exec.Command(b.bin, "credential", "--client-id", emulator.WorldClientID, "--private-key-file", b.keyFile,
		"--api-url", b.api.URL, "--host", b.gitHost, "get")
	c.Env = []string{"APP_TOKEN_CACHE_DIR=" + cache, "HOME=" + b.dir}
	return c
}

func (b *bench) get(cache, ask string) (string, error) {
	c := b.getCmd(cache)
	c.Stdin = strings.NewReader(ask)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("get: %v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "password=") {
		return "", fmt.Errorf("get answered %q (%s)", out.String(), errb.String())
	}
	return out.String(), nil
}

// measure runs the command mk makes n times and returns each wall time.
func (b *bench) measure(n int, mk func(i int) (*exec.Cmd, string)) ([]time.Duration, error) {
	res, err := b.interleave(n, mk)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// interleave runs one command of each mk per round, n rounds, and returns
// the wall times of each.
func (b *bench) interleave(n int, mks ...func(i int) (*exec.Cmd, string)) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(mks))
	for i := range n {
		for j, mk := range mks {
			c, stdin := mk(i)
			c.Stdin = strings.NewReader(stdin)
			var stdout, stderr bytes.Buffer
			c.Stdout, c.Stderr = &stdout, &stderr
			start := time.Now()
			err := c.Run()
			d := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: %v: %s", strings.Join(c.Args, " "), err, stderr.String())
			}
			out[j] = append(out[j], d)
		}
	}
	return out, nil
}

// requestLine is appauth's debug line for one request: "GET /path: 200 in 1.234ms".
var requestLine = regexp.MustCompile(`: \d{3} in ([0-9.]+[µnm]?s)$`)

// requestTime sums the wire time of the requests in debug output.
func requestTime(debug string) time.Duration {
	var sum time.Duration
	for _, l := range strings.Split(debug, "\n") {
		if m := requestLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				sum += d
			}
		}
	}
	return sum
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func report(name string, d []time.Duration, note string) {
	line := fmt.Sprintf("%-48s median %7s  p90 %7s  min %7s", name,
		median(d).Round(10*time.Microsecond), pct(d, 90).Round(10*time.Microsecond), pct(d, 0).Round(10*time.Microsecond))
	if note != "" {
		line += "  (" + note + ")"
	}
	fmt.Println(line)
}

func countMints(em *emulator.Server) int {
	n := 0
	for _, r := range em.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/access_tokens") {
			n++
		}
	}
	return n
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION", "GOOS", "GOARCH").Output()
	if err != nil {
		return "go"
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// loadavg is the 1-minute load average where the system says it, for
// judging the figures: others' work on the machine slows every process.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
