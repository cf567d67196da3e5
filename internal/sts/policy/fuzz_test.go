package policy

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("issuer: https://token.actions.githubusercontent.com\nsubject: repo:o/r:ref:refs/heads/main\npermissions: {contents: read}\n"), false)
	f.Add([]byte("issuer_pattern: '.*'\nsubject_pattern: '[0-9]+'\nclaim_pattern: {email: '.*@x'}\npermissions: {issues: write}\nrepositories: [a, b]\n"), true)
	f.Add([]byte("&a [*a]"), false)
	f.Add([]byte("issuer: !!binary aGVsbG8=\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, org bool) {
		tp, err := Parse("f.sts.yaml", data, org)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.sts.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A policy that parses is whole: it grants something, and checking
		// any token against it never panics.
		if len(tp.Permissions) == 0 {
			t.Fatal("a policy without permissions parsed")
		}
		if !org && tp.Repositories != nil {
			t.Fatal("a repository policy with repositories parsed")
		}
		_ = tp.Check(Claims{Issuer: tp.Issuer, Subject: tp.Subject, All: map[string]any{}}, nil)
	})
}

func FuzzCompilePattern(f *testing.F) {
	for _, s := range []string{"a", ".*", ")(", "a|b", "(?i)x", `\`, "a{1000}", "^x$"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := CompilePattern(pattern)
		if err != nil {
			return
		}
		// Anchored: a match of s is a match of the whole of s, so s with
		// a prefix that the pattern cannot absorb never matches more.
		if re.MatchString(s) {
			loc := re.FindStringIndex(s)
			if loc == nil || loc[0] != 0 || loc[1] != len(s) {
				t.Fatalf("pattern %q matched %q only in part: %v", pattern, s, loc)
			}
		}
	})
}
