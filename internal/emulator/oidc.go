package emulator

// GitHub Actions' OIDC provider and the runner's ID-token endpoint, as
// documented:
//   - Claims and issuer: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
//   - The runner's request: ACTIONS_ID_TOKEN_REQUEST_URL with "&audience=",
//     "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN", answering
//     {"value": "<jwt>"} (@actions/core's getIDToken).
//   - Discovery: https://openid.net/specs/openid-connect-discovery-1_0.html
//
// The issuer is GHES's shape, BASE/_services/token, where BASE is the URL
// the request reached: the discovery document and JWKS live under it, at
// the root only (not under /api/v3), as on GHES.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OIDCPath is where the emulator's OIDC issuer lives below its base URL.
const OIDCPath = "/_services/token"

// IDTokenLifetime is how long the ID tokens the runner endpoint issues live.
// GitHub's documented example token has exp − iat = 300 s.
const IDTokenLifetime = 5 * time.Minute

// Job is a workflow job that may ask the runner for ID tokens. Empty fields
// take NewWorld's defaults (octo-org/alpha on main, a push).
type Job struct {
	Owner, Repo string
	Ref         string // "refs/heads/main"
	SHA         string
	EventName   string // "push"
	Environment string // when set, the subject is repo:O/R:environment:ENV
	Actor       string
	RunID       string
	Workflow    string // the workflow's name
	// WorkflowFile is the path of the workflow in the repository
	// (".github/workflows/ci.yml"), for workflow_ref and job_workflow_ref.
	WorkflowFile string
	// JobWorkflowRef overrides job_workflow_ref (a reusable workflow).
	JobWorkflowRef string
}

type oidcKey struct {
	kid string
	key *rsa.PrivateKey
}

// oidcState is the OIDC issuer's keys and the jobs that may request tokens.
type oidcState struct {
	mu   sync.Mutex
	keys []oidcKey // the last one signs; every one is published
	jobs map[string]*Job
}

// routeOIDC mounts the issuer's discovery document and JWKS, and the
// runner's ID-token endpoint.
func (s *Server) routeOIDC() {
	s.mux.HandleFunc("GET "+OIDCPath+"/.well-known/openid-configuration", s.oidcDiscovery)
	s.mux.HandleFunc("GET "+OIDCPath+"/.well-known/jwks", s.oidcJWKS)
	s.mux.HandleFunc("GET "+OIDCPath+"/idtoken", s.idToken)
}

// OIDCIssuer is the issuer URL of the emulator served at base.
func OIDCIssuer(base string) string { return strings.TrimSuffix(base, "/") + OIDCPath }

// IDTokenRequestURL is what ACTIONS_ID_TOKEN_REQUEST_URL holds for the
// emulator served at base; clients append "&audience=...".
func IDTokenRequestURL(base string) string { return OIDCIssuer(base) + "/idtoken?api-version=2.0" }

// currentKey returns the signing key, making the first one on first use.
func (o *oidcState) currentKey() (oidcKey, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.keys) == 0 {
		if err := o.addKeyLocked(); err != nil {
			return oidcKey{}, err
		}
	}
	return o.keys[len(o.keys)-1], nil
}

func (o *oidcState) addKeyLocked() error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	b := make([]byte, 8)
	rand.Read(b)
	o.keys = append(o.keys, oidcKey{kid: hex.EncodeToString(b), key: k})
	return nil
}

// RotateOIDCKey makes a new signing key and returns its kid. With keepOld
// the previous keys stay in the JWKS (a rotation in progress, as providers
// publish the next key before signing with it); without, tokens signed by
// them no longer verify.
func (s *Server) RotateOIDCKey(keepOld bool) (string, error) {
	o := &s.oidc
	o.mu.Lock()
	defer o.mu.Unlock()
	if !keepOld {
		o.keys = nil
	}
	if err := o.addKeyLocked(); err != nil {
		return "", err
	}
	return o.keys[len(o.keys)-1].kid, nil
}

// OIDCPublicKey returns the current signing key's public half and kid.
func (s *Server) OIDCPublicKey() (*rsa.PublicKey, string, error) {
	k, err := s.oidc.currentKey()
	if err != nil {
		return nil, "", err
	}
	return &k.key.PublicKey, k.kid, nil
}

// SignIDToken signs claims as the issuer does (RS256, the current kid), for
// tests that need a token the runner endpoint would not issue (expired, for
// another audience). claims are sent as given.
func (s *Server) SignIDToken(claims map[string]any) (string, error) {
	k, err := s.oidc.currentKey()
	if err != nil {
		return "", err
	}
	return signRS256(k, claims)
}

func signRS256(k oidcKey, claims map[string]any) (string, error) {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": k.kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// AddJob registers a job and returns its ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (s *Server) AddJob(j Job) string {
	b := make([]byte, 20)
	rand.Read(b)
	tok := "emulator-idreq-" + hex.EncodeToString(b)
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.jobs == nil {
		s.oidc.jobs = map[string]*Job{}
	}
	s.oidc.jobs[tok] = &j
	return tok
}

func (s *Server) oidcDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := OIDCIssuer(baseURL(r))
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks",
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id", "repository_owner", "repository_owner_id", "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "ref_protected", "environment", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (s *Server) oidcJWKS(w http.ResponseWriter, _ *http.Request) {
	if _, err := s.oidc.currentKey(); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.oidc.mu.Lock()
	keys := make([]map[string]any, 0, len(s.oidc.keys))
	for _, k := range s.oidc.keys {
		pub := k.key.PublicKey
		keys = append(keys, map[string]any{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": k.kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	s.oidc.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// idToken answers the runner's ID-token request. Without audience, the
// token's aud is the owner's URL, as GitHub's default is.
func (s *Server) idToken(w http.ResponseWriter, r *http.Request) {
	value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.oidc.mu.Lock()
	job := s.oidc.jobs[strings.TrimSpace(value)]
	s.oidc.mu.Unlock()
	if !ok || job == nil {
		writeError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	claims := s.jobClaims(*job, OIDCIssuer(baseURL(r)), r.URL.Query().Get("audience"))
	tok, err := s.SignIDToken(claims)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(tok), "value": tok})
}

// jobClaims are the claims GitHub puts in a job's ID token.
func (s *Server) jobClaims(j Job, issuer, audience string) map[string]any {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&j.Owner, WorldOrg)
	def(&j.Repo, "alpha")
	def(&j.Ref, "refs/heads/main")
	def(&j.SHA, "5e0f9a1c2b3d4e5f60718293a4b5c6d7e8f90a1b")
	def(&j.EventName, "push")
	def(&j.Actor, WorldUser)
	def(&j.RunID, "8400000001")
	def(&j.Workflow, "CI")
	def(&j.WorkflowFile, ".github/workflows/ci.yml")
	repo := j.Owner + "/" + j.Repo
	workflowRef := repo + "/" + j.WorkflowFile + "@" + j.Ref
	def(&j.JobWorkflowRef, workflowRef)
	def(&audience, "https://github.com/"+j.Owner)

	sub := "repo:" + repo + ":ref:" + j.Ref
	switch {
	case j.Environment != "":
		sub = "repo:" + repo + ":environment:" + j.Environment
	case j.EventName == "pull_request":
		sub = "repo:" + repo + ":pull_request"
	}
	refType := "branch"
	if strings.HasPrefix(j.Ref, "refs/tags/") {
		refType = "tag"
	}
	now := s.Now().Unix()
	jti := make([]byte, 16)
	rand.Read(jti)
	c := map[string]any{
		"jti": hex.EncodeToString(jti), "sub": sub, "aud": audience,
		"ref": j.Ref, "sha": j.SHA,
		"repository": repo, "repository_owner": j.Owner,
		"repository_id":         strconv.FormatInt(repoID(j.Owner, j.Repo), 10),
		"repository_owner_id":   strconv.FormatInt(s.accountID(j.Owner), 10),
		"repository_visibility": "private",
		"run_id":                j.RunID, "run_number": "1", "run_attempt": "1",
		"runner_environment": "github-hosted",
		"actor":              j.Actor, "actor_id": strconv.FormatInt(s.accountID(j.Actor), 10),
		"workflow": j.Workflow, "workflow_ref": workflowRef, "workflow_sha": j.SHA,
		"job_workflow_ref": j.JobWorkflowRef, "job_workflow_sha": j.SHA,
		"head_ref": "", "base_ref": "",
		"event_name": j.EventName, "ref_type": refType, "ref_protected": "false",
		"iss": issuer, "nbf": now, "iat": now, "exp": now + int64(IDTokenLifetime/time.Second),
	}
	if j.Environment != "" {
		c["environment"] = j.Environment
	}
	return c
}

// accountID is the id of a known user or organization, else a stable
// made-up one.
func (s *Server) accountID(login string) int64 {
	s.mu.Lock()
	u := s.users[strings.ToLower(login)]
	s.mu.Unlock()
	if u != nil {
		return u.ID
	}
	return repoID(login, "")
}
