// Package policy reads and checks trust policies in octo-sts's format: which
// OIDC identities may exchange their ID token for an installation token, with
// which permissions and (for an organization) on which repositories.
//
// A repository policy lives at .github/chainguard/{identity}.sts.yaml in the
// repository it grants; an organization policy lives at the same path in the
// owner's .github repository and may add "repositories". The format is
// octo-sts's (https://github.com/octo-sts/app#the-trust-policy), read
// unchanged, so existing policies keep working:
//
//	issuer: https://token.actions.githubusercontent.com   # or issuer_pattern
//	subject: repo:octo-org/alpha:ref:refs/heads/main      # or subject_pattern
//	audience: https://sts.example.com                     # optional, or audience_pattern
//	claim_pattern:                                         # optional, every one must match
//	  workflow_ref: octo-org/alpha/\.github/workflows/release\.yml@.*
//	permissions:
//	  contents: read
//	repositories: [alpha, beta]                            # organization policies only
//
// Parse decodes strictly (an unknown or repeated field is an error) and
// compiles, so a policy is checked whole before it decides anything. The
// package never prints and never reads the environment.
package policy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/org/app-token/internal/appauth"
)

// MaxSize is the largest policy file Parse reads. octo-sts policies are a
// few hundred bytes; the bound keeps a hostile file from costing memory.
const MaxSize = 64 << 10

// Path returns where the policy for identity lives inside its repository.
func Path(identity string) string { return ".github/chainguard/" + identity + ".sts.yaml" }

// OrgRepo is the repository that holds an owner's organization policies.
const OrgRepo = ".github"

// TrustPolicy is a trust policy as written. Exactly one of Issuer and
// IssuerPattern, one of Subject and SubjectPattern, and at most one of
// Audience and AudiencePattern are set (without either, the token's audience
// must be the exchange's own, as octo-sts falls back to its domain).
// Repositories is allowed in an organization policy only.
type TrustPolicy struct {
	Issuer          string            `yaml:"issuer"`
	IssuerPattern   string            `yaml:"issuer_pattern"`
	Subject         string            `yaml:"subject"`
	SubjectPattern  string            `yaml:"subject_pattern"`
	Audience        string            `yaml:"audience"`
	AudiencePattern string            `yaml:"audience_pattern"`
	ClaimPattern    map[string]string `yaml:"claim_pattern"`
	Permissions     map[string]string `yaml:"permissions"`
	Repositories    []string          `yaml:"repositories"`

	org      bool
	issuer   *regexp.Regexp
	subject  *regexp.Regexp
	audience *regexp.Regexp
	claims   map[string]*regexp.Regexp
}

// fields are the names a policy may use, for the unknown-field advice.
var fields = []string{"issuer", "issuer_pattern", "subject", "subject_pattern", "audience", "audience_pattern", "claim_pattern", "permissions", "repositories"}

// Error is one problem with a policy file: which file, which field, what is
// wrong and how to fix it.
type Error struct {
	File    string // e.g. "octo-org/alpha/.github/chainguard/ci.sts.yaml"
	Field   string // e.g. "subject_pattern"; empty for the file as a whole
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	where := e.File
	if e.Field != "" {
		where += ": " + e.Field
	}
	msg := where + ": " + e.Problem
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// Parse decodes and compiles the policy in data, read from file (named in
// errors). org says whether it is an organization policy. It returns every
// problem it finds, each an *Error, joined.
func Parse(file string, data []byte, org bool) (*TrustPolicy, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: file, Problem: fmt.Sprintf("the file is %d bytes, over the %d-byte limit", len(data), MaxSize), Fix: "a trust policy needs only a few lines"}
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, &Error{File: file, Problem: "the file is empty", Fix: "set issuer, subject and permissions"}
	}
	var tp TrustPolicy
	if err := decode(data, &tp); err != nil {
		return nil, decodeError(file, err)
	}
	tp.org = org
	if err := tp.compile(file); err != nil {
		return nil, err
	}
	return &tp, nil
}

// decode is go-yaml's strict decoding, with its panics turned into errors:
// go-yaml v1.19.2 dereferences nil on a tagged empty sequence such as
// "repositories: !x" (found by FuzzParse, kept in testdata/fuzz), and a
// policy file is input from anyone who can push to a repository.
func decode(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the YAML parser failed on this file (%v)", p)
		}
	}()
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict())
}

// decodeError names the line and, for an unknown field, the fields allowed.
func decodeError(file string, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &Error{File: file, Problem: "not valid YAML: " + err.Error(), Fix: "fix the YAML syntax"}
	}
	line := ""
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		line = fmt.Sprintf("line %d: ", tk.Position.Line)
	}
	msg := ye.GetMessage()
	var unknown *yaml.UnknownFieldError
	if errors.As(err, &unknown) {
		name := ""
		if tk := ye.GetToken(); tk != nil {
			name = tk.Value
		}
		return &Error{File: file, Field: name, Problem: line + "unknown field", Fix: "use only " + strings.Join(fields, ", ")}
	}
	return &Error{File: file, Problem: line + msg, Fix: "fix the YAML: a policy is a mapping of the fields " + strings.Join(fields, ", ")}
}

// Compile checks the policy and prepares its patterns. Parse calls it; call
// it yourself on a TrustPolicy built in code. It fails, naming each field at
// fault, when a pair has both or (for issuer and subject) neither value,
// a pattern does not compile, a permission is unknown, or repositories is
// set in a repository policy.
func (tp *TrustPolicy) Compile(file string, org bool) error {
	tp.org = org
	return tp.compile(file)
}

func (tp *TrustPolicy) compile(file string) error {
	var errs []error
	bad := func(field, problem, fix string) {
		errs = append(errs, &Error{File: file, Field: field, Problem: problem, Fix: fix})
	}
	pair := func(name, exact, pattern string, required bool, example string) *regexp.Regexp {
		switch {
		case exact != "" && pattern != "":
			bad(name, fmt.Sprintf("both %s and %s_pattern are set", name, name), "keep one of them")
		case exact == "" && pattern == "" && required:
			bad(name, fmt.Sprintf("neither %s nor %s_pattern is set", name, name), "set one, e.g. "+name+": "+example)
		case pattern != "":
			re, err := CompilePattern(pattern)
			if err != nil {
				bad(name+"_pattern", err.Error(), "write a Go regular expression (https://pkg.go.dev/regexp/syntax); it must match the whole value")
			}
			return re
		}
		return nil
	}
	tp.issuer = pair("issuer", tp.Issuer, tp.IssuerPattern, true, "https://token.actions.githubusercontent.com")
	tp.subject = pair("subject", tp.Subject, tp.SubjectPattern, true, "repo:OWNER/REPO:ref:refs/heads/main")
	tp.audience = pair("audience", tp.Audience, tp.AudiencePattern, false, "")

	tp.claims = make(map[string]*regexp.Regexp, len(tp.ClaimPattern))
	for _, name := range sortedKeys(tp.ClaimPattern) {
		field := fmt.Sprintf("claim_pattern.%s", name)
		if name == "" {
			bad("claim_pattern", "a claim has an empty name", "name the claim, e.g. workflow_ref")
			continue
		}
		re, err := CompilePattern(tp.ClaimPattern[name])
		if err != nil {
			bad(field, err.Error(), "write a Go regular expression (https://pkg.go.dev/regexp/syntax); it must match the whole value")
			continue
		}
		tp.claims[name] = re
	}

	if len(tp.Permissions) == 0 {
		// GitHub grants every permission of the installation to a token
		// requested without permissions; a policy must say what it grants.
		bad("permissions", "no permissions are granted", "list what the identity needs, e.g. permissions: {contents: read}")
	}
	for _, name := range sortedKeys(tp.Permissions) {
		if err := appauth.CheckPermission(name, tp.Permissions[name], "permissions."+name); err != nil {
			bad("permissions."+name, strings.TrimPrefix(err.Error(), "permissions."+name+": "), "")
		}
	}

	if !tp.org && tp.Repositories != nil {
		bad("repositories", "only an organization policy (in the owner's .github repository) lists repositories",
			"remove it: a repository policy grants its own repository; or move the policy to OWNER/.github")
	}
	seen := map[string]bool{}
	for i, r := range tp.Repositories {
		field := fmt.Sprintf("repositories[%d]", i)
		switch {
		case strings.Contains(r, "/"):
			bad(field, fmt.Sprintf("%q names an owner", r), "list bare repository names: an organization policy grants repositories of its own owner only")
		case !validRepo(r):
			bad(field, fmt.Sprintf("%q is not a repository name", r), "use letters, digits, '-', '_' and '.'")
		case seen[strings.ToLower(r)]:
			bad(field, fmt.Sprintf("%q is listed twice", r), "list it once")
		}
		seen[strings.ToLower(r)] = true
	}
	if tp.org && tp.Repositories != nil && len(tp.Repositories) == 0 {
		bad("repositories", "the list is empty", "list repositories, or remove the field to grant every repository of the installation")
	}
	return errors.Join(errs...)
}

var repoName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func validRepo(s string) bool { return repoName.MatchString(s) && s != "." && s != ".." }

// CompilePattern compiles a policy pattern anchored at both ends, as octo-sts
// does: "repo:octo-org/.*" matches a whole subject, never a part of one. The
// pattern is compiled bare first, because wrapping it in ^(?:…)$ would make
// an unbalanced one such as ")(" valid.
func CompilePattern(p string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(p); err != nil {
		return nil, fmt.Errorf("%q does not compile: %s", p, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	re, err := regexp.Compile("^(?:" + p + ")$")
	if err != nil {
		return nil, fmt.Errorf("%q does not compile: %s", p, err)
	}
	return re, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Claims is what a verified ID token says about its bearer.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	// All holds every claim of the token, for claim_pattern.
	All map[string]any
}

// Mismatch says why a token does not satisfy a policy. It names the field
// and the token's value, never the policy's pattern: the caller may not be
// allowed to read the policy.
type Mismatch struct {
	Field  string
	Reason string
}

func (m *Mismatch) Error() string { return m.Field + ": " + m.Reason }

// Check reports whether the token's claims satisfy the policy: nil, or a
// *Mismatch. ownAudience is the audience required when the policy sets none.
func (tp *TrustPolicy) Check(c Claims, ownAudience []string) error {
	if tp.claims == nil {
		return errors.New("policy: Check called before Compile")
	}
	if !match(tp.Issuer, tp.issuer, c.Issuer) {
		return &Mismatch{"issuer", fmt.Sprintf("the token's issuer %q is not the one the policy trusts", c.Issuer)}
	}
	if !match(tp.Subject, tp.subject, c.Subject) {
		return &Mismatch{"subject", fmt.Sprintf("the token's subject %q does not match the policy", c.Subject)}
	}
	switch {
	case tp.Audience != "" || tp.audience != nil:
		if !slices.ContainsFunc(c.Audience, func(a string) bool { return match(tp.Audience, tp.audience, a) }) {
			return &Mismatch{"audience", fmt.Sprintf("no audience of the token (%s) matches the policy", strings.Join(c.Audience, ", "))}
		}
	default:
		if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(ownAudience, a) }) {
			return &Mismatch{"audience", fmt.Sprintf("the token's audience (%s) is not this exchange (%s)", strings.Join(c.Audience, ", "), strings.Join(ownAudience, ", "))}
		}
	}
	for _, name := range sortedKeys(tp.ClaimPattern) {
		raw, ok := c.All[name]
		if !ok {
			return &Mismatch{"claim_pattern." + name, fmt.Sprintf("the token has no claim %q", name)}
		}
		var v string
		switch x := raw.(type) {
		case string:
			v = x
		case bool: // GitHub's ref_protected; octo-sts matches "true"/"false".
			v = fmt.Sprint(x)
		default:
			return &Mismatch{"claim_pattern." + name, fmt.Sprintf("the token's claim %q is not a string", name)}
		}
		if !tp.claims[name].MatchString(v) {
			return &Mismatch{"claim_pattern." + name, fmt.Sprintf("the token's %s %q does not match the policy", name, v)}
		}
	}
	return nil
}

func match(exact string, re *regexp.Regexp, v string) bool {
	if re != nil {
		return re.MatchString(v)
	}
	return exact != "" && v == exact
}
