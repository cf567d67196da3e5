// Command sts measures the token exchange (internal/sts) on loopback:
// warm exchanges per second and p50/p99 latency with 1, 16 and 128
// concurrent clients, GitHub requests per warm exchange, and the server's
// peak RSS. The emulator and the clients run in this process; the exchange
// runs in a child process (this binary with -serve), so that its RSS is its
// own.
//
// Run it from the repository root:
//
//	go run ./bench/sts [-d 3s] [-c 1,16,128] [-product]
//
// -product measures `app-token serve` itself, built from the tree, with its
// audit lines written to a file, instead of the package in a child of this
// binary.
//
// Targets on a 2-core machine: at least 2,000 warm exchanges/s, p99 under
// 20 ms at 16 concurrent, exactly 1 GitHub request per warm exchange (the
// mint), server RSS under 60 MiB.
package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/sts"
)

func main() {
	serve := flag.Bool("serve", false, "run the exchange (the child process)")
	apiURL := flag.String("api", "", "with -serve: the emulator's URL")
	keyFile := flag.String("key", "", "with -serve: the App key's PEM file")
	profile := flag.String("cpuprofile", "", "write CPU profiles: the exchange's to `file`, this process's (emulator and clients) to file.parent")
	d := flag.Duration("d", 3*time.Second, "measuring time per concurrency level")
	levels := flag.String("c", "1,16,128", "concurrency levels")
	product := flag.Bool("product", false, "measure `app-token serve` as deployed (built from this tree, logging its audit lines) instead of the package alone")
	flag.Parse()
	var err error
	if *serve {
		err = runServer(*apiURL, *keyFile, *profile)
	} else {
		if *profile != "" {
			f, ferr := os.Create(*profile + ".parent")
			if ferr == nil {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		err = run(*d, *levels, *profile, *product)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runServer is the child: the exchange on a loopback port, printed on
// stdout, until SIGTERM.
func runServer(apiURL, keyFile, profile string) error {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	pemText, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	key, _, err := appauth.ParsePrivateKey(string(pemText))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}
	s, err := sts.New(sts.Config{
		ClientID:   emulator.WorldClientID,
		Signer:     key,
		APIURL:     apiURL,
		URL:        "http://" + ln.Addr().String(),
		Issuers:    []string{emulator.OIDCIssuer(apiURL)},
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: tr},
		RateLimit:  1e9,
		RateBurst:  1e9,
	})
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return s.Serve(ctx, ln)
}

func run(d time.Duration, levelList, profile string, product bool) error {
	key, err := emulator.GenerateKey()
	if err != nil {
		return err
	}
	emu := emulator.NewWorld(key)
	emu.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", []byte(emulator.WorldTrustPolicy))
	gh := httptest.NewServer(emu)
	defer gh.Close()

	dir, err := os.MkdirTemp("", "app-token-bench-sts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "key.pem")
	der := x509.MarshalPKCS1PrivateKey(key)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	var child *exec.Cmd
	var base string
	if product {
		child, base, err = startProduct(dir, gh.URL, keyFile)
	} else {
		child, base, err = startChild(gh.URL, keyFile, profile)
	}
	if err != nil {
		return err
	}
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	fmt.Printf("server: %s\n", map[bool]string{false: "internal/sts in a child process", true: "app-token serve (JSON audit lines to a file)"}[product])

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("machine: %d CPUs, %s, load before: %s", runtime.NumCPU(), runtime.Version(), load)
	fmt.Printf("%-6s %10s %9s %9s %9s %16s %18s\n", "conc", "exch/s", "p50", "p99", "max", "GitHub req/exch", "server CPU/exch")
	for _, f := range strings.Split(levelList, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("-c: %q is not a concurrency level", f)
		}
		r, err := measure(emu, gh, base, c, d, child.Process.Pid)
		if err != nil {
			return err
		}
		fmt.Printf("%-6d %10.0f %9s %9s %9s %16.3f %18s\n", c, r.rate, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.perExchange, r.cpu.Round(time.Microsecond))
	}
	rss, err := peakRSS(child.Process.Pid)
	if err != nil {
		return err
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("server peak RSS: %.1f MiB\nload after: %s", float64(rss)/(1<<20), load)
	return nil
}

// startChild runs this binary with -serve and reads its address.
func startChild(apiURL, keyFile, profile string) (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	child := exec.Command(self, "-serve", "-api", apiURL, "-key", keyFile, "-cpuprofile", profile)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := child.Start(); err != nil {
		return nil, "", err
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		child.Process.Kill()
		child.Wait()
		return nil, "", fmt.Errorf("the exchange did not start: %w", err)
	}
	return child, "http://" + strings.TrimSpace(addr), nil
}

// startProduct builds app-token from the working tree and runs `app-token
// serve` on a free loopback port (chosen first: --url is the audience),
// its logs going to a file in dir, and waits for /healthz.
func startProduct(dir, apiURL, keyFile string) (*exec.Cmd, string, error) {
	bin := filepath.Join(dir, "app-token")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("go build (run from the repository root): %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, "", err
	}
	child := exec.Command(bin, "serve", "--listen", addr, "--url", "http://"+addr, "--client-id", emulator.WorldClientID,
		"--private-key-file", keyFile, "--api-url", apiURL, "--rate-limit", "1e9", "--rate-burst", "1000000000")
	child.Stderr = logs
	child.Env = append(os.Environ(), "APP_TOKEN_DEBUG=")
	if err := child.Start(); err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return child, base, nil
		}
	}
	child.Process.Kill()
	child.Wait()
	b, _ := os.ReadFile(logs.Name())
	return nil, "", fmt.Errorf("app-token serve did not start:\n%s", b)
}

type result struct {
	rate          float64
	p50, p99, max time.Duration
	perExchange   float64
	cpu           time.Duration // the server's CPU time per exchange
}

// measure warms the caches, then has c clients exchange as fast as they can
// for d, each with its own ID token and connection.
func measure(emu *emulator.Server, gh *httptest.Server, base string, c int, d time.Duration, pid int) (*result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}}
	tokens := make([]string, c)
	for i := range tokens {
		t, err := idToken(gh, emu, base)
		if err != nil {
			return nil, err
		}
		tokens[i] = t
	}
	// Warm: the installation, the policy, the issuer's keys, connections.
	for i := range tokens {
		if err := exchange(client, base, tokens[i]); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	before := githubRequests(emu)
	cpu0, _ := cpuTime(pid)
	var (
		mu    sync.Mutex
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := exchange(client, base, tokens[i]); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := cpuTime(pid)
	if first != nil {
		return nil, first
	}
	n := len(lat)
	slices.Sort(lat)
	return &result{
		rate: float64(n) / elapsed.Seconds(),
		p50:  lat[n/2], p99: lat[n*99/100], max: lat[n-1],
		perExchange: float64(githubRequests(emu)-before) / float64(n),
		cpu:         (cpu1 - cpu0) / time.Duration(n),
	}, nil
}

// githubRequests counts the emulator's API requests, the OIDC issuer's
// apart.
func githubRequests(emu *emulator.Server) int {
	n := 0
	for _, r := range emu.Requests() {
		if !strings.HasPrefix(r.Path, emulator.OIDCPath) {
			n++
		}
	}
	return n
}

func idToken(gh *httptest.Server, emu *emulator.Server, audience string) (string, error) {
	req, _ := http.NewRequest("GET", emulator.IDTokenRequestURL(gh.URL)+"&audience="+url.QueryEscape(audience), nil)
	req.Header.Set("Authorization", "Bearer "+emu.AddJob(emulator.Job{}))
	resp, err := gh.Client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Value, nil
}

func exchange(c *http.Client, base, tok string) error {
	req, _ := http.NewRequest("POST", base+"/sts/exchange?scope=octo-org/alpha&identity=ci", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("exchange: HTTP %d %s", resp.StatusCode, b)
	}
	return nil
}
