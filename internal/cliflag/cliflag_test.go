package cliflag

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsAreOneLineAndNameTheFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ownr", "x"}, "demo has no flag --ownr (did you mean --owner?): run 'prog demo -h' for its flags"},
		{[]string{"--zzzzzz"}, "demo has no flag --zzzzzz: run 'prog demo -h' for its flags"},
		{[]string{"--owner"}, "--owner needs a value: --owner account (run 'prog demo -h' for its flags)"},
		{[]string{"--count", "ten"}, `--count "ten" is not a whole number: run 'prog demo -h' for its flags`},
		{[]string{"--count", "99999999999999999999"}, `--count "99999999999999999999" is out of range`},
		{[]string{"--json=maybe"}, `--json="maybe": not true or false (give --json alone, or --json=false)`},
		{[]string{"--ttl", "5"}, `--ttl "5" is not a duration: give a number with a unit`},
		{[]string{"---x"}, `"---x" is not a flag: flags are --name or --name=value`},
	} {
		fs := New("prog", "demo", "", "Demo.", new(bytes.Buffer))
		fs.String("owner", "", "the `account`")
		fs.Int("count", 0, "a count")
		fs.Bool("json", false, "print JSON")
		fs.Duration("ttl", time.Minute, "a duration")
		err := Parse(fs, "prog", tc.args)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) = %v, want a one-line usage error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestHelpShowsDashDashFlagsAndDefaults(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	fs := New("prog", "demo", "get|erase", "  Do the demo.  ", &out)
	fs.String("owner", "", "the `account`")
	fs.Duration("ttl", time.Minute, "how long")
	Explain(fs, "owner", "needed by --web only")
	for range 2 { // help twice prints the same
		out.Reset()
		if err := Parse(fs, "prog", []string{"-h"}); !errors.Is(err, ErrHelp) {
			t.Fatalf("Parse(-h) = %v, want ErrHelp", err)
		}
	}
	want := "Usage: prog demo [flags] get|erase\n\nDo the demo.\n\nFlags:\n" +
		"  --owner account\n    \tthe account; needed by --web only\n" +
		"  --ttl duration\n    \thow long (default 1m0s)\n"
	if out.String() != want {
		t.Errorf("help =\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	bare := New("prog", "version", "", "Print it.", &out)
	if err := Parse(bare, "prog", []string{"--help"}); !errors.Is(err, ErrHelp) || out.String() != "Usage: prog version\n\nPrint it.\n" {
		t.Errorf("help of a command without flags = %q, %v", out.String(), err)
	}
}

func TestNearest(t *testing.T) {
	t.Parallel()
	cands := []string{"token", "installations", "revoke", "credential"}
	for in, want := range map[string]string{
		"tokne":   "token",         // a transposition: distance 2
		"revok":   "revoke",        // distance 1
		"inst":    "installations", // the prefix of exactly one
		"cred":    "credential",
		"xyz":     "",
		"t":       "", // too short to be a prefix
		"revoker": "revoke",
	} {
		if got := Nearest(in, cands); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	var l Strings
	for _, v := range []string{"a, b", " ", "c,,"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if l.String() != "a,b,c" {
		t.Errorf("Strings = %q, want a,b,c", l.String())
	}
}
