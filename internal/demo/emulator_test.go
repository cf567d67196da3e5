package demo

import (
	"strings"
	"testing"

	"github.com/org/app-token/internal/emulator"
)

func TestParseFault(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]emulator.Fault{
		"POST /app/installations=503*2": {Method: "POST", Path: "/app/installations", Status: 503, Times: 2},
		"/login/device/code=drop":       {Path: "/login/device/code", Drop: true},
		" get /user = 429 ":             {Method: "GET", Path: "/user", Status: 429},
	} {
		got, err := ParseFault(in)
		if err != nil || got.Method != want.Method || got.Path != want.Path || got.Status != want.Status || got.Times != want.Times || got.Drop != want.Drop {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/x", "x=503", "/x=200", "/x=abc", "/x=503*0", "/x=503*y", "POST=503"} {
		if _, err := ParseFault(in); err == nil || !strings.Contains(err.Error(), "") {
			t.Errorf("ParseFault(%q) accepted", in)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"POST /app/installations=503*2", "/login/device/code=drop", "/x=", "=", "GET  /=599*1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFault(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got.Path, "/") || (!got.Drop && (got.Status < 400 || got.Status > 599)) || got.Times < 0 {
			t.Errorf("ParseFault(%q) = %+v", s, got)
		}
	})
}

func TestBannerSaysWhenAnswersAreUnchecked(t *testing.T) {
	t.Parallel()
	f := Files{Dir: "/tmp/emu", Key: "/tmp/emu/emulator-app.pem"}
	const note = "Answers are not checked against GitHub's REST description in this build"
	if b := banner("http://127.0.0.1:8787", f, EmulatorConfig{}, true); strings.Contains(b, note) {
		t.Errorf("a checking emulator's banner says it does not check:\n%s", b)
	}
	if b := banner("http://127.0.0.1:8787", f, EmulatorConfig{}, false); !strings.Contains(b, note) {
		t.Errorf("an unchecked emulator's banner does not say so:\n%s", b)
	}
}
