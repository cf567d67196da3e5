package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/org/app-token/internal/appauth"
	"github.com/org/app-token/internal/sts/policy"
)

// Response is the exchange's answer. Token alone is octo-sts's answer; the
// rest says what the token can do. Repositories is null when the token
// reaches every repository of the installation.
type Response struct {
	Token          string            `json:"token"`
	ExpiresAt      time.Time         `json:"expires_at"`
	InstallationID int64             `json:"installation_id"`
	Permissions    map[string]string `json:"permissions"`
	Repositories   []string          `json:"repositories"`
}

// refusal is an exchange we decline: the HTTP status, the outcome label of
// the metrics and audit line, and a message for the caller.
type refusal struct {
	status  int
	outcome string
	msg     string
}

func (r *refusal) Error() string { return r.msg }

func refuse(status int, outcome, format string, args ...any) *refusal {
	return &refusal{status: status, outcome: outcome, msg: fmt.Sprintf(format, args...)}
}

// Outcomes, the values of the "outcome" label.
const (
	outcomeGranted       = "granted"
	outcomeBadRequest    = "bad_request"
	outcomeUnauth        = "unauthenticated"
	outcomeRateLimited   = "rate_limited"
	outcomeNoInstall     = "no_installation"
	outcomeNoPolicy      = "no_policy"
	outcomeInvalidPolicy = "invalid_policy"
	outcomeDenied        = "denied"
	outcomeUpstream      = "upstream_error"
)

var (
	ownerName    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoName     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	identityName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$`)
)

// request is one exchange as it goes: what the caller asked, what we found.
type request struct {
	scope, owner, repo, identity string
	claims                       *policy.Claims
	inst                         *appauth.Installation
	tok                          *appauth.Token
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &request{}
	resp, err := s.decide(r, req)
	outcome := outcomeGranted
	status := http.StatusOK
	var rf *refusal
	if err != nil {
		if !errors.As(err, &rf) {
			rf = refuse(http.StatusBadGateway, outcomeUpstream, "%v", err)
		}
		outcome, status = rf.outcome, rf.status
	}
	s.metrics.exchanges.WithLabelValues(outcome).Inc()
	s.metrics.duration.Observe(time.Since(start).Seconds())
	s.audit(r.Context(), req, outcome, rf, time.Since(start))

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if rf != nil {
		if rf.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": rf.msg})
		return
	}
	json.NewEncoder(w).Encode(resp)
}

// decide is the exchange: parse, verify, limit, find the installation,
// load the policy, check, mint. Nothing the caller sends beyond scope and
// identity is read; the grant is the policy's, never more.
func (s *Server) decide(r *http.Request, req *request) (*Response, error) {
	ctx := r.Context()
	if err := s.parse(r, req); err != nil {
		return nil, err
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, refuse(http.StatusUnauthorized, outcomeUnauth, "no ID token: send it as \"Authorization: Bearer <token>\"")
	}
	claims, err := s.verifier.verify(ctx, strings.TrimSpace(raw))
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) {
			return nil, refuse(http.StatusUnauthorized, outcomeUnauth, "%s", te.msg)
		}
		return nil, refuse(http.StatusServiceUnavailable, outcomeUpstream, "%v", err)
	}
	req.claims = claims
	if !s.limiter.allow(claims.Issuer + "\x00" + claims.Subject) {
		return nil, refuse(http.StatusTooManyRequests, outcomeRateLimited, "too many exchanges for the subject %q: at most %g a second; retry shortly", claims.Subject, s.cfg.RateLimit)
	}
	if len(s.cfg.Owners) > 0 && !slices.ContainsFunc(s.cfg.Owners, func(o string) bool { return strings.EqualFold(o, req.owner) }) {
		return nil, refuse(http.StatusForbidden, outcomeDenied, "this exchange does not serve the owner %q (it serves %s)", req.owner, strings.Join(s.cfg.Owners, ", "))
	}

	inst, err := s.installation(ctx, req)
	if err != nil {
		return nil, err
	}
	req.inst = inst

	tp, err := s.policy(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := tp.Check(*claims, s.cfg.Audiences); err != nil {
		return nil, refuse(http.StatusForbidden, outcomeDenied, "the trust policy %s does not trust this token: %v", s.policyFile(req), err)
	}
	if err := checkPermissions(inst, tp.Permissions); err != nil {
		return nil, err
	}

	repos := tp.Repositories // organization policy: its list, or nil for all
	if req.repo != "" {
		repos = []string{req.repo}
	}
	tok, err := s.app.CreateToken(ctx, inst, repos, tp.Permissions)
	if err != nil {
		return nil, upstream("mint the installation token", err)
	}
	req.tok = tok
	return &Response{
		Token:          tok.Value.Reveal(),
		ExpiresAt:      tok.ExpiresAt,
		InstallationID: tok.InstallationID,
		Permissions:    tok.Permissions,
		Repositories:   tok.Repositories,
	}, nil
}

// parse reads scope and identity from the query (and, for POST, a form or
// JSON body).
func (s *Server) parse(r *http.Request, req *request) error {
	q := r.URL.Query()
	req.scope, req.identity = q.Get("scope"), q.Get("identity")
	if r.Method == http.MethodPost && (req.scope == "" || req.identity == "") {
		var body struct{ Scope, Identity string }
		switch ct := r.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "application/json"):
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				return refuse(http.StatusBadRequest, outcomeBadRequest, "the JSON body does not decode: %v", err)
			}
		case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
			if err := r.ParseForm(); err != nil {
				return refuse(http.StatusBadRequest, outcomeBadRequest, "the form body does not decode: %v", err)
			}
			body.Scope, body.Identity = r.PostForm.Get("scope"), r.PostForm.Get("identity")
		}
		req.scope = cmpOr(req.scope, body.Scope)
		req.identity = cmpOr(req.identity, body.Identity)
	}
	var errs []string
	owner, repo, hasRepo := strings.Cut(req.scope, "/")
	switch {
	case req.scope == "":
		errs = append(errs, "scope is missing: pass scope=OWNER/REPO (a repository policy) or scope=OWNER (an organization policy)")
	case !ownerName.MatchString(owner) || hasRepo && (!repoName.MatchString(repo) || repo == "." || repo == ".."):
		errs = append(errs, fmt.Sprintf("scope %q is not OWNER or OWNER/REPO", req.scope))
	}
	switch {
	case req.identity == "":
		errs = append(errs, "identity is missing: pass identity=NAME, the policy .github/chainguard/NAME.sts.yaml")
	case !identityName.MatchString(req.identity):
		errs = append(errs, fmt.Sprintf("identity %q is not a policy name (letters, digits, '.', '_', '-')", req.identity))
	}
	if len(errs) > 0 {
		return refuse(http.StatusBadRequest, outcomeBadRequest, "%s", strings.Join(errs, "; "))
	}
	req.owner, req.repo = owner, repo
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// installation finds the App's installation for the scope, from the cache
// when it can.
func (s *Server) installation(ctx context.Context, req *request) (*appauth.Installation, error) {
	inst, err := s.installs.get(ctx, req.scope, func() (*appauth.Installation, error) {
		if req.repo != "" {
			return s.app.InstallationForRepo(ctx, req.owner, req.repo)
		}
		return s.app.InstallationForOwner(ctx, req.owner)
	})
	if err != nil {
		var ae *appauth.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil, refuse(http.StatusForbidden, outcomeNoInstall, "%s", ae.Advice)
		}
		return nil, upstream("find the App's installation", err)
	}
	if !strings.EqualFold(inst.Account, req.owner) {
		// GitHub's lookup is by owner; an answer for another account would
		// let one owner's policy grant another's repositories.
		return nil, refuse(http.StatusForbidden, outcomeDenied, "the installation found for %q belongs to %q", req.owner, inst.Account)
	}
	if inst.Suspended {
		return nil, refuse(http.StatusForbidden, outcomeNoInstall, "the App's installation on %s is suspended: an owner of the account must unsuspend it", inst.Account)
	}
	return inst, nil
}

// upstream turns GitHub's refusal into one for the caller, keeping
// appauth's advice; other failures (network, 5xx) stay errors.
func upstream(what string, err error) error {
	var ae *appauth.APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusUnprocessableEntity || ae.Status == http.StatusNotFound) {
		return refuse(http.StatusForbidden, outcomeDenied, "%s: %v", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

var rank = map[string]int{"read": 1, "write": 2, "admin": 3}

// checkPermissions refuses a policy that grants more than the installation
// has, naming each permission, before GitHub is asked.
func checkPermissions(inst *appauth.Installation, perms map[string]string) error {
	if inst.Permissions == nil {
		return nil
	}
	var missing []string
	for _, name := range slices.Sorted(mapsKeys(perms)) {
		has := inst.Permissions[name]
		if rank[has] < rank[perms[name]] {
			missing = append(missing, fmt.Sprintf("%s: %s (it has %s)", name, perms[name], cmpOr(has, "none")))
		}
	}
	if len(missing) > 0 {
		return refuse(http.StatusForbidden, outcomeDenied, "the policy grants more than the App's installation on %s has: %s; lower the policy, or have an owner grant the App more",
			inst.Account, strings.Join(missing, ", "))
	}
	return nil
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// policyRepo is the repository that holds the request's policy.
func policyRepo(req *request) string {
	if req.repo != "" {
		return req.repo
	}
	return policy.OrgRepo
}

func (s *Server) policyFile(req *request) string {
	return req.owner + "/" + policyRepo(req) + "/" + policy.Path(req.identity)
}

var errNoPolicy = errors.New("no policy")

// policy returns the request's trust policy: from the cache while it is
// fresh, else read from GitHub (revalidated by ETag when it was read
// before).
func (s *Server) policy(ctx context.Context, req *request) (*policy.TrustPolicy, error) {
	key := strings.ToLower(req.owner+"/"+policyRepo(req)) + "/" + req.identity
	e := s.policies.entry(key)
	if e != nil && s.now().Before(e.expires) {
		s.metrics.policies.WithLabelValues("hit").Inc()
	} else {
		err := s.policies.do(ctx, key, func() error { return s.readPolicy(ctx, req, key, e) })
		if err != nil {
			return nil, err
		}
		e = s.policies.entry(key)
	}
	file := s.policyFile(req)
	switch {
	case errors.Is(e.err, errNoPolicy):
		org := ""
		if req.repo == "" {
			org = " (an organization policy lives in the owner's .github repository)"
		}
		return nil, refuse(http.StatusNotFound, outcomeNoPolicy, "no trust policy %s: add it to the default branch%s", file, org)
	case e.err != nil:
		return nil, refuse(http.StatusForbidden, outcomeInvalidPolicy, "the trust policy is invalid: %v", e.err)
	}
	return e.tp, nil
}

// readPolicy reads the policy file with a contents:read token of the
// installation, narrowed to the policy's repository and revoked when done,
// and caches what it found. prev is the stale entry, for If-None-Match.
func (s *Server) readPolicy(ctx context.Context, req *request, key string, prev *policyEntry) error {
	repo := policyRepo(req)
	if p := req.inst.Permissions; p != nil && rank[p["contents"]] < rank["read"] {
		return refuse(http.StatusForbidden, outcomeDenied, "the App's installation on %s cannot read trust policies: grant the App contents: read", req.inst.Account)
	}
	tok, err := s.app.CreateToken(ctx, req.inst, []string{repo}, map[string]string{"contents": "read"})
	if err != nil {
		var ae *appauth.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity && req.repo == "" && strings.Contains(ae.Message, "repositor") {
			// The installation does not reach OWNER/.github.
			s.policies.put(key, &policyEntry{err: errNoPolicy})
			return nil
		}
		return upstream("get a token to read the trust policy", err)
	}
	defer func() {
		// The revocation must happen even when the caller has gone.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.app.Revoke(rctx, tok.Value.Reveal()); err != nil {
			s.log.Warn("revoke the policy-reading token", "error", err.Error(), "installation_id", req.inst.ID)
		}
	}()

	etag := ""
	if prev != nil {
		etag = prev.etag
	}
	content, newTag, status, err := s.getContents(ctx, tok.Value.Reveal(), req.owner, repo, policy.Path(req.identity), etag)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusNotModified:
		s.metrics.policies.WithLabelValues("not_modified").Inc()
		s.policies.put(key, &policyEntry{tp: prev.tp, err: prev.err, etag: prev.etag})
		return nil
	case http.StatusNotFound:
		s.metrics.policies.WithLabelValues("read").Inc()
		s.policies.put(key, &policyEntry{err: errNoPolicy})
		return nil
	}
	s.metrics.policies.WithLabelValues("read").Inc()
	tp, perr := policy.Parse(s.policyFile(req), content, req.repo == "")
	s.policies.put(key, &policyEntry{tp: tp, err: perr, etag: newTag})
	return nil
}

// maxContents bounds the contents answer: the file (MaxSize), base64
// encoded, and the JSON around it.
const maxContents = policy.MaxSize*2 + 16<<10

// getContents GETs a file through the contents API. It is written here
// rather than with go-github's GetContents, which neither sends
// If-None-Match nor treats 304 as an answer; redirects are not followed,
// so the token never reaches another host. status is 200, 304 or 404.
func (s *Server) getContents(ctx context.Context, token, owner, repo, path, etag string) (content []byte, newTag string, status int, err error) {
	u := s.api.JoinPath("repos", owner, repo, "contents")
	u = u.JoinPath(strings.Split(path, "/")...)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "app-token")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	c := *s.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", 0, fmt.Errorf("read the trust policy from %s: %w", s.api.Host, unwrapURL(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified, http.StatusNotFound:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, "", resp.StatusCode, nil
	case http.StatusOK:
	default:
		return nil, "", 0, fmt.Errorf("read the trust policy %s/%s/%s: GitHub answered %d", owner, repo, path, resp.StatusCode)
	}
	var file struct {
		Type, Encoding, Content string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxContents)).Decode(&file); err != nil {
		return nil, "", 0, fmt.Errorf("read the trust policy %s/%s/%s: %w", owner, repo, path, err)
	}
	if file.Type != "file" || file.Encoding != "base64" {
		// A directory, a symlink, or a file over 1 MB (encoding "none").
		return []byte{}, resp.Header.Get("ETag"), http.StatusOK, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(file.Content))
	if err != nil {
		return nil, "", 0, fmt.Errorf("read the trust policy %s/%s/%s: the content is not base64", owner, repo, path)
	}
	return b, resp.Header.Get("ETag"), http.StatusOK, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// audit writes the one line per exchange: who asked, for what, what they
// got. Never the token: its SHA-256 (base64), which GitHub's audit log
// shows as hashed_token, ties the two logs together.
func (s *Server) audit(ctx context.Context, req *request, outcome string, rf *refusal, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("outcome", outcome),
		slog.String("scope", req.scope),
		slog.String("identity", req.identity),
	}
	if c := req.claims; c != nil {
		attrs = append(attrs, slog.String("issuer", c.Issuer), slog.String("subject", c.Subject))
		for _, k := range []string{"repository", "workflow_ref", "run_id", "actor"} {
			if v, ok := c.All[k].(string); ok {
				attrs = append(attrs, slog.String(k, v))
			}
		}
	}
	if req.inst != nil {
		attrs = append(attrs, slog.Int64("installation_id", req.inst.ID))
	}
	if t := req.tok; t != nil {
		sum := sha256.Sum256([]byte(t.Value.Reveal()))
		perms := make([]string, 0, len(t.Permissions))
		for k, v := range t.Permissions {
			perms = append(perms, k+":"+v)
		}
		sort.Strings(perms)
		repos := t.Repositories
		if repos == nil {
			repos = []string{"*"}
		}
		attrs = append(attrs,
			slog.Any("permissions", perms), slog.Any("repositories", repos),
			slog.Time("expires_at", t.ExpiresAt),
			slog.String("hashed_token", base64.StdEncoding.EncodeToString(sum[:])))
	}
	level := slog.LevelInfo
	if rf != nil {
		attrs = append(attrs, slog.String("reason", rf.msg))
		if rf.outcome == outcomeUpstream {
			level = slog.LevelError
		}
	}
	attrs = append(attrs, slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	s.log.LogAttrs(ctx, level, "exchange", attrs...)
}
