// Package actionenv is the GitHub Actions runner as the action sees it: its
// inputs (parsed into a typed struct, every problem reported at once), its
// outputs, masks, state and log commands. It wraps go-githubactions, always
// through an instance built on the caller's getenv and writer, never through
// that library's package-level functions and their hidden global.
package actionenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/stsclient"
	"github.com/sethvargo/go-githubactions"
)

// Runner writes workflow commands and environment files for one step.
type Runner struct {
	a      *githubactions.Action
	getenv func(string) string
	debug  bool
}

// New returns a Runner reading the step's environment through getenv and
// writing workflow commands to w. Debug lines are written only when the run
// has debugging on (RUNNER_DEBUG=1).
func New(getenv func(string) string, w io.Writer) *Runner {
	return &Runner{
		a:      githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(w)),
		getenv: getenv,
		debug:  getenv("RUNNER_DEBUG") == "1",
	}
}

// Input returns the input name, trimmed, as the runner passed it
// (INPUT_<NAME> upper-cased with its hyphens kept).
func (r *Runner) Input(name string) string { return r.a.GetInput(name) }

// Mask tells the runner to hide value, each of its lines separately, in every
// later log line. Call it before value can appear anywhere.
func (r *Runner) Mask(value string) {
	for _, line := range strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			r.a.AddMask(line)
		}
	}
}

// CheckFiles fails unless the runner's output and state files are set, as
// they are in every step the runner starts.
func (r *Runner) CheckFiles() error {
	var missing []string
	for _, v := range []string{"GITHUB_OUTPUT", "GITHUB_STATE"} {
		if r.getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not set: the action subcommands run inside a GitHub Actions step (outside Actions, use 'app-token token')", strings.Join(missing, " and "))
	}
	return nil
}

// SetOutputs writes the outputs in the order given, as name, value pairs,
// to GITHUB_OUTPUT.
func (r *Runner) SetOutputs(pairs ...string) error {
	return r.writeFileCommands("GITHUB_OUTPUT", pairs)
}

// SaveState keeps name=value for the post step (GITHUB_STATE).
func (r *Runner) SaveState(pairs ...string) error {
	return r.writeFileCommands("GITHUB_STATE", pairs)
}

// writeFileCommands appends name<<DELIMITER blocks to the environment file
// named by the variable file, all in one write. Written here rather than with
// go-githubactions' SetOutput and SaveState: those use one fixed delimiter,
// so a value holding "\n<delimiter>\n" (an app slug or a repository name from
// the server) ends its block early and defines outputs of its own. As the
// runner's toolkit does (@actions/core's prepareKeyValueMessage), each value
// gets a random delimiter, and a name or value that holds it is refused.
func (r *Runner) writeFileCommands(file string, pairs []string) error {
	path := r.getenv(file)
	if path == "" {
		return fmt.Errorf("write %s: it is not set", file)
	}
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		if name == "" || strings.ContainsAny(name, "\r\n=<") {
			return fmt.Errorf("write %s: %q is not a valid name", file, name)
		}
		delim := "ghadelimiter_" + rand.Text()
		if strings.Contains(value, delim) {
			// 26 random base32 characters: only a value made to hold this
			// very delimiter gets here.
			return fmt.Errorf("write %s: the value of %s holds its delimiter", file, name)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, pathless(err))
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", file, pathless(err))
	}
	return nil
}

// pathless drops the path from a file error: the variable's name says which
// file, and the message then reads the same on every runner.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// State reads what the main step saved: go-githubactions can save state but
// not read it; the runner hands it to the post step as STATE_<name>.
func (r *Runner) State(name string) string { return r.getenv("STATE_" + name) }

// Debugf writes a ::debug:: line when debugging is on.
func (r *Runner) Debugf(format string, args ...any) {
	if r.debug {
		r.a.Debugf(format, args...)
	}
}

// Infof writes a plain log line. Line breaks in it are shown as \r and \n:
// text from the server (a repository name holding "\n::warning::...")
// must not start a line of its own, which the runner would read as a
// workflow command. go-githubactions escapes the messages of the commands
// (Debugf, Warningf, Errorf) but writes Infof's as they are.
func (r *Runner) Infof(format string, args ...any) {
	r.a.Infof("%s", oneLine(fmt.Sprintf(format, args...)))
}

var lineBreaks = strings.NewReplacer("\r", `\r`, "\n", `\n`)

// oneLine shows line breaks in s as \r and \n.
func oneLine(s string) string { return lineBreaks.Replace(s) }

// Warningf writes a ::warning:: annotation.
func (r *Runner) Warningf(format string, args ...any) { r.a.Warningf(format, args...) }

// Errorf writes one ::error:: annotation (line breaks are escaped).
func (r *Runner) Errorf(format string, args ...any) { r.a.Errorf(format, args...) }

// Inputs are the action's inputs, parsed and checked.
type Inputs struct {
	// ClientID is client-id, or app-id when only that is set.
	ClientID string
	// Warnings are problems that do not stop the step (deprecated inputs).
	Warnings []string

	// PrivateKey holds the parsed key and the PEM text it came in as; nil
	// when Signer is set.
	PrivateKey *appauth.ParsedKey
	// Signer is private-key-signer, a signer URI (signer.Open opens it),
	// as given: it may hold a PIN, so show it only redacted. Exactly one
	// of PrivateKey and Signer is set.
	Signer string

	Owner          string
	Repositories   []string
	Permissions    map[string]string
	InstallationID int64
	// Enterprise is the enterprise input (a slug): the token is then the
	// enterprise installation's, and Owner and Repositories are empty.
	Enterprise string
	// CurrentRepository is set when neither owner nor repositories was
	// given: the token is then for the workflow's own repository.
	CurrentRepository bool

	SkipTokenRevoke bool
	SetupGit        bool
	APIURL          string

	// STSURL, when set, is the token exchange's URL (sts-url, through
	// stsclient.Base): the token comes from there, for Scope as the trust
	// policy Identity allows, and ClientID and PrivateKey are empty.
	STSURL, Identity string
	// Scope is the exchange's scope: "OWNER/REPO" (a repository policy)
	// or "OWNER" (an organization policy).
	Scope string
}

// booleans are the spellings the Actions toolkit's getBooleanInput accepts
// (YAML 1.2 core schema).
var booleans = map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false}

// Bool parses a boolean input; empty means def.
func (r *Runner) Bool(name string, def bool) (bool, error) {
	v := r.Input(name)
	if v == "" {
		return def, nil
	}
	b, ok := booleans[v]
	if !ok {
		return false, fmt.Errorf("%s: %q is not a boolean: use true or false", name, v)
	}
	return b, nil
}

// PermissionInput is the action input for permission (snake_case).
func PermissionInput(permission string) string {
	return "permission-" + strings.ReplaceAll(permission, "_", "-")
}

// ParseInputs reads and checks every input, reporting every problem at once.
// environ lists the step's environment (NAME=value) so that a misspelt
// permission-* input is caught rather than silently ignored; nil skips that
// check.
func (r *Runner) ParseInputs(environ []string) (*Inputs, error) {
	in := &Inputs{}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	if r.Input("sts-url") != "" {
		return r.parseExchangeInputs(environ)
	}
	if r.Input("identity") != "" {
		add(errors.New("identity: only with sts-url: set sts-url to the token exchange's URL, or drop identity"))
	}

	in.ClientID = r.Input("client-id")
	if appID := r.Input("app-id"); appID != "" {
		switch {
		case in.ClientID == "":
			in.ClientID = appID
			in.Warnings = append(in.Warnings, "app-id is deprecated: set client-id to the app's client ID instead (GitHub accepts either)")
		case appID != in.ClientID:
			in.Warnings = append(in.Warnings, "both client-id and app-id are set: using client-id")
		}
	}
	if in.ClientID == "" {
		add(errors.New("client-id: missing: set client-id to the app's client ID (on the app's settings page; app-id also works)"))
	}

	in.Signer = r.Input("private-key-signer")
	if raw := r.getenv("INPUT_PRIVATE-KEY"); strings.TrimSpace(raw) != "" && in.Signer != "" {
		add(errors.New("private-key and private-key-signer are both set: give one (a signer keeps the app's key in a KMS or HSM; private-key is the .pem itself)"))
	} else if in.Signer != "" {
		// Opened by the caller: reading the inputs does no I/O.
	} else if strings.TrimSpace(raw) == "" {
		add(errors.New("private-key: missing: pass the app's private key, e.g. private-key: ${{ secrets.APP_PRIVATE_KEY }}, or name a key in a KMS or HSM with private-key-signer"))
	} else if k, err := appauth.ParseKey(raw); err != nil {
		add(fmt.Errorf("private-key: %w", err))
	} else {
		in.PrivateKey = k
	}

	sel := appauth.Selection{
		Owner: r.Input("owner"), Repositories: r.Input("repositories"),
		CurrentRepository: r.getenv("GITHUB_REPOSITORY"), CurrentOwner: r.getenv("GITHUB_REPOSITORY_OWNER"),
	}
	if v := r.Input("installation-id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			add(fmt.Errorf("installation-id: %q is not an installation ID (a positive number; app-token installations lists them)", v))
		}
		sel.InstallationID = max(id, 0)
	}
	sel.Enterprise = r.Input("enterprise")
	req, current, err := sel.Resolve(func(name string) string { return name })
	add(err)
	in.Owner, in.Repositories, in.InstallationID, in.Enterprise, in.CurrentRepository = req.Owner, req.Repositories, req.InstallationID, req.Enterprise, current

	in.Permissions, err = r.permissions(environ)
	add(err)

	in.SkipTokenRevoke, err = r.Bool("skip-token-revoke", false)
	add(err)
	in.SetupGit, err = r.Bool("setup-git", false)
	add(err)
	if in.SetupGit && in.Enterprise != "" {
		add(errors.New("setup-git: an enterprise installation's token reaches no repository, so git cannot use it; drop setup-git or enterprise"))
	}

	var err2 error
	in.APIURL, err2 = r.apiURL()
	add(err2)

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

// apiURL is github-api-url, else the runner's GITHUB_API_URL, else
// github.com's.
func (r *Runner) apiURL() (string, error) {
	u := r.Input("github-api-url")
	if u == "" {
		u = r.getenv("GITHUB_API_URL")
	}
	if u == "" {
		u = appauth.DefaultAPIURL
	}
	if err := appauth.ValidateAPIURL(u); err != nil {
		return u, fmt.Errorf("github-api-url: %w", err)
	}
	return u, nil
}

// parseExchangeInputs reads the inputs of a step that gets its token from
// a token exchange (sts-url). The App's key stays with the exchange and the
// trust policy decides the permissions, so the inputs that name a key, an
// installation or permissions are refused rather than ignored: a workflow
// that still passes them would believe they count.
func (r *Runner) parseExchangeInputs(environ []string) (*Inputs, error) {
	in := &Inputs{}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	base, err := stsclient.Base(r.Input("sts-url"))
	if err != nil {
		add(fmt.Errorf("sts-url: %w", err))
	}
	in.STSURL = base
	if in.Identity = r.Input("identity"); in.Identity == "" {
		add(errors.New("identity: missing: with sts-url, name the trust policy to use (NAME of .github/chainguard/NAME.sts.yaml)"))
	}
	for _, name := range []string{"private-key", "private-key-signer", "client-id", "app-id", "installation-id", "enterprise"} {
		if strings.TrimSpace(r.getenv("INPUT_"+strings.ToUpper(name))) != "" {
			add(fmt.Errorf("%s: not with sts-url: the token exchange holds the App's key and finds the installation; drop %s (or drop sts-url)", name, name))
		}
	}
	perms, err := r.permissions(environ)
	add(err)
	for _, p := range slices.Sorted(maps.Keys(perms)) {
		name := PermissionInput(p)
		add(fmt.Errorf("%s: not with sts-url: the trust policy decides the token's permissions; drop %s and set them in the policy", name, name))
	}

	sel := appauth.Selection{
		Owner: r.Input("owner"), Repositories: r.Input("repositories"),
		CurrentRepository: r.getenv("GITHUB_REPOSITORY"), CurrentOwner: r.getenv("GITHUB_REPOSITORY_OWNER"),
	}
	req, current, err := sel.Resolve(func(name string) string { return name })
	add(err)
	in.Owner, in.Repositories, in.CurrentRepository = req.Owner, req.Repositories, current
	if err == nil {
		if in.Scope, err = stsclient.Scope(req.Owner, req.Repositories); err != nil {
			add(fmt.Errorf("repositories: with sts-url, %w", err))
		}
	}

	in.SkipTokenRevoke, err = r.Bool("skip-token-revoke", false)
	add(err)
	in.SetupGit, err = r.Bool("setup-git", false)
	add(err)
	in.APIURL, err = r.apiURL()
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

// permissions reads every permission-<name> input. A permission-* input
// that names no permission is an error: ignoring it would mint a token with
// all of the installation's permissions.
func (r *Runner) permissions(environ []string) (map[string]string, error) {
	var errs []error
	perms := map[string]string{}
	for _, p := range appauth.Permissions() {
		name := PermissionInput(p)
		level := r.Input(name)
		if level == "" {
			continue
		}
		if err := appauth.CheckPermission(p, level, name); err != nil {
			errs = append(errs, err)
			continue
		}
		perms[p] = level
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, "INPUT_PERMISSION-")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		p := strings.ReplaceAll(strings.ToLower(name), "-", "_")
		input := "permission-" + strings.ToLower(name)
		switch {
		case !appauth.IsPermission(p):
			errs = append(errs, appauth.CheckPermission(p, v, input))
		case input != PermissionInput(p):
			// permission-pull_requests: the loop above reads only
			// permission-pull-requests, so this one would be ignored.
			errs = append(errs, fmt.Errorf("%s: not an input of the action: write %s (hyphens, not underscores)", input, PermissionInput(p)))
		}
	}
	if len(perms) == 0 {
		perms = nil
	}
	return perms, errors.Join(errs...)
}

// ReadFileCommands parses an environment file the runner reads
// (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV): "name=value" lines and
// "name<<DELIMITER" blocks. Later values win, as with the runner.
func ReadFileCommands(data string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		}
	}
	return out
}
