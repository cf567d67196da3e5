package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func newKeylessWorld(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := NewWorld(testKey())
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if u := s.Unexpected(); len(u) > 0 {
			t.Errorf("unexpected requests: %v", u)
		}
	})
	return s, srv
}

// appJWT signs a JWT for the world's App by hand, as GitHub documents it.
func appJWT(t *testing.T) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(map[string]any{"iss": WorldClientID, "iat": now - 60, "exp": now + 540})
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, testKey(), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// installationToken mints a token of the world's organization installation.
func installationToken(t *testing.T, srv *httptest.Server, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/app/installations/%d/access_tokens", srv.URL, WorldOrgInstID), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+appJWT(t))
	var out struct{ Token string }
	if code := do(t, req, &out); code != http.StatusCreated {
		t.Fatalf("mint: HTTP %d", code)
	}
	return out.Token
}

func do(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && len(b) > 0 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.StatusCode
}

func get(t *testing.T, url, token, etag string, v any) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// requiredFields are the schemas' required fields, from @octokit/openapi.
func requiredFields(t *testing.T, schema string) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/required-fields.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m[schema].([]any) {
		out = append(out, f.(string))
	}
	return out
}

func hasFields(t *testing.T, what string, m map[string]any, fields []string) {
	t.Helper()
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			t.Errorf("%s lacks the required field %q", what, f)
		}
	}
}

func TestContentsServesFilesWithETag(t *testing.T) {
	t.Parallel()
	s, srv := newKeylessWorld(t)
	policy := []byte("issuer: https://token.actions.githubusercontent.com\nsubject: repo:octo-org/alpha:ref:refs/heads/main\npermissions: {contents: read}\n")
	s.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", policy)
	tok := installationToken(t, srv, `{"repositories":["alpha"],"permissions":{"contents":"read"}}`)

	for _, prefix := range []string{"", "/api/v3"} {
		url := srv.URL + prefix + "/repos/octo-org/alpha/contents/.github/chainguard/ci.sts.yaml"
		var file map[string]any
		code, h := get(t, url, tok, "", &file)
		if code != 200 {
			t.Fatalf("GET %s: HTTP %d", url, code)
		}
		hasFields(t, "content-file", file, requiredFields(t, "content-file"))
		got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(file["content"].(string), "\n", ""))
		if err != nil || string(got) != string(policy) {
			t.Errorf("content = %q, %v", got, err)
		}
		if file["sha"] != blobSHA(policy) || file["type"] != "file" || file["encoding"] != "base64" {
			t.Errorf("file = %v", file)
		}
		etag := h.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if code, _ := get(t, url, tok, etag, nil); code != http.StatusNotModified {
			t.Errorf("If-None-Match with the ETag: HTTP %d, want 304", code)
		}
	}
	s.PutFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml", append(policy, '#'))
	url := srv.URL + "/repos/octo-org/alpha/contents/.github/chainguard/ci.sts.yaml"
	if code, _ := get(t, url, tok, `W/"`+blobSHA(policy)+`"`, nil); code != 200 {
		t.Errorf("If-None-Match with a stale ETag: HTTP %d, want 200", code)
	}
	s.DeleteFile("octo-org", "alpha", ".github/chainguard/ci.sts.yaml")
	if code, _ := get(t, url, tok, "", nil); code != 404 {
		t.Errorf("deleted file: HTTP %d, want 404", code)
	}
}

func TestContentsNeedsATokenThatReachesTheRepository(t *testing.T) {
	t.Parallel()
	s, srv := newKeylessWorld(t)
	s.PutFile("octo-org", "alpha", "a.txt", []byte("a"))
	url := srv.URL + "/repos/octo-org/alpha/contents/a.txt"
	if code, _ := get(t, url, "", "", nil); code != 401 {
		t.Errorf("no token: HTTP %d, want 401", code)
	}
	if code, _ := get(t, url, "ghs_forged", "", nil); code != 401 {
		t.Errorf("unknown token: HTTP %d, want 401", code)
	}
	beta := installationToken(t, srv, `{"repositories":["beta"],"permissions":{"contents":"read"}}`)
	if code, _ := get(t, url, beta, "", nil); code != 404 {
		t.Errorf("token for another repository: HTTP %d, want 404", code)
	}
	issues := installationToken(t, srv, `{"repositories":["alpha"],"permissions":{"issues":"read"}}`)
	if code, _ := get(t, url, issues, "", nil); code != 404 {
		t.Errorf("token without contents: HTTP %d, want 404", code)
	}
	// Without contents:read it still sees the repository (metadata).
	var repo map[string]any
	if code, _ := get(t, srv.URL+"/repos/octo-org/alpha", issues, "", &repo); code != 200 {
		t.Fatalf("GET repository: HTTP %d", code)
	}
	hasFields(t, "full-repository", repo, requiredFields(t, "full-repository"))
	hasFields(t, "owner", repo["owner"].(map[string]any), requiredFields(t, "simple-user"))
	if repo["full_name"] != "octo-org/alpha" || repo["default_branch"] != "main" {
		t.Errorf("repository = %v", repo)
	}
	if code, _ := get(t, srv.URL+"/repos/octo-org/beta", issues, "", nil); code != 404 {
		t.Errorf("repository outside the token: HTTP %d, want 404", code)
	}
}

func TestWrapBase64(t *testing.T) {
	t.Parallel()
	b := make([]byte, 100)
	got := wrapBase64(b)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 3 || len(lines[0]) != 60 || !strings.HasSuffix(got, "\n") {
		t.Errorf("wrapBase64 = %q", got)
	}
}
