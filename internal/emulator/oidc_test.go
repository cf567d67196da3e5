package emulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

// verifyIDToken checks tok's RS256 signature against the JWKS by hand and
// returns its claims.
func verifyIDToken(t *testing.T, base, tok string) (map[string]any, string) {
	t.Helper()
	var jwks struct {
		Keys []struct{ Kid, N, E, Alg, Kty string }
	}
	if code, _ := get(t, base+OIDCPath+"/.well-known/jwks", "", "", &jwks); code != 200 {
		t.Fatalf("JWKS: HTTP %d", code)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var header struct{ Alg, Kid string }
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		t.Fatalf("header %+v", header)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	for _, k := range jwks.Keys {
		if k.Kid != header.Kid {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var claims map[string]any
		decodeSegment(parts[1], &claims)
		return claims, header.Kid
	}
	t.Fatalf("kid %q is not in the JWKS", header.Kid)
	return nil, ""
}

func idToken(t *testing.T, srv string, reqToken, audience string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", IDTokenRequestURL(srv)+"&audience="+audience, nil)
	if reqToken != "" {
		req.Header.Set("Authorization", "Bearer "+reqToken)
	}
	var out struct{ Value string }
	code := do(t, req, &out)
	return code, out.Value
}

func TestOIDCDiscovery(t *testing.T) {
	t.Parallel()
	_, srv := newKeylessWorld(t)
	var doc map[string]any
	if code, _ := get(t, srv.URL+OIDCPath+"/.well-known/openid-configuration", "", "", &doc); code != 200 {
		t.Fatalf("discovery: HTTP %d", code)
	}
	if doc["issuer"] != srv.URL+OIDCPath || doc["jwks_uri"] != srv.URL+OIDCPath+"/.well-known/jwks" {
		t.Errorf("discovery = %v", doc)
	}
}

func TestIDTokenCarriesGitHubClaims(t *testing.T) {
	t.Parallel()
	s, srv := newKeylessWorld(t)
	push := s.AddJob(Job{})
	prod := s.AddJob(Job{Repo: "beta", Environment: "prod", EventName: "workflow_dispatch", WorkflowFile: ".github/workflows/deploy.yml"})

	code, tok := idToken(t, srv.URL, push, "https://sts.example")
	if code != 200 {
		t.Fatalf("ID token: HTTP %d", code)
	}
	c, _ := verifyIDToken(t, srv.URL, tok)
	want := map[string]any{
		"iss": srv.URL + OIDCPath, "aud": "https://sts.example",
		"sub": "repo:octo-org/alpha:ref:refs/heads/main", "repository": "octo-org/alpha",
		"repository_owner": "octo-org", "ref": "refs/heads/main", "event_name": "push", "actor": "octocat",
		"workflow_ref":        "octo-org/alpha/.github/workflows/ci.yml@refs/heads/main",
		"job_workflow_ref":    "octo-org/alpha/.github/workflows/ci.yml@refs/heads/main",
		"repository_owner_id": "9001", "ref_type": "branch",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	for _, k := range []string{"sha", "run_id", "jti", "repository_id", "actor_id"} {
		if s, _ := c[k].(string); s == "" {
			t.Errorf("claim %s is missing", k)
		}
	}
	iat, exp := c["iat"].(float64), c["exp"].(float64)
	if time.Duration(exp-iat)*time.Second != IDTokenLifetime {
		t.Errorf("lifetime = %vs", exp-iat)
	}
	if _, ok := c["environment"]; ok {
		t.Error("a job without environment has an environment claim")
	}

	_, tok = idToken(t, srv.URL, prod, "")
	c, _ = verifyIDToken(t, srv.URL, tok)
	if c["sub"] != "repo:octo-org/beta:environment:prod" || c["environment"] != "prod" || c["aud"] != "https://github.com/octo-org" {
		t.Errorf("environment job: sub %v environment %v aud %v", c["sub"], c["environment"], c["aud"])
	}

	if code, _ := idToken(t, srv.URL, "", "x"); code != 401 {
		t.Errorf("no request token: HTTP %d, want 401", code)
	}
	if code, _ := idToken(t, srv.URL, "emulator-idreq-forged", "x"); code != 401 {
		t.Errorf("unknown request token: HTTP %d, want 401", code)
	}
}

func TestOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	s, srv := newKeylessWorld(t)
	job := s.AddJob(Job{})
	_, old := idToken(t, srv.URL, job, "a")
	_, oldKid := verifyIDToken(t, srv.URL, old)

	kid, err := s.RotateOIDCKey(true)
	if err != nil {
		t.Fatal(err)
	}
	_, fresh := idToken(t, srv.URL, job, "a")
	if _, k := verifyIDToken(t, srv.URL, fresh); k != kid || k == oldKid {
		t.Errorf("after rotation the token is signed by %q, want the new %q", k, kid)
	}
	verifyIDToken(t, srv.URL, old) // still published

	if _, err := s.RotateOIDCKey(false); err != nil {
		t.Fatal(err)
	}
	var jwks struct{ Keys []struct{ Kid string } }
	get(t, srv.URL+OIDCPath+"/.well-known/jwks", "", "", &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid == kid || jwks.Keys[0].Kid == oldKid {
		t.Errorf("after a hard rotation the JWKS holds %v", jwks.Keys)
	}
}
