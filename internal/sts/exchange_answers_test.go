package sts

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/org/app-token/internal/emulator"
	"github.com/org/app-token/internal/sts/policy"
)

// auditLines are the "exchange" lines logged so far.
func (w *world) auditLines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON", l)
		}
		if m["msg"] == "exchange" {
			lines = append(lines, m)
		}
	}
	return lines
}

func (w *world) lastAudit(t *testing.T) map[string]any {
	t.Helper()
	lines := w.auditLines(t)
	if len(lines) == 0 {
		t.Fatal("no audit line")
	}
	return lines[len(lines)-1]
}

// wantOutcome asserts the last exchange's audit outcome.
func (w *world) wantOutcome(t *testing.T, want string) {
	t.Helper()
	if a := w.lastAudit(t); a["outcome"] != want {
		t.Errorf("audit outcome = %v, want %s", a["outcome"], want)
	}
}

// RFC 6750 §3: a request refused for its bearer token is answered with
// WWW-Authenticate; other refusals are not about the token.
func TestOnlyTokenRefusalsChallenge(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	do := func(query, id string) *http.Response {
		req, _ := http.NewRequest("GET", w.srv.URL+"/sts/exchange?"+query, nil)
		if id != "" {
			req.Header.Set("Authorization", "Bearer "+id)
		}
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := do(scopeAlpha, "not-a-jwt"); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("a bad token: HTTP %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	id := w.idToken(t, emulator.Job{}, stsURL)
	for _, q := range []string{"scope=octo-org/alpha&identity=nope", "identity=ci"} {
		if resp := do(q, id); resp.StatusCode == 401 || resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: HTTP %d with WWW-Authenticate %q", q, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func postForm(t *testing.T, w *world, query string, form url.Values, id string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", w.srv.URL+"/sts/exchange?"+query, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+id)
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Logf("answer: %s", b)
	}
	return resp.StatusCode
}

// A POST may carry scope and identity in a form body, or one of them in
// the query and the other in the body.
func TestPostFormBody(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	if st := postForm(t, w, "", url.Values{"scope": {"octo-org/alpha"}, "identity": {"ci"}}, id); st != 200 {
		t.Errorf("scope and identity in a form: HTTP %d", st)
	}
	if st := postForm(t, w, "scope=octo-org/alpha", url.Values{"identity": {"ci"}}, id); st != 200 {
		t.Errorf("scope in the query, identity in the form: HTTP %d", st)
	}
	if st := postForm(t, w, "identity=ci", url.Values{"scope": {"octo-org/alpha"}}, id); st != 200 {
		t.Errorf("identity in the query, scope in the form: HTTP %d", st)
	}
}

// An App that is not installed is "no_installation" in the audit line and
// the metrics, not a denial.
func TestNoInstallationOutcome(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	refused(t, w.exchange(t, "GET", "scope=octocat/secret&identity=ci", w.idToken(t, emulator.Job{}, stsURL)), 403, "not installed on octocat/secret")
	w.wantOutcome(t, "no_installation")
}

// GitHub failing (5xx) is the exchange's upstream failure: 502, outcome
// upstream_error, logged at ERROR; not a refusal of the caller.
func TestGitHubFailureIsBadGateway(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	w.emu.Inject(emulator.Fault{Method: "POST", Path: "/app/installations/", Status: 500, Message: "boom", Times: 100})
	a := w.exchange(t, "GET", scopeAlpha, id)
	if a.status != http.StatusBadGateway {
		t.Fatalf("GitHub answering 500: HTTP %d %s, want 502", a.status, a.raw)
	}
	l := w.lastAudit(t)
	if l["outcome"] != "upstream_error" || l["level"] != "ERROR" {
		t.Errorf("audit line = %v; want outcome upstream_error at ERROR", l)
	}
	// A refusal is logged at INFO.
	refused(t, w.exchange(t, "GET", "identity=ci", id), 400, "scope is missing")
	if l := w.lastAudit(t); l["level"] != "INFO" {
		t.Errorf("a refusal's audit line is at %v, want INFO", l["level"])
	}
}

// A missing organization policy says where organization policies live; a
// missing repository policy does not.
func TestMissingPolicyAdvice(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	const hint = "an organization policy lives in the owner's .github repository"
	id := w.idToken(t, emulator.Job{}, stsURL)
	refused(t, w.exchange(t, "GET", "scope=octo-org&identity=ci", id), 404, hint)
	a := w.exchange(t, "GET", "scope=octo-org/alpha&identity=nope", id)
	refused(t, a, 404, "no trust policy")
	if strings.Contains(a.raw, hint) {
		t.Errorf("a repository policy's refusal talks of organization policies: %s", a.raw)
	}
}

// contents: read is enough to read trust policies.
func TestContentsReadIsEnoughToReadPolicies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.emu.PutFile("octocat", "hello-world", ".github/chainguard/ci.sts.yaml", []byte("issuer_pattern: '.*'\nsubject_pattern: '.*'\npermissions: {contents: read}\n"))
	w.emu.AddInstallation(&emulator.Installation{
		ID: emulator.WorldUserInst, AppID: emulator.WorldAppID, Account: "octocat", AccountID: 583231, AccountType: "User",
		RepositorySelection: "selected", Repositories: []string{"hello-world"},
		Permissions: map[string]string{"contents": "read", "metadata": "read"},
	})
	if a := w.exchange(t, "GET", "scope=octocat/hello-world&identity=ci", w.idToken(t, emulator.Job{}, stsURL)); a.status != 200 {
		t.Errorf("an installation with contents: read: HTTP %d %s", a.status, a.raw)
	}
}

// A policy file over policy.MaxSize (but well within what GitHub's
// contents API serves) is refused as invalid, naming the limit; the
// exchange does not fail reading it.
func TestOversizedPolicyIsInvalid(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	big := []byte(repoPolicy + "#" + strings.Repeat(" padding", policy.MaxSize*145/100/8) + "\n")
	w.emu.PutFile("octo-org", "alpha", ".github/chainguard/big.sts.yaml", big)
	refused(t, w.exchange(t, "GET", "scope=octo-org/alpha&identity=big", w.idToken(t, emulator.Job{}, stsURL)), 403, "over the 65536-byte limit")
	w.wantOutcome(t, "invalid_policy")
}

// duration_ms is the exchange's time in milliseconds.
func TestAuditDurationIsMilliseconds(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	id := w.idToken(t, emulator.Job{}, stsURL)
	start := time.Now()
	w.exchange(t, "GET", scopeAlpha, id)
	elapsed := float64(time.Since(start).Microseconds()) / 1000
	d, ok := w.lastAudit(t)["duration_ms"].(float64)
	if !ok || d <= 0 || d > elapsed {
		t.Errorf("duration_ms = %v; the exchange took %.3f ms as its caller saw it", d, elapsed)
	}
}

// A bearer token of up to 16 KiB is read; a longer one is refused for its
// size.
func TestBearerTokenSizeBoundary(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	at := strings.Repeat("a", maxIDToken)
	a := w.exchange(t, "GET", scopeAlpha, at)
	refused(t, a, 401, "not a JWT")
	refused(t, w.exchange(t, "GET", scopeAlpha, at+"a"), 401, "over 16384 bytes")
}
