package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The emulator's tests may sign JWTs with golang-jwt: they test the
// emulator, and nothing of the client's is shared with it.

func signedJWT(t *testing.T) string {
	t.Helper()
	now := time.Now()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": WorldClientID, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}).SignedString(testKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serve(t *testing.T, opts ...Option) (*Server, string) {
	t.Helper()
	emu := NewWorld(testKey(), opts...)
	emu.AddWorldEnterprise()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// call makes one request; it returns the status and the decoded JSON body.
func call(t *testing.T, method, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, url, data, err)
		}
	}
	return resp.StatusCode, m
}

func TestAuthorizationSchemesAnyCase(t *testing.T) {
	t.Parallel()
	emu, url := serve(t)
	jwtValue := signedJWT(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		if status, body := call(t, "GET", url+"/app", map[string]string{"Authorization": scheme + " " + jwtValue}, ""); status != 200 {
			t.Errorf("GET /app with %q: %d %v", scheme, status, body)
		}
	}
	// A JWT must come as Bearer; "token" is for tokens.
	if status, _ := call(t, "GET", url+"/app", map[string]string{"Authorization": "token " + jwtValue}, ""); status != 401 {
		t.Errorf("JWT as token: %d", status)
	}
	status, tok := call(t, "POST", url+"/app/installations/101/access_tokens", map[string]string{"Authorization": "bearer " + jwtValue}, "")
	if status != 201 {
		t.Fatalf("mint: %d %v", status, tok)
	}
	for _, scheme := range []string{"token", "Token", "TOKEN", "bearer", "Bearer"} {
		if status, body := call(t, "GET", url+"/installation/repositories", map[string]string{"Authorization": scheme + " " + tok["token"].(string)}, ""); status != 200 {
			t.Errorf("repositories with %q: %d %v", scheme, status, body)
		}
	}
	for _, bad := range []string{"", "Basic eDp5", "token", "tokenX abc"} {
		if status, body := call(t, "GET", url+"/installation/repositories", map[string]string{"Authorization": bad}, ""); status != 401 || body["message"] != "Requires authentication" {
			t.Errorf("Authorization %q: %d %v", bad, status, body)
		}
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestAPIVersionHeader(t *testing.T) {
	t.Parallel()
	emu, url := serve(t)
	auth := "Bearer " + signedJWT(t)
	for _, v := range []string{"2022-11-28", "2026-03-10"} {
		if status, body := call(t, "GET", url+"/app", map[string]string{"Authorization": auth, "X-GitHub-Api-Version": v}, ""); status != 200 {
			t.Errorf("version %s: %d %v", v, status, body)
		}
	}
	for _, path := range []string{"/app", "/api/v3/app"} {
		status, body := call(t, "GET", url+path, map[string]string{"Authorization": auth, "X-GitHub-Api-Version": "2021-01-01"}, "")
		if status != 400 || !strings.Contains(body["message"].(string), "2021-01-01") || body["documentation_url"] == nil || body["status"] != "400" {
			t.Errorf("%s, unknown version: %d %v", path, status, body)
		}
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestStatelessTokenHeader(t *testing.T) {
	t.Parallel()
	for _, style := range []TokenStyle{TokenAlternate, TokenClassic, TokenStateless} {
		_, url := serve(t, WithTokenStyle(style))
		auth := "Bearer " + signedJWT(t)
		for i := range 2 { // twice: TokenAlternate must not decide
			for header, stateless := range map[string]bool{"enabled": true, "disabled": false, "Enabled": true} {
				status, body := call(t, "POST", url+"/app/installations/101/access_tokens",
					map[string]string{"Authorization": auth, "X-GitHub-Stateless-S2S-Token": header}, "")
				tok, _ := body["token"].(string)
				if status != 201 || strings.Contains(tok, ".") != stateless || (stateless && len(tok) < 500) || (!stateless && len(tok) != 40) {
					t.Errorf("style %d, try %d, header %q: %d, token of %d characters", style, i, header, status, len(tok))
				}
			}
		}
	}
}

// TestUncheckedAnswersWrittenUnderTheLock: unchecked (benchmarks, builds
// with the noschemacheck tag), an answer goes straight to the connection,
// and some handlers write theirs while they hold the emulator's lock, which
// recording the request must not need: it did, and those requests hung.
func TestUncheckedAnswersWrittenUnderTheLock(t *testing.T) {
	t.Parallel()
	emu := NewWorld(testKey(), WithoutSchemaCheck())
	srv := httptest.NewServer(emu)
	// Close waits for every handler: after a hang, leave the server be.
	t.Cleanup(func() {
		if !t.Failed() {
			srv.Close()
		}
	})
	url := srv.URL
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range []struct {
		method, path string
		basicAuth    bool
		want         int
	}{
		{"GET", "/user", false, 401},                                       // an unknown user token
		{"DELETE", "/applications/" + WorldClientID + "/token", true, 404}, // a wrong client secret
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, url+c.path, strings.NewReader(`{"access_token":"gho_x"}`))
		if c.basicAuth {
			req.SetBasicAuth(WorldClientID, "wrong")
		} else {
			req.Header.Set("Authorization", "Bearer ghu_unknown")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	if n := len(emu.Requests()); n != 2 {
		t.Errorf("%d requests recorded, want 2", n)
	}
}

// TestEveryRouteAnswersAsDescribed drives each REST route through its
// statuses, successes and errors; the schema check fails any answer that
// breaks GitHub's description.
func TestEveryRouteAnswersAsDescribed(t *testing.T) {
	t.Parallel()
	emu, url := serve(t)
	emu.AddInstallation(&Installation{ID: 104, AppID: WorldAppID, Account: "sleepy-org", AccountID: 9003, AccountType: "Organization",
		RepositorySelection: "all", Repositories: []string{"r"}, Suspended: true, Permissions: map[string]string{"metadata": "read"}})
	jwtAuth := map[string]string{"Authorization": "Bearer " + signedJWT(t)}
	_, tok := call(t, "POST", url+"/app/installations/101/access_tokens", jwtAuth, `{"repositories":["alpha"],"permissions":{"contents":"read"}}`)
	tokAuth := map[string]string{"Authorization": "token " + tok["token"].(string)}
	for _, c := range []struct {
		method, path string
		header       map[string]string
		body         string
		want         int
	}{
		{"GET", "/app", jwtAuth, "", 200},
		{"GET", "/app", nil, "", 401},
		{"GET", "/app/installations?per_page=1", jwtAuth, "", 200},
		{"GET", "/app/installations/101", jwtAuth, "", 200},
		{"GET", "/app/installations/104", jwtAuth, "", 200},
		{"GET", "/app/installations/999", jwtAuth, "", 404},
		{"POST", "/app/installations/101/access_tokens", jwtAuth, "", 201},
		{"POST", "/api/v3/app/installations/102/access_tokens", jwtAuth, `{"repository_ids":[1]}`, 422},
		{"POST", "/app/installations/101/access_tokens", jwtAuth, `{"permissions":{"workflows":"read"}}`, 422},
		{"POST", "/app/installations/101/access_tokens", jwtAuth, `{"permissions":{"plan":"read"}}`, 422},
		{"POST", "/app/installations/101/access_tokens", jwtAuth, `{"permissions":{"actions":"write"}}`, 422},
		{"POST", "/app/installations/104/access_tokens", jwtAuth, "", 403},
		{"POST", "/app/installations/999/access_tokens", jwtAuth, "", 404},
		{"POST", "/app/installations/101/access_tokens", nil, "", 401},
		{"POST", "/app/installations/101/access_tokens", jwtAuth, `{`, 400},
		{"POST", "/app/installations/103/access_tokens", jwtAuth, `{"repositories":["alpha"]}`, 422},
		{"GET", "/repos/octo-org/alpha/installation", jwtAuth, "", 200},
		{"GET", "/repos/octo-org/nope/installation", jwtAuth, "", 404},
		{"GET", "/orgs/octo-org/installation", jwtAuth, "", 200},
		{"GET", "/orgs/lonely-org/installation", jwtAuth, "", 404},
		{"GET", "/users/octocat/installation", jwtAuth, "", 200},
		{"GET", "/enterprises/octo-enterprise/installation", jwtAuth, "", 200},
		{"GET", "/enterprises/nope/installation", jwtAuth, "", 404},
		{"GET", "/users/octocat", nil, "", 200},
		{"GET", "/users/octo-app[bot]", nil, "", 200},
		{"GET", "/users/nobody-here", nil, "", 404},
		{"GET", "/installation/repositories", tokAuth, "", 200},
		{"GET", "/installation/repositories", map[string]string{"Authorization": "token ghs_nope"}, "", 401},
		{"GET", "/no/such/route", nil, "", 501},
		{"DELETE", "/installation/token", tokAuth, "", 204},
		{"DELETE", "/installation/token", tokAuth, "", 401},
	} {
		if status, body := call(t, c.method, url+c.path, c.header, c.body); status != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, status, body, c.want)
		} else if status >= 400 && (body["message"] == nil || body["documentation_url"] == nil) {
			t.Errorf("%s %s: %d without GitHub's error body: %v", c.method, c.path, status, body)
		}
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("answers broke GitHub's description:\n%s", strings.Join(v, "\n"))
	}
}

// BenchmarkMint measures a token request over loopback HTTP with and without
// the schema check, to know what the check costs every test.
func BenchmarkMint(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []Option
	}{{"checked", nil}, {"unchecked", []Option{WithoutSchemaCheck()}}} {
		b.Run(c.name, func(b *testing.B) {
			emu := NewWorld(testKey(), c.opts...)
			srv := httptest.NewServer(emu)
			defer srv.Close()
			now := time.Now()
			jwtValue, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
				"iss": WorldClientID, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(),
			}).SignedString(testKey())
			for b.Loop() {
				req, _ := http.NewRequest("POST", srv.URL+"/app/installations/101/access_tokens", strings.NewReader(`{"repositories":["alpha"]}`))
				req.Header.Set("Authorization", "Bearer "+jwtValue)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 201 {
					b.Fatalf("%v %v", err, resp)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

func FuzzAuthorization(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("token ghs_x")
	f.Add("bEaReR  x.y.z ")
	f.Add("Basic eDp5")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		scheme, value, ok := authorization(r)
		if !ok {
			return
		}
		if (scheme != "token" && scheme != "bearer") || value == "" || strings.TrimSpace(value) != value {
			t.Fatalf("%q: scheme %q, value %q", header, scheme, value)
		}
		// The scheme's case never matters.
		r.Header.Set("Authorization", strings.ToUpper(scheme)+" "+value)
		if s2, v2, ok2 := authorization(r); !ok2 || s2 != scheme || v2 != value {
			t.Fatalf("%q: upper-cased scheme gives %q %q %v", header, s2, v2, ok2)
		}
	})
}
