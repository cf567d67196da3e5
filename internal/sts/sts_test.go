package sts

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

// otherKey signs tokens that no issuer published.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := emulator.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
})

const stsURL = "https://sts.test"

type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d += d
}

type world struct {
	emu    *emulator.Server
	gh     *httptest.Server
	sts    *Server
	srv    *httptest.Server
	clock  *clock
	logs   *syncBuffer
	issuer string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const repoPolicy = `issuer_pattern: 'http://127\.0\.0\.1:[0-9]+/_services/token'
subject: repo:octo-org/alpha:ref:refs/heads/main
claim_pattern:
  workflow_ref: 'octo-org/alpha/\.github/workflows/ci\.yml@refs/heads/main'
permissions:
  issues: write
`

func newWorld(t *testing.T, tweak func(*Config)) *world {
	t.Helper()
	w := &world{clock: &clock{}, logs: &syncBuffer{}}
	w.emu = emulator.NewWorld(testKey(), emulator.WithClock(w.clock.Now))
	w.gh = httptest.NewServer(w.emu)
	t.Cleanup(w.gh.Close)
	t.Cleanup(func() {
		if u := w.emu.Unexpected(); len(u) > 0 {
			t.Errorf("unexpected requests: %v", u)
		}
	})
	w.issuer = emulator.OIDCIssuer(w.gh.URL)
	cfg := Config{
		ClientID:   emulator.WorldClientID,
		Signer:     testKey(),
		APIURL:     w.gh.URL,
		URL:        stsURL,
		Issuers:    []string{w.issuer},
		HTTPClient: w.gh.Client(),
		Logger:     slog.New(slog.NewJSONHandler(w.logs, nil)),
		Now:        w.clock.Now,
		RateLimit:  1000,
		RateBurst:  1000,
		AppOptions: nil,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.sts = s
	w.srv = httptest.NewServer(s.Handler())
	t.Cleanup(w.srv.Close)
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", []byte(repoPolicy))
	return w
}

// idToken asks the emulated runner for a job's ID token.
func (w *world) idToken(t *testing.T, job emulator.Job, audience string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", emulator.IDTokenRequestURL(w.gh.URL)+"&audience="+url.QueryEscape(audience), nil)
	req.Header.Set("Authorization", "Bearer "+w.emu.AddJob(job))
	resp, err := w.gh.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Value == "" {
		t.Fatalf("ID token: HTTP %d, %v", resp.StatusCode, err)
	}
	return out.Value
}

// claims are a valid token's claims for octo-org/alpha on main.
func (w *world) claims() map[string]any {
	now := w.clock.Now().Unix()
	return map[string]any{
		"iss": w.issuer, "aud": stsURL, "sub": "repo:octo-org/alpha:ref:refs/heads/main",
		"repository": "octo-org/alpha", "workflow_ref": "octo-org/alpha/.github/workflows/ci.yml@refs/heads/main",
		"iat": now, "nbf": now, "exp": now + 300,
	}
}

func (w *world) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := w.emu.SignIDToken(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

func (w *world) exchange(t *testing.T, method, query, idToken string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+"/sts/exchange?"+query, nil)
	if idToken != "" {
		req.Header.Set("Authorization", "Bearer "+idToken)
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("answer %q is not JSON: %v", b, err)
	}
	return a
}

// githubRequests counts requests to GitHub's API since n (the OIDC
// issuer's requests apart).
func (w *world) githubRequests(n int) (count int, paths []string) {
	for _, r := range w.emu.Requests()[n:] {
		if !strings.HasPrefix(r.Path, emulator.OIDCPath) {
			count++
			paths = append(paths, r.Method+" "+r.Path)
		}
	}
	return count, paths
}

func TestExchangeRepositoryPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)

	before := len(w.emu.Requests())
	a := w.exchange(t, "GET", "scope=octo-org/alpha&identity=ci", id)
	if a.status != 200 {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
	tok, _ := a.body["token"].(string)
	info, ok := w.emu.TokenInfo(tok)
	if !ok {
		t.Fatalf("the answer's token was not issued by GitHub: %s", a.raw)
	}
	if !maps(info.Permissions, map[string]string{"issues": "write"}) || !slices.Equal(info.Repositories, []string{"alpha"}) {
		t.Errorf("token grants %v on %v; the policy grants issues:write on alpha", info.Permissions, info.Repositories)
	}
	if a.body["installation_id"] != float64(emulator.WorldOrgInstID) || a.body["expires_at"] == "" {
		t.Errorf("answer = %s", a.raw)
	}
	if repos, _ := a.body["repositories"].([]any); len(repos) != 1 || repos[0] != "alpha" {
		t.Errorf("repositories = %v", a.body["repositories"])
	}
	cold, paths := w.githubRequests(before)
	if cold != 5 {
		t.Errorf("a cold exchange cost %d GitHub requests, want 5 (lookup, read token, contents, revoke, mint): %v", cold, paths)
	}
	// The policy-reading token is revoked.
	for _, tk := range w.emu.Tokens() {
		if tk.Permissions["contents"] == "read" && len(tk.Permissions) == 1 && !tk.Revoked {
			t.Error("the contents:read token that read the policy was not revoked")
		}
	}

	for range 3 {
		before = len(w.emu.Requests())
		if a := w.exchange(t, "POST", "scope=octo-org/alpha&identity=ci", id); a.status != 200 {
			t.Fatalf("warm exchange: HTTP %d %s", a.status, a.raw)
		}
		if n, paths := w.githubRequests(before); n != 1 {
			t.Errorf("a warm exchange cost %d GitHub requests, want 1 (the mint): %v", n, paths)
		}
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestExchangeOrganizationPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.AddInstallation(&emulator.Installation{
		ID: emulator.WorldOrgInstID, AppID: emulator.WorldAppID, Account: "octo-org", AccountID: 9001, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"alpha", "beta", "gamma", ".github"},
		Permissions: map[string]string{"contents": "write", "issues": "write", "pull_requests": "write", "metadata": "read"},
	})
	w.emu.PutFile("octo-org", ".github", ".github/chainguard/release.sts.yaml", []byte(`issuer_pattern: '.*'
subject_pattern: 'repo:octo-org/[a-z]+:environment:prod'
permissions: {contents: write, pull_requests: write}
repositories: [alpha, beta]
`))
	id := w.idToken(t, emulator.Job{Repo: "gamma", Environment: "prod"}, stsURL)
	a := w.exchange(t, "GET", "scope=octo-org&identity=release&permissions=admin&repositories=gamma", id)
	if a.status != 200 {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
	info, _ := w.emu.TokenInfo(a.body["token"].(string))
	// The query's extra parameters widen nothing.
	if !maps(info.Permissions, map[string]string{"contents": "write", "pull_requests": "write"}) || !slices.Equal(info.Repositories, []string{"alpha", "beta"}) {
		t.Errorf("token grants %v on %v", info.Permissions, info.Repositories)
	}
}

func TestExchangeOrganizationPolicyWithoutRepositoriesGrantsAll(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.AddInstallation(&emulator.Installation{
		ID: emulator.WorldOrgInstID, AppID: emulator.WorldAppID, Account: "octo-org", AccountID: 9001, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"alpha", ".github"},
		Permissions: map[string]string{"contents": "write", "metadata": "read"},
	})
	w.emu.PutFile("octo-org", ".github", ".github/chainguard/all.sts.yaml", []byte("issuer_pattern: '.*'\nsubject_pattern: '.*'\npermissions: {contents: read}\n"))
	a := w.exchange(t, "GET", "scope=octo-org&identity=all", w.idToken(t, emulator.Job{}, stsURL))
	if a.status != 200 || a.body["repositories"] != nil {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
}

// refused asserts an exchange is refused with status and a message holding
// want.
func refused(t *testing.T, a answer, status int, want string) {
	t.Helper()
	msg, _ := a.body["message"].(string)
	if a.status != status || !strings.Contains(msg, want) {
		t.Errorf("answer = HTTP %d %q; want HTTP %d holding %q", a.status, msg, status, want)
	}
	if _, ok := a.body["token"]; ok {
		t.Error("a refusal carries a token")
	}
}

const scopeAlpha = "scope=octo-org/alpha&identity=ci"

func TestRefuseIssuerNotOnTheList(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	other := emulator.NewWorld(testKey())
	osrv := httptest.NewServer(other)
	t.Cleanup(osrv.Close)
	c := w.claims()
	c["iss"] = emulator.OIDCIssuer(osrv.URL)
	tok, _ := other.SignIDToken(c)
	refused(t, w.exchange(t, "GET", scopeAlpha, tok), 401, "is not trusted here")
	if len(other.Requests()) != 0 {
		t.Error("the exchange fetched the keys of an issuer not on its list")
	}
}

func TestRefuseWrongAudience(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	refused(t, w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, "https://github.com/octo-org")), 401, "audience")
}

func TestRefuseExpired(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.claims()
	c["iat"], c["nbf"], c["exp"] = c["iat"].(int64)-600, c["nbf"].(int64)-600, c["iat"].(int64)-1
	refused(t, w.exchange(t, "GET", scopeAlpha, w.sign(t, c)), 401, "expired")
}

func TestRefuseExpiredByClock(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	w.clock.Advance(emulator.IDTokenLifetime + time.Second)
	refused(t, w.exchange(t, "GET", scopeAlpha, id), 401, "expired")
}

func TestRefuseNotYetValid(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.claims()
	c["nbf"], c["exp"] = c["iat"].(int64)+3600, c["iat"].(int64)+3900
	refused(t, w.exchange(t, "GET", scopeAlpha, w.sign(t, c)), 401, "nbf")
}

func jwtWith(t *testing.T, header, claims map[string]any, sign func(string) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	s := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return s + "." + base64.RawURLEncoding.EncodeToString(sign(s))
}

func rs256(key *rsa.PrivateKey) func(string) []byte {
	return func(s string) []byte {
		sum := sha256.Sum256([]byte(s))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		return sig
	}
}

func TestRefuseAlgNone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	_, kid, _ := w.emu.OIDCPublicKey()
	tok := jwtWith(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}, w.claims(), func(string) []byte { return nil })
	refused(t, w.exchange(t, "GET", scopeAlpha, tok), 401, "does not verify")
}

func TestRefuseHS256SignedWithThePublicKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	pub, kid, _ := w.emu.OIDCPublicKey()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwtWith(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, w.claims(), func(s string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(s))
		return m.Sum(nil)
	})
	refused(t, w.exchange(t, "GET", scopeAlpha, tok), 401, "does not verify")
}

func TestRefuseUnknownKid(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	tok := jwtWith(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "not-published"}, w.claims(), rs256(otherKey()))
	refused(t, w.exchange(t, "GET", scopeAlpha, tok), 401, "does not verify")
}

func TestRefuseBadSignature(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	_, kid, _ := w.emu.OIDCPublicKey()
	tok := jwtWith(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, w.claims(), rs256(otherKey()))
	refused(t, w.exchange(t, "GET", scopeAlpha, tok), 401, "does not verify")
	// A genuine token with its claims changed.
	good := w.sign(t, w.claims())
	parts := strings.Split(good, ".")
	c := w.claims()
	c["sub"] = "repo:octo-org/alpha:ref:refs/heads/evil"
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	refused(t, w.exchange(t, "GET", scopeAlpha, strings.Join(parts, ".")), 401, "does not verify")
}

func TestRefuseNoToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	refused(t, w.exchange(t, "GET", scopeAlpha, ""), 401, "Authorization: Bearer")
	refused(t, w.exchange(t, "GET", scopeAlpha, "not-a-jwt"), 401, "not a JWT")
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	if a := w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, stsURL)); a.status != 200 {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
	// The issuer replaces its key: the exchange fetches the JWKS again on
	// the new kid, and tokens signed by the old key stop verifying.
	old := w.idToken(t, emulator.Job{}, stsURL)
	if _, err := w.emu.RotateOIDCKey(false); err != nil {
		t.Fatal(err)
	}
	if a := w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, stsURL)); a.status != 200 {
		t.Fatalf("exchange after rotation: HTTP %d %s", a.status, a.raw)
	}
	refused(t, w.exchange(t, "GET", scopeAlpha, old), 401, "does not verify")
}

func TestRefuseSubject(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{Ref: "refs/heads/feature"}, stsURL)
	refused(t, w.exchange(t, "GET", scopeAlpha, id), 403, `subject: the token's subject "repo:octo-org/alpha:ref:refs/heads/feature" does not match`)
	if strings.Contains(w.exchange(t, "GET", scopeAlpha, id).raw, "workflows") {
		t.Error("a refusal shows the policy's patterns")
	}
}

func TestRefuseClaim(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{WorkflowFile: ".github/workflows/other.yml"}, stsURL)
	refused(t, w.exchange(t, "GET", scopeAlpha, id), 403, "claim_pattern.workflow_ref")
}

func TestRefuseMissingPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	refused(t, w.exchange(t, "GET", "scope=octo-org/alpha&identity=nope", id), 404, "no trust policy octo-org/alpha/.github/chainguard/nope.sts.yaml")
	// An organization whose .github repository the App cannot reach.
	refused(t, w.exchange(t, "GET", "scope=octo-org&identity=ci", id), 404, "octo-org/.github/.github/chainguard/ci.sts.yaml")
}

func TestRefuseInvalidPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/bad.sts.yaml", []byte("issuer: a\nissuer_pattern: b\nsubject: s\npermissions: {contents: read}\n"))
	id := w.idToken(t, emulator.Job{}, stsURL)
	refused(t, w.exchange(t, "GET", "scope=octo-org/alpha&identity=bad", id), 403,
		"octo-org/alpha/.github/chainguard/bad.sts.yaml: issuer: both issuer and issuer_pattern are set: keep one of them")
	// Kept: the next exchange does not read it again.
	before := len(w.emu.Requests())
	w.exchange(t, "GET", "scope=octo-org/alpha&identity=bad", id)
	if n, paths := w.githubRequests(before); n != 0 {
		t.Errorf("an invalid policy was read again within its TTL: %v", paths)
	}
}

func TestRefuseRepositoryOutsideTheInstallation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	refused(t, w.exchange(t, "GET", "scope=octocat/secret&identity=ci", id), 403, "not installed on octocat/secret")
	refused(t, w.exchange(t, "GET", "scope=lonely-org&identity=ci", id), 403, `not installed on the account "lonely-org"`)
}

func TestRefuseOrganizationPolicyRepositoryOutsideTheInstallation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.AddInstallation(&emulator.Installation{
		ID: emulator.WorldOrgInstID, AppID: emulator.WorldAppID, Account: "octo-org", AccountID: 9001, AccountType: "Organization",
		RepositorySelection: "selected", Repositories: []string{"alpha", ".github"},
		Permissions: map[string]string{"contents": "write", "metadata": "read"},
	})
	w.emu.PutFile("octo-org", ".github", ".github/chainguard/ci.sts.yaml", []byte("issuer_pattern: '.*'\nsubject_pattern: '.*'\npermissions: {contents: read}\nrepositories: [alpha, zeta]\n"))
	refused(t, w.exchange(t, "GET", "scope=octo-org&identity=ci", w.idToken(t, emulator.Job{}, stsURL)), 403, "the policy's repositories")
}

func TestRefuseScopeOfAnotherOwner(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *Config) { c.Owners = []string{"octocat"} })
	refused(t, w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, stsURL)), 403, `does not serve the owner "octo-org"`)
}

func TestRefusePermissionAboveTheInstallation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/admin.sts.yaml", []byte("issuer_pattern: '.*'\nsubject_pattern: '.*'\npermissions: {contents: read, administration: write}\n"))
	refused(t, w.exchange(t, "GET", "scope=octo-org/alpha&identity=admin", w.idToken(t, emulator.Job{}, stsURL)), 403, "administration: write (it has none)")
	for _, tk := range w.emu.Tokens() {
		if tk.Permissions["administration"] != "" {
			t.Error("a token with administration was minted")
		}
	}
}

func TestRefuseBadRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	for query, want := range map[string]string{
		"identity=ci":                         "scope is missing",
		"scope=octo-org/alpha":                "identity is missing",
		"scope=octo-org/alpha/x&identity=ci":  "is not OWNER or OWNER/REPO",
		"scope=octo-org/..&identity=ci":       "is not OWNER or OWNER/REPO",
		"scope=octo-org/alpha&identity=../x":  "is not a policy name",
		"scope=octo-org/alpha&identity=a%2Fb": "is not a policy name",
		"scope=-bad&identity=ci":              "is not OWNER",
	} {
		refused(t, w.exchange(t, "GET", query, id), 400, want)
	}
}

func TestRateLimitPerSubject(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
	main := w.idToken(t, emulator.Job{}, stsURL)
	for i := range 2 {
		if a := w.exchange(t, "GET", scopeAlpha, main); a.status != 200 {
			t.Fatalf("exchange %d: HTTP %d %s", i, a.status, a.raw)
		}
	}
	refused(t, w.exchange(t, "GET", scopeAlpha, main), 429, "too many exchanges")
	// Another subject has its own bucket.
	other := w.idToken(t, emulator.Job{Environment: "prod"}, stsURL)
	if a := w.exchange(t, "GET", scopeAlpha, other); a.status == 429 {
		t.Errorf("another subject was limited: %s", a.raw)
	}
}

func TestPolicyRevalidatedWithETag(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *Config) { c.PolicyTTL = time.Minute })
	id := func() string { return w.idToken(t, emulator.Job{}, stsURL) }
	if a := w.exchange(t, "GET", scopeAlpha, id()); a.status != 200 {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
	w.clock.Advance(time.Minute + time.Second)
	before := len(w.emu.Requests())
	if a := w.exchange(t, "GET", scopeAlpha, id()); a.status != 200 {
		t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
	}
	var statuses []int
	for _, r := range w.emu.Requests()[before:] {
		if strings.Contains(r.Path, "/contents/") {
			statuses = append(statuses, r.Status)
		}
	}
	if !slices.Equal(statuses, []int{304}) {
		t.Errorf("after the TTL the policy was read with statuses %v, want one 304", statuses)
	}
	// A changed policy is seen after the TTL.
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", []byte(strings.Replace(repoPolicy, "issues: write", "issues: read", 1)))
	w.clock.Advance(time.Minute + time.Second)
	a := w.exchange(t, "GET", scopeAlpha, id())
	if p, _ := a.body["permissions"].(map[string]any); a.status != 200 || p["issues"] != "read" {
		t.Errorf("after the policy changed: HTTP %d %s", a.status, a.raw)
	}
}

func TestAuditLogNeverHoldsTokens(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	a := w.exchange(t, "GET", scopeAlpha, id)
	refused(t, w.exchange(t, "GET", "scope=octo-org/alpha&identity=nope", id), 404, "no trust policy")
	logs := w.logs.String()
	tok := a.body["token"].(string)
	if strings.Contains(logs, tok) || strings.Contains(logs, id) || strings.Contains(logs, strings.Split(id, ".")[2]) {
		t.Fatal("the logs hold a token")
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON", l)
		}
		if m["msg"] == "exchange" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d audit lines for 2 exchanges", len(lines))
	}
	g := lines[0]
	for k, want := range map[string]any{
		"outcome": "granted", "identity": "ci", "scope": "octo-org/alpha", "issuer": w.issuer,
		"subject": "repo:octo-org/alpha:ref:refs/heads/main", "installation_id": float64(emulator.WorldOrgInstID),
	} {
		if g[k] != want {
			t.Errorf("audit %s = %v, want %v", k, g[k], want)
		}
	}
	if fmt.Sprint(g["permissions"]) != "[issues:write]" || fmt.Sprint(g["repositories"]) != "[alpha]" || g["hashed_token"] == "" {
		t.Errorf("audit line = %v", g)
	}
	if r := lines[1]; r["outcome"] != "no_policy" || !strings.Contains(fmt.Sprint(r["reason"]), "no trust policy") {
		t.Errorf("refusal audit line = %v", r)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	w.exchange(t, "GET", scopeAlpha, id)
	w.exchange(t, "GET", "scope=octo-org/alpha&identity=nope", id)
	resp, err := http.Get(w.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`app_token_sts_exchanges_total{outcome="granted"} 1`,
		`app_token_sts_exchanges_total{outcome="no_policy"} 1`,
		`app_token_sts_upstream_requests_total{code="201",endpoint="access_tokens"} 3`,
		`app_token_sts_upstream_requests_total{code="200",endpoint="installation"} 1`,
		`app_token_sts_upstream_requests_total{code="204",endpoint="revoke"} 2`,
		`app_token_sts_upstream_request_duration_seconds_count{endpoint="contents"} 2`,
		`app_token_sts_policy_reads_total{result="read"} 2`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(w.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
	// An issuer that cannot be discovered keeps the exchange unready.
	down := newWorld(t, func(c *Config) { c.Issuers = []string{"http://127.0.0.1:1/_services/token"} })
	resp, err := http.Get(down.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/readyz with an unreachable issuer: HTTP %d, want 503", resp.StatusCode)
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *Config) { c.ShutdownTimeout = 5 * time.Second })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.sts.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	var resp *http.Response
	for range 50 {
		if resp, err = http.Get(base + "/healthz"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := w.exchangeAt(t, base, w.idToken(t, emulator.Job{}, stsURL)); a != 200 {
		t.Fatalf("exchange through Serve: HTTP %d", a)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func (w *world) exchangeAt(t *testing.T, base, id string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/sts/exchange?"+scopeAlpha, nil)
	req.Header.Set("Authorization", "Bearer "+id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestBodyIsBounded(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	body := strings.NewReader(`{"scope":"` + strings.Repeat("a", 2*maxBody) + `"}`)
	req, _ := http.NewRequest("POST", w.srv.URL+"/sts/exchange", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("an oversized body: HTTP %d, want 400", resp.StatusCode)
	}
}

func TestPostJSONBody(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	req, _ := http.NewRequest("POST", w.srv.URL+"/sts/exchange", strings.NewReader(`{"scope":"octo-org/alpha","identity":"ci"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.idToken(t, emulator.Job{}, stsURL))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST with a JSON body: HTTP %d", resp.StatusCode)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{URL: "sts.example", APIURL: "ftp://x", Issuers: []string{"nope"}})
	for _, want := range []string{"client ID", "private key", `"sts.example"`, "API URL", `issuer "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error = %v; want it to name %s", err, want)
		}
	}
}

// countingSigner counts the App's signatures.
type countingSigner struct {
	crypto.Signer
	mu sync.Mutex
	n  int
}

func (c *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Signer.Sign(r, digest, opts)
}

func TestOneJWTAcrossExchanges(t *testing.T) {
	t.Parallel()
	signer := &countingSigner{Signer: testKey()}
	w := newWorld(t, func(c *Config) { c.Signer = signer })
	id := w.idToken(t, emulator.Job{}, stsURL)
	for range 5 {
		if a := w.exchange(t, "GET", scopeAlpha, id); a.status != 200 {
			t.Fatalf("exchange: HTTP %d %s", a.status, a.raw)
		}
	}
	if signer.n != 1 {
		t.Errorf("5 exchanges signed %d JWTs, want 1", signer.n)
	}
	// Past its reuse margin, a fresh one.
	w.clock.Advance(9 * time.Minute)
	w.exchange(t, "GET", scopeAlpha, w.idToken(t, emulator.Job{}, stsURL))
	if signer.n != 2 {
		t.Errorf("after 9 minutes %d JWTs, want 2", signer.n)
	}
}

func TestRefuseInstallationWithoutContentsRead(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.PutFile("octocat", "hello-world", ".github/chainguard/ci.sts.yaml", []byte("issuer_pattern: '.*'\nsubject_pattern: '.*'\npermissions: {contents: read}\n"))
	w.emu.AddInstallation(&emulator.Installation{
		ID: emulator.WorldUserInst, AppID: emulator.WorldAppID, Account: "octocat", AccountID: 583231, AccountType: "User",
		RepositorySelection: "selected", Repositories: []string{"hello-world"},
		Permissions: map[string]string{"issues": "write", "metadata": "read"},
	})
	refused(t, w.exchange(t, "GET", "scope=octocat/hello-world&identity=ci", w.idToken(t, emulator.Job{}, stsURL)), 403, "grant the App contents: read")
}
