package oauth

import (
	"errors"
	"net/http"
	"testing"
)

// REST calls ask for GitHub's JSON at the pinned API version; a call with a
// body declares it as JSON, a call without one declares no body type.
func TestRESTRequestsDeclareWhatTheySend(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	s.on("/api/v3/user", answer{body: `{"login":"octocat","id":1}`})
	s.on("/api/v3/applications/Iv1.scripted/token", answer{status: http.StatusNoContent})
	c := s.client(t, Config{ClientSecret: "secret"})
	if u, err := c.User(t.Context(), "ghu_a"); err != nil || u.Login != "octocat" {
		t.Fatalf("User = %+v, %v", u, err)
	}
	if err := c.Revoke(t.Context(), "ghu_a"); err != nil {
		t.Fatal(err)
	}
	get, del := s.requests("/api/v3/user")[0].header, s.requests("/api/v3/applications/Iv1.scripted/token")[0].header
	for _, h := range []http.Header{get, del} {
		if h.Get("Accept") != "application/vnd.github+json" || h.Get("X-GitHub-Api-Version") != "2022-11-28" {
			t.Errorf("Accept %q, API version %q", h.Get("Accept"), h.Get("X-GitHub-Api-Version"))
		}
	}
	if got := get.Get("Content-Type"); got != "" {
		t.Errorf("GET /user declares a body of type %q", got)
	}
	if got := del.Get("Content-Type"); got != "application/json" {
		t.Errorf("DELETE .../token declares Content-Type %q, want application/json", got)
	}
}

// A REST error keeps GitHub's message (cleaned) and status.
func TestRESTErrorsKeepGitHubsMessage(t *testing.T) {
	t.Parallel()
	s := newScripted(t)
	s.on("/api/v3/user", answer{status: 401, body: `{"message":"Bad\u001bcredentials"}`}, answer{status: 500, ctype: "text/html", body: "<html>"})
	s.on("/api/v3/applications/Iv1.scripted/token", answer{status: 422, body: `{"message":"Validation Failed"}`})
	c := s.client(t, Config{ClientSecret: "secret"})
	for _, want := range []APIError{{401, "Bad credentials"}, {500, ""}} {
		_, err := c.User(t.Context(), "ghu_a")
		var ae *APIError
		if !errors.As(err, &ae) || *ae != want {
			t.Errorf("User: error = %v, want %+v", err, want)
		}
	}
	var ae *APIError
	if err := c.Revoke(t.Context(), "ghu_a"); !errors.As(err, &ae) || *ae != (APIError{422, "Validation Failed"}) {
		t.Errorf("Revoke: error = %v", err)
	}
}
