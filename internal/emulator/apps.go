package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/org/app-token/internal/openapi"
)

// GitHub's answers to a JWT it refuses, word for word: clients recognise
// them (to correct their clock), so they must not drift.
const (
	msgUndecodable = "A JSON web token could not be decoded"
	msgIat         = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgExp         = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgExpTooFar   = "'Expiration time' claim ('exp') is too far in the future"
	msgNoApp       = "Integration not found"
	msgBadCreds    = "Bad credentials"
	msgNotFound    = "Not Found"
	msgRepos       = "There is at least one repository that does not exist or is not accessible to the parent installation."
	msgPerms       = "The permissions requested are not granted to this installation."
	msgSuspended   = "This installation has been suspended"
)

// maxJWTLifetime is GitHub's limit: exp no more than 10 minutes ahead.
const maxJWTLifetime = 10 * time.Minute

// tokenLifetime is how long GitHub's installation tokens live.
const tokenLifetime = time.Hour

// appFromJWT authenticates a request as an App the way GitHub does. It
// checks the JWT by hand rather than with a JWT library: GitHub is stricter
// than libraries (iat must be an integer; exp at most 10 minutes ahead of
// GitHub's clock) and the emulator must not share the client's library.
func (s *Server) appFromJWT(w http.ResponseWriter, r *http.Request) (*App, bool) {
	fail := func(msg string) (*App, bool) {
		writeError(w, http.StatusUnauthorized, msg)
		return nil, false
	}
	scheme, raw, ok := authorization(r)
	switch {
	case !ok:
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return nil, false
	case scheme != "bearer":
		// An installation token where a JWT belongs: GitHub takes a JWT
		// only as "Authorization: Bearer".
		return fail(msgUndecodable)
	}
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return fail(msgUndecodable)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		return fail(msgUndecodable)
	}
	var claims map[string]json.RawMessage
	if !decodeSegment(parts[1], &claims) {
		return fail(msgUndecodable)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fail(msgUndecodable)
	}
	app := s.appByIssuer(claims["iss"])
	if app == nil {
		return fail(msgNoApp)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&app.Key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return fail(msgUndecodable)
	}
	now := s.Now().Unix()
	iat, ok := integerClaim(claims["iat"])
	if !ok || iat > now {
		return fail(msgIat)
	}
	exp, ok := numericClaim(claims["exp"])
	if !ok || exp <= float64(now) {
		return fail(msgExp)
	}
	if exp > float64(now)+maxJWTLifetime.Seconds() {
		return fail(msgExpTooFar)
	}
	return app, true
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}

// integerClaim accepts a JSON integer only, as GitHub does for iat.
func integerClaim(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

func numericClaim(raw json.RawMessage) (float64, bool) {
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// appByIssuer finds the App named by iss: its ID (number or string) or its
// client ID, both of which GitHub accepts.
func (s *Server) appByIssuer(raw json.RawMessage) *App {
	var iss any
	if json.Unmarshal(raw, &iss) != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		switch v := iss.(type) {
		case float64:
			if v == float64(a.ID) {
				return a
			}
		case string:
			if v == a.ClientID || v == strconv.FormatInt(a.ID, 10) {
				return a
			}
		}
	}
	return nil
}

// authorization splits the Authorization header into its scheme, lower
// case, and credentials. GitHub takes "token" and "Bearer" in any case: an
// HTTP authentication scheme is case-insensitive (RFC 9110, section 11.1),
// and widely used clients send "bearer". ok is false without a header of
// either scheme.
func authorization(r *http.Request) (scheme, value string, ok bool) {
	scheme, value, _ = strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	scheme = strings.ToLower(scheme)
	value = strings.TrimSpace(value)
	if (scheme != "token" && scheme != "bearer") || value == "" {
		return "", "", false
	}
	return scheme, value, true
}

// headerToken returns the token of an "Authorization: token X" or
// "Bearer X" header.
func headerToken(r *http.Request) (string, bool) {
	_, value, ok := authorization(r)
	return value, ok
}

// tokenStyleHeader reads X-GitHub-Stateless-S2S-Token, with which a client
// chooses the format of the installation token it is issued: "enabled" for
// the long stateless format, "disabled" for the classic one. Without it the
// emulator's own style applies.
func tokenStyleHeader(r *http.Request) TokenStyle {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("X-GitHub-Stateless-S2S-Token"))) {
	case "enabled":
		return TokenStateless
	case "disabled":
		return TokenClassic
	}
	return TokenAlternate
}

// tokenFromRequest authenticates a request made with an installation token.
func (s *Server) tokenFromRequest(w http.ResponseWriter, r *http.Request) (*Token, bool) {
	value, ok := headerToken(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[value]
	if t == nil || t.Revoked || !s.clock().Before(t.ExpiresAt) {
		writeError(w, http.StatusUnauthorized, msgBadCreds)
		return nil, false
	}
	return t, true
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromJWT(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, integrationJSON(r, app))
}

func (s *Server) listInstallations(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromJWT(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var all []*Installation
	for _, in := range s.installations {
		if in.AppID == app.ID {
			all = append(all, in)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b *Installation) int { return int(a.ID - b.ID) })
	page, perPage := pageParams(r)
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	if end < len(all) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(perPage))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf("<%s%s>; rel=\"next\"", baseURL(r), next.RequestURI()))
	}
	out := make([]map[string]any, 0, end-start)
	for _, in := range all[start:end] {
		out = append(out, s.installationJSON(r, app, in))
	}
	writeJSON(w, http.StatusOK, out)
}

func pageParams(r *http.Request) (page, perPage int) {
	page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 || perPage > 100 {
		perPage = 30
	}
	return page, perPage
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// installationJSON is components.schemas.installation.
func (s *Server) installationJSON(r *http.Request, app *App, in *Installation) map[string]any {
	prefix := apiPrefix(r)
	var suspendedAt, suspendedBy any
	if in.Suspended {
		suspendedAt = created
		suspendedBy = simpleUserJSON(r, WorldUser, 583231, "User")
	}
	perms := in.Permissions
	if perms == nil {
		perms = map[string]string{}
	}
	return map[string]any{
		"id":                        in.ID,
		"app_id":                    app.ID,
		"app_slug":                  app.Slug,
		"client_id":                 app.ClientID,
		"target_type":               in.AccountType,
		"target_id":                 in.AccountID,
		"account":                   s.accountJSON(r, in),
		"repository_selection":      in.RepositorySelection,
		"permissions":               perms,
		"events":                    []string{},
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_at":              suspendedAt,
		"suspended_by":              suspendedBy,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", prefix, in.ID),
		"repositories_url":          prefix + "/installation/repositories",
		"html_url":                  fmt.Sprintf("%s/settings/installations/%d", baseURL(r), in.ID),
		"created_at":                created,
		"updated_at":                created,
	}
}

// installationFor finds app's installation matching pred.
func (s *Server) installationFor(app *App, pred func(*Installation) bool) *Installation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installations {
		if in.AppID == app.ID && pred(in) {
			return in
		}
	}
	return nil
}

// answerLookup authenticates the App and answers with its installation
// that match selects, or 404.
func (s *Server) answerLookup(w http.ResponseWriter, r *http.Request, match func(*Installation) bool) {
	app, ok := s.appFromJWT(w, r)
	if !ok {
		return
	}
	in := s.installationFor(app, match)
	if in == nil {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeJSON(w, http.StatusOK, s.installationJSON(r, app, in))
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	s.answerLookup(w, r, func(in *Installation) bool { return in.ID == id })
}

func (s *Server) repoInstallation(w http.ResponseWriter, r *http.Request) {
	owner, repo := r.PathValue("owner"), strings.TrimSuffix(r.PathValue("repo"), ".git")
	s.answerLookup(w, r, func(in *Installation) bool {
		return strings.EqualFold(in.Account, owner) && containsFold(in.Repositories, repo)
	})
}

func (s *Server) orgInstallation(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("org")
	s.answerLookup(w, r, func(in *Installation) bool {
		return in.AccountType == "Organization" && strings.EqualFold(in.Account, org)
	})
}

// userInstallation answers GET /users/{username}/installation, which GitHub
// serves for organizations too.
func (s *Server) userInstallation(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("username")
	s.answerLookup(w, r, func(in *Installation) bool {
		return in.AccountType != "Enterprise" && strings.EqualFold(in.Account, user)
	})
}

// enterpriseInstallation answers GET /enterprises/{enterprise}/installation
// (described for GitHub Enterprise Cloud: "Get an enterprise installation
// for the authenticated app"); enterprise is the enterprise's slug.
func (s *Server) enterpriseInstallation(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("enterprise")
	s.answerLookup(w, r, func(in *Installation) bool {
		return in.AccountType == "Enterprise" && strings.EqualFold(in.Account, slug)
	})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u := s.users[strings.ToLower(r.PathValue("username"))]
	s.mu.Unlock()
	if u == nil {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(r, u))
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func repoID(owner, name string) int64 {
	h := fnv.New32a()
	io.WriteString(h, strings.ToLower(owner+"/"+name))
	return int64(h.Sum32()%900_000_000) + 100_000_000
}

// permissionLevels orders the levels: a token may be asked for no more than
// the installation was granted.
var permissionLevels = map[string]int{"read": 1, "write": 2, "admin": 3}

// checkPermissions refuses a token request's permissions as GitHub's request
// schema for the endpoint does (app-permissions: a fixed set of names, each
// with an enum of levels), in GitHub's words for a body that fails its
// schema. The table is internal/openapi's, vendored from the description.
func checkPermissions(requested map[string]string) string {
	names := slices.Sorted(maps.Keys(requested))
	for _, name := range names {
		levels, ok := openapi.Permissions()[name]
		if !ok {
			return fmt.Sprintf("Invalid request.\n\n%q is not a permitted key.", name)
		}
		if !slices.Contains(levels, requested[name]) {
			q := make([]string, len(levels))
			for i, l := range levels {
				q[i] = strconv.Quote(l)
			}
			return fmt.Sprintf("Invalid request.\n\nFor 'properties/%s', %q is not a member of [%s].", name, requested[name], strings.Join(q, ", "))
		}
	}
	return ""
}

// createToken answers POST /app/installations/{id}/access_tokens.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appFromJWT(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	in := s.installationFor(app, func(in *Installation) bool { return in.ID == id })
	if in == nil {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if in.Suspended {
		writeError(w, http.StatusForbidden, msgSuspended)
		return
	}
	var body struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	var repos []string
	for _, name := range body.Repositories {
		i := slices.IndexFunc(in.Repositories, func(x string) bool { return strings.EqualFold(x, name) })
		if i < 0 {
			writeError(w, http.StatusUnprocessableEntity, msgRepos)
			return
		}
		repos = append(repos, in.Repositories[i])
	}
	for _, rid := range body.RepositoryIDs {
		i := slices.IndexFunc(in.Repositories, func(x string) bool { return repoID(in.Account, x) == rid })
		if i < 0 {
			writeError(w, http.StatusUnprocessableEntity, msgRepos)
			return
		}
		repos = append(repos, in.Repositories[i])
	}
	perms := in.Permissions
	if len(body.Permissions) > 0 {
		if msg := checkPermissions(body.Permissions); msg != "" {
			writeError(w, http.StatusUnprocessableEntity, msg)
			return
		}
		for name, level := range body.Permissions {
			if permissionLevels[in.Permissions[name]] < permissionLevels[level] {
				writeError(w, http.StatusUnprocessableEntity, msgPerms)
				return
			}
		}
		perms = body.Permissions
	}

	s.mu.Lock()
	tok := &Token{
		Value:          s.newTokenValue(app.ID, tokenStyleHeader(r)),
		InstallationID: in.ID,
		AppID:          app.ID,
		ExpiresAt:      s.clock().Add(tokenLifetime).Truncate(time.Second),
		Repositories:   repos,
		Permissions:    perms,
	}
	s.tokens[tok.Value] = tok
	s.mu.Unlock()

	if perms == nil {
		perms = map[string]string{}
	}
	resp := map[string]any{
		"token":                tok.Value,
		"expires_at":           tok.ExpiresAt.UTC().Format(time.RFC3339),
		"permissions":          perms,
		"repository_selection": in.RepositorySelection,
	}
	if repos != nil {
		resp["repository_selection"] = "selected"
		list := make([]map[string]any, 0, len(repos))
		for _, name := range repos {
			list = append(list, s.repoJSON(r, in, name))
		}
		resp["repositories"] = list
	}
	writeJSON(w, http.StatusCreated, resp)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newTokenValue makes an unguessable token of the configured shape. Called
// with s.mu held.
func (s *Server) newTokenValue(appID int64, style TokenStyle) string {
	s.issued++
	if style == TokenAlternate {
		style = s.style
	}
	if style == TokenAlternate {
		style = TokenClassic
		if s.issued%2 == 0 {
			style = TokenStateless
		}
	}
	if style == TokenClassic {
		b := make([]byte, 36)
		rand.Read(b)
		for i := range b {
			b[i] = alnum[int(b[i])%len(alnum)]
		}
		return "ghs_" + string(b)
	}
	seg := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return fmt.Sprintf("ghs_%d_%s.%s.%s", appID, seg(27), seg(300), seg(48))
}

// installationRepositories answers GET /installation/repositories for an
// installation token.
func (s *Server) installationRepositories(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tokenFromRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	in := s.installations[t.InstallationID]
	repos := t.Repositories
	if repos == nil {
		repos = in.Repositories
	}
	s.mu.Unlock()
	list := make([]map[string]any, 0, len(repos))
	for _, name := range repos {
		list = append(list, s.repoJSON(r, in, name))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total_count": len(list), "repository_selection": in.RepositorySelection, "repositories": list,
	})
}

// revokeToken answers DELETE /installation/token: 204, and the token is dead.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	t, ok := s.tokenFromRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	t.Revoked = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
