package demo

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/safefile"
)

// EmulatorConfig says how to serve the emulator for people and dry runs.
type EmulatorConfig struct {
	// Key is the test App's key.
	Key *rsa.PrivateKey
	// Listen is the address to listen on.
	Listen string
	// Dir receives the files; empty makes a temporary folder that is
	// removed when the emulator stops.
	Dir string
	// ClockOffset shifts the emulator's clock from this machine's.
	ClockOffset time.Duration
	// Faults are injected into matching requests (ParseFault).
	Faults []emulator.Fault
	// Out receives the banner, Log one line per request served.
	Out, Log io.Writer
	// Now times requests (time.Now when nil).
	Now func() time.Time
}

// emulatorStoreKey is the passphrase emulator.env gives the sign-in store:
// the tokens it protects are the emulator's, worthless anywhere else.
const emulatorStoreKey = "emulator-store-passphrase"

// Emulator serves the emulator's test world until ctx ends. It first writes
// into the folder the App's key, a secrets file and a variables file for act
// and an environment file for a shell (every setting token, installations,
// login, status, user-token, logout, setup-git and credential need), and
// tells on Out what to do with them. Each request it serves is logged on
// Log: method, path, status and time, never a header, query or body.
func Emulator(ctx context.Context, cfg EmulatorConfig) (err error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "app-token-emulator-"); err != nil {
			return err
		}
		// The key is a throwaway; nothing of it outlives the emulator.
		defer os.RemoveAll(dir)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	// The enterprise installation, and git over smart HTTP for the
	// installations' repositories (bare repositories under dir/git).
	emu := emulator.NewWorld(cfg.Key, emulator.WithGit(filepath.Join(dir, "git")))
	emu.AddWorldEnterprise()
	emu.Shift(cfg.ClockOffset)
	for _, f := range cfg.Faults {
		emu.Inject(f)
	}
	url := "http://" + ln.Addr().String()
	files, err := WriteFiles(dir, url, cfg.Key)
	if err != nil {
		ln.Close()
		return err
	}
	home := &homePage{url: url, files: files}
	srv := &http.Server{Handler: logRequests(home.wrap(emu), cfg.Log, now), ReadHeaderTimeout: 10 * time.Second}

	fmt.Fprint(cfg.Out, banner(url, files, cfg, emu.SchemaChecked()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		if cfg.Dir == "" {
			fmt.Fprintf(cfg.Log, "emulator stopped; removed %s\n", dir)
		} else {
			fmt.Fprintln(cfg.Log, "emulator stopped")
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Files are the paths of what Emulator writes into its folder.
type Files struct {
	Dir string
	// Key is the test App's private key (PEM).
	Key string
	// Secrets and Vars are for act's --secret-file and --var-file:
	// APP_PRIVATE_KEY; APP_CLIENT_ID and APP_TOKEN_API_URL.
	Secrets, Vars string
	// Env is for a shell: every APP_TOKEN_* setting the CLI reads.
	Env string
	// GitConfig is where the banner suggests setup-git --file writes.
	GitConfig string
}

// WriteFiles writes the key (PEM), act's secrets and variables (KEY=value
// lines, as act's --secret-file and --var-file read them) and a shell
// environment file into dir, each 0600, for the emulator at url.
func WriteFiles(dir, url string, key *rsa.PrivateKey) (Files, error) {
	f := Files{
		Dir: dir, Key: filepath.Join(dir, "emulator-app.pem"), Secrets: filepath.Join(dir, "act.secrets"),
		Vars: filepath.Join(dir, "act.vars"), Env: filepath.Join(dir, "emulator.env"), GitConfig: filepath.Join(dir, "gitconfig"),
	}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	// The PEM goes into act's secrets in base64, which the action accepts
	// as it is (a secret file holds one line per secret).
	secrets := "APP_PRIVATE_KEY=" + base64.StdEncoding.EncodeToString(pemText) + "\n"
	// The examples read the client ID as a variable, as GitHub recommends
	// for what is not secret.
	vars := fmt.Sprintf("APP_CLIENT_ID=%s\nAPP_TOKEN_API_URL=%s\n", emulator.WorldClientID, url)
	env := envFile([][2]string{
		{"GITHUB_API_URL", url},
		// Where git (actions/checkout, setup-git) finds the repositories:
		// the emulator serves them at /{owner}/{repo}.git.
		{"GITHUB_SERVER_URL", url},
		{"APP_TOKEN_API_URL", url},
		{"APP_TOKEN_GITHUB_URL", url},
		{"APP_TOKEN_CLIENT_ID", emulator.WorldClientID},
		{"APP_TOKEN_CLIENT_SECRET", emulator.WorldClientSecret},
		{"APP_TOKEN_PRIVATE_KEY_FILE", f.Key},
		// Sign-ins and the helper's cache stay in this folder, away from
		// the user's keychain and real tokens.
		{"APP_TOKEN_STORE", "file"},
		{"APP_TOKEN_STORE_KEY", emulatorStoreKey},
		{"APP_TOKEN_CONFIG_DIR", filepath.Join(dir, "config")},
		{"APP_TOKEN_CACHE_DIR", filepath.Join(dir, "cache")},
	})
	for _, w := range []struct{ path, data string }{{f.Key, string(pemText)}, {f.Secrets, secrets}, {f.Vars, vars}, {f.Env, env}} {
		if err := safefile.WriteFile(w.path, []byte(w.data)); err != nil {
			return f, err
		}
	}
	return f, nil
}

// envFile is KEY=value lines a POSIX shell can source (set -a; . FILE),
// values single-quoted where they need it.
func envFile(kv [][2]string) string {
	var b strings.Builder
	b.WriteString("# app-token emulator: source with  set -a; . THIS_FILE; set +a\n")
	for _, p := range kv {
		v := p[1]
		if strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+") != "" {
			v = "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		fmt.Fprintf(&b, "%s=%s\n", p[0], v)
	}
	return b.String()
}

// banner tells what the emulator serves and how to use it; checked says
// whether it holds its answers to GitHub's description.
func banner(url string, f Files, cfg EmulatorConfig, checked bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `GitHub emulator listening on %[1]s (REST API also under %[1]s/api/v3)

Test App %[2]q: app ID %[3]d, client ID %[4]s, client secret %[5]s
  installation %[6]d on organization %[7]s: alpha, beta, gamma (contents, issues, pull_requests: write)
  installation %[8]d on user %[9]s: hello-world (contents: read)
  installation %[11]d on enterprise %[12]s (enterprise_custom_properties_for_organizations: write)
Git: %[1]s/%[7]s/alpha.git (and every installation's repository), with an
  installation token as the password (app-token setup-git --host %[1]s)
Its private key (a throwaway test key): %[10]s
Sign-in: approve device codes at %[1]s/login/device as %[9]s (the form fills it in).
`, url, emulator.WorldAppSlug, emulator.WorldAppID, emulator.WorldClientID, emulator.WorldClientSecret,
		emulator.WorldOrgInstID, emulator.WorldOrg, emulator.WorldUserInst, emulator.WorldUser, f.Key,
		emulator.WorldEnterpriseInstID, emulator.WorldEnterprise)
	if cfg.ClockOffset != 0 {
		fmt.Fprintf(&b, "Its clock is %s off this machine's (--clock-offset).\n", cfg.ClockOffset)
	}
	for _, fl := range cfg.Faults {
		fmt.Fprintf(&b, "Fault: %s\n", describeFault(fl))
	}
	if !checked {
		b.WriteString("Answers are not checked against GitHub's REST description in this build (-tags noschemacheck,\n" +
			"  as releases are built); go run . emulator, from a checkout, checks each one.\n")
	}
	fmt.Fprintf(&b, `
From a shell (emulator.env sets every APP_TOKEN_* setting; sign-ins stay in %[2]s):
  set -a; . %[1]s; set +a
  app-token token --owner %[3]s
  app-token installations
  app-token login                 # then enter the code at %[4]s/login/device
  app-token status; app-token user-token; app-token logout --revoke
  app-token setup-git --file %[5]s
  printf 'protocol=http\nhost=%[6]s\npath=%[3]s/alpha.git\n\n' | app-token credential get

In a workflow (as in examples/):
  - uses: org/app-token-action@v1
    with:
      client-id: ${{ vars.APP_CLIENT_ID }}
      private-key: ${{ secrets.APP_PRIVATE_KEY }}
      owner: %[3]s
      github-api-url: ${{ vars.APP_TOKEN_API_URL }}

Dry run with act (no Docker), from a checkout of app-token:
  act push -W WORKFLOW -P ubuntu-latest=-self-hosted --local-repository org/app-token-action@v1=$PWD \
    --secret-file %[7]s --var-file %[8]s

Each request is logged below (method, path, status, time). Ctrl-C stops the emulator.
`, f.Env, f.Dir, emulator.WorldOrg, url, f.GitConfig, strings.TrimPrefix(url, "http://"), f.Secrets, f.Vars)
	return b.String()
}

// ParseFault reads a --fault (its errors do not repeat s): "[METHOD ]PATH=STATUS[*TIMES]" answers
// STATUS to the next TIMES (default 1) requests whose path starts with
// PATH; "=drop" closes their connections instead. Examples:
// "POST /app/installations=503*2", "/login/device/code=drop".
func ParseFault(s string) (emulator.Fault, error) {
	var f emulator.Fault
	where, what, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return f, fmt.Errorf("not [METHOD ]PATH=STATUS[*TIMES] (e.g. \"POST /app/installations=503*2\")")
	}
	if m, p, ok := strings.Cut(strings.TrimSpace(where), " "); ok {
		f.Method, where = strings.ToUpper(m), strings.TrimSpace(p)
	}
	if !strings.HasPrefix(where, "/") {
		return f, fmt.Errorf("the path must start with /")
	}
	f.Path = where
	what, times, hasTimes := strings.Cut(strings.TrimSpace(what), "*")
	if hasTimes {
		n, err := strconv.Atoi(times)
		if err != nil || n < 1 {
			return f, fmt.Errorf("*%s is not a count of requests (1 or more)", times)
		}
		f.Times = n
	}
	if strings.EqualFold(what, "drop") {
		f.Drop = true
		return f, nil
	}
	status, err := strconv.Atoi(what)
	if err != nil || status < 400 || status > 599 {
		return f, fmt.Errorf("%q is not an error status (400-599) or drop", what)
	}
	f.Status = status
	return f, nil
}

func describeFault(f emulator.Fault) string {
	what := strconv.Itoa(f.Status)
	if f.Drop {
		what = "connection dropped"
	}
	times := max(f.Times, 1)
	method := f.Method
	if method == "" {
		method = "any"
	}
	return fmt.Sprintf("%s for the next %d %s request(s) to %s*", what, times, method, f.Path)
}

// logRequests writes one line per request to w: method, path (never the
// query, which may carry an OAuth code), status and time.
func logRequests(h http.Handler, w io.Writer, now func() time.Time) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: rw}
		start := now()
		defer func() {
			status := strconv.Itoa(rec.status)
			if rec.status == 0 {
				status = "dropped"
			}
			mu.Lock()
			fmt.Fprintf(w, "%s %-6s %-50s %s %.1fms\n", now().UTC().Format("15:04:05"), r.Method, r.URL.Path, status,
				float64(now().Sub(start))/float64(time.Millisecond))
			mu.Unlock()
		}()
		h.ServeHTTP(rec, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// homePage answers GET / with what this server is, instead of the
// emulator's 501 for routes it does not know.
type homePage struct {
	url   string
	files Files
}

// homeTmpl is parsed on first use, not at every start of app-token.
var homeTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("home").Parse(homeHTML))
})

const homeHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>app-token GitHub emulator</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>app-token's offline GitHub emulator</h1>
<p>This server answers the parts of GitHub's REST API and OAuth endpoints that app-token calls,
at {{.URL}} and under {{.URL}}/api/v3 (like GitHub Enterprise Server). It is for dry runs and
trying app-token; it holds a test App and nothing real.</p>
<ul>
<li>Approve a sign-in: <a href="/login/device">/login/device</a> (as {{.User}})</li>
<li>Test App {{.Slug}}, client ID <code>{{.ClientID}}</code>, installed on {{.Org}} and {{.User}}</li>
<li>Settings for a shell: <code>{{.Env}}</code></li>
</ul>
</body></html>
`

func (h *homePage) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		data := map[string]string{"URL": h.url, "User": emulator.WorldUser, "Slug": emulator.WorldAppSlug,
			"ClientID": emulator.WorldClientID, "Org": emulator.WorldOrg, "Env": h.files.Env}
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "app-token's offline GitHub emulator: GitHub's REST API at %s (and %s/api/v3), OAuth at %s/login/.\nApprove sign-ins at %s/login/device as %s. Settings for a shell: %s\n",
				h.url, h.url, h.url, h.url, emulator.WorldUser, h.files.Env)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		homeTmpl().Execute(w, data)
	})
}

// Faults is the repeatable --fault flag: each value is ParseFault's.
type Faults []emulator.Fault

func (f *Faults) String() string { return "" }

func (f *Faults) Set(v string) error {
	fault, err := ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

// LoadKey loads the test App's key from file (--key-file), or generates
// one when file is "".
func LoadKey(file string) (*rsa.PrivateKey, error) {
	if file == "" {
		return emulator.GenerateKey()
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	k, _, err := appauth.ParsePrivateKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	return k, nil
}
