package appauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

// The advice that holds for every App call, by what GitHub answered.
func TestCommonAdvice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fault  emulator.Fault
		status int
		want   string
	}{
		{"JWT times refused twice",
			emulator.Fault{Path: "/app", Status: 401, Message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued", Times: 2},
			401, "GitHub refused the JWT's times even after correcting for the clock difference: check this machine's clock"},
		{"other 401", emulator.Fault{Path: "/app", Status: 401, Message: "Bad credentials"}, 401, "GitHub refused the credentials"},
		{"403", emulator.Fault{Path: "/app", Status: 403, Message: "Resource not accessible by integration"}, 403, "GitHub refused the request: check the app's permissions and the installation's settings"},
		{"404", emulator.Fault{Path: "/app", Status: 404, Message: "Not Found"}, 404, "not found: check the owner and repository names"},
		{"422", emulator.Fault{Path: "/app", Status: 422, Message: "Unprocessable"}, 422, "GitHub answered 422: Unprocessable"},
	} {
		emu, srv := world(t)
		emu.Inject(tc.fault)
		_, err := newApp(t, srv.URL).Info(t.Context())
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != tc.status || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %q", tc.name, err, tc.want)
		}
	}
}

// A token call GitHub refuses (401) is refused as credentials; a bot user
// GitHub does not know is "not found".
func TestAdviceForTokenCalls(t *testing.T) {
	t.Parallel()
	emu, srv := world(t)
	a := newApp(t, srv.URL)
	tok, err := a.Mint(t.Context(), Request{Owner: emulator.WorldOrg})
	if err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{Path: "/users/", Status: 401, Message: "Bad credentials"})
	_, _, err = a.BotUser(t.Context(), tok.Value.Reveal(), emulator.WorldAppSlug)
	if err == nil || !strings.HasPrefix(err.Error(), "GitHub refused the credentials (GitHub answered 401: Bad credentials)") {
		t.Errorf("BotUser refused: %v", err)
	}
	_, _, err = a.BotUser(t.Context(), tok.Value.Reveal(), "no-such-app")
	if err == nil || !strings.HasPrefix(err.Error(), "not found: check the owner and repository names") {
		t.Errorf("BotUser of an unknown app: %v", err)
	}
}
