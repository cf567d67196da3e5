package policy

import (
	"errors"
	"strings"
	"testing"
)

const file = "octo-org/alpha/.github/chainguard/ci.sts.yaml"

func mustParse(t *testing.T, src string, org bool) *TrustPolicy {
	t.Helper()
	tp, err := Parse(file, []byte(src), org)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tp
}

func TestParseOctoSTSExamples(t *testing.T) {
	t.Parallel()
	// The two examples of octo-sts's README, as written there.
	tp := mustParse(t, `issuer: https://token.actions.githubusercontent.com
subject: repo:chainguard-dev/foo:ref:refs/heads/main

permissions:
  contents: read
  issues: write
`, false)
	if tp.Permissions["issues"] != "write" || tp.Subject != "repo:chainguard-dev/foo:ref:refs/heads/main" {
		t.Errorf("parsed %+v", tp)
	}
	org := mustParse(t, `issuer: https://accounts.google.com
subject_pattern: '[0-9]+'
claim_pattern:
  email: '.*@chainguard.dev'
permissions:
  contents: read
repositories:
  - foo
  - bar
`, true)
	if len(org.Repositories) != 2 || org.ClaimPattern["email"] == "" {
		t.Errorf("parsed %+v", org)
	}
}

func TestParseErrorsNameFileFieldAndFix(t *testing.T) {
	t.Parallel()
	base := "permissions: {contents: read}\n"
	for _, tc := range []struct {
		name, src string
		org       bool
		field     string
		want      string
	}{
		{"both issuer", "issuer: a\nissuer_pattern: b\nsubject: s\n" + base, false, "issuer", "both issuer and issuer_pattern"},
		{"no issuer", "subject: s\n" + base, false, "issuer", "neither issuer nor issuer_pattern"},
		{"both subject", "issuer: i\nsubject: s\nsubject_pattern: s.*\n" + base, false, "subject", "both subject and subject_pattern"},
		{"no subject", "issuer: i\n" + base, false, "subject", "neither subject nor subject_pattern"},
		{"both audience", "issuer: i\nsubject: s\naudience: a\naudience_pattern: a\n" + base, false, "audience", "both audience and audience_pattern"},
		{"bad subject pattern", "issuer: i\nsubject_pattern: 'repo:(a'\n" + base, false, "subject_pattern", "does not compile"},
		{"unbalanced pattern", "issuer: i\nsubject_pattern: ')('\n" + base, false, "subject_pattern", "does not compile"},
		{"bad claim pattern", "issuer: i\nsubject: s\nclaim_pattern: {ref: '['}\n" + base, false, "claim_pattern.ref", "does not compile"},
		{"unknown permission", "issuer: i\nsubject: s\npermissions: {contnets: read}\n", false, "permissions.contnets", `did you mean "contents"`},
		{"bad level", "issuer: i\nsubject: s\npermissions: {contents: admin}\n", false, "permissions.contents", "not a valid level"},
		{"no permissions", "issuer: i\nsubject: s\n", false, "permissions", "no permissions"},
		{"repositories in repo policy", "issuer: i\nsubject: s\nrepositories: [a]\n" + base, false, "repositories", "only an organization policy"},
		{"owner in repositories", "issuer: i\nsubject: s\nrepositories: [other/x]\n" + base, true, "repositories[0]", "names an owner"},
		{"repeated repository", "issuer: i\nsubject: s\nrepositories: [a, A]\n" + base, true, "repositories[1]", "listed twice"},
		{"empty repositories", "issuer: i\nsubject: s\nrepositories: []\n" + base, true, "repositories", "the list is empty"},
		{"unknown field", "issuer: i\nsubject: s\nsubjet_pattern: x\n" + base, false, "subjet_pattern", "unknown field"},
		{"duplicate key", "issuer: i\nissuer: j\nsubject: s\n" + base, false, "", "already defined"},
		{"not a mapping", "- a\n- b\n", false, "", "line 1"},
		{"empty", "  \n", false, "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(file, []byte(tc.src), tc.org)
			if err == nil {
				t.Fatal("Parse accepted the policy")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *policy.Error: %v", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, file+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q; want it to start with the file and hold %q", msg, tc.want)
			}
			if tc.field != "" && !strings.Contains(msg, ": "+tc.field+": ") {
				t.Errorf("error = %q; want it to name the field %q", msg, tc.field)
			}
			if pe.Fix == "" && pe.Field != "permissions."+strings.TrimPrefix(tc.field, "permissions.") {
				t.Errorf("error %q gives no fix", msg)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := Parse(file, []byte("issuer: a\nissuer_pattern: b\npermissions: {nope: read}\n"), false)
	for _, want := range []string{"issuer:", "subject:", "permissions.nope:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v; want it to hold %q", err, want)
		}
	}
}

func TestPatternsAreAnchored(t *testing.T) {
	t.Parallel()
	re, err := CompilePattern("repo:octo-org/alpha:.*|x")
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"repo:octo-org/alpha:ref:refs/heads/main": true,
		"x":                                 true,
		"evil-repo:octo-org/alpha:ref:main": false,
		"xx":                                false,
		"prefix x":                          false,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("match %q = %v, want %v", s, got, want)
		}
	}
}

func claims() Claims {
	return Claims{
		Issuer:   "https://token.actions.githubusercontent.com",
		Subject:  "repo:octo-org/alpha:ref:refs/heads/main",
		Audience: []string{"https://sts.example"},
		All: map[string]any{
			"workflow_ref":  "octo-org/alpha/.github/workflows/release.yml@refs/heads/main",
			"ref_protected": true,
			"run_id":        "42",
			"nested":        map[string]any{"a": "b"},
		},
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	own := []string{"https://sts.example"}
	head := "issuer: https://token.actions.githubusercontent.com\npermissions: {contents: read}\n"
	for _, tc := range []struct {
		name, src string
		field     string // "" when the token satisfies the policy
	}{
		{"exact", head + "subject: repo:octo-org/alpha:ref:refs/heads/main\n", ""},
		{"pattern", head + "subject_pattern: 'repo:octo-org/alpha:ref:refs/heads/.*'\n", ""},
		{"subject mismatch", head + "subject: repo:octo-org/alpha:environment:prod\n", "subject"},
		{"subject pattern is anchored", head + "subject_pattern: 'octo-org/alpha'\n", "subject"},
		{"issuer mismatch", "issuer: https://other\nsubject_pattern: '.*'\npermissions: {contents: read}\n", "issuer"},
		{"issuer pattern", "issuer_pattern: 'https://token\\.actions\\..*'\nsubject_pattern: '.*'\npermissions: {contents: read}\n", ""},
		{"claim", head + "subject_pattern: '.*'\nclaim_pattern: {workflow_ref: 'octo-org/alpha/\\.github/workflows/release\\.yml@.*'}\n", ""},
		{"bool claim", head + "subject_pattern: '.*'\nclaim_pattern: {ref_protected: 'true'}\n", ""},
		{"claim mismatch", head + "subject_pattern: '.*'\nclaim_pattern: {workflow_ref: 'octo-org/alpha/\\.github/workflows/ci\\.yml@.*'}\n", "claim_pattern.workflow_ref"},
		{"claim missing", head + "subject_pattern: '.*'\nclaim_pattern: {environment: prod}\n", "claim_pattern.environment"},
		{"claim not a string", head + "subject_pattern: '.*'\nclaim_pattern: {nested: '.*'}\n", "claim_pattern.nested"},
		{"audience", head + "subject_pattern: '.*'\naudience: https://sts.example\n", ""},
		{"audience mismatch", head + "subject_pattern: '.*'\naudience: https://other\n", "audience"},
		{"audience pattern", head + "subject_pattern: '.*'\naudience_pattern: 'https://sts\\..*'\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tp := mustParse(t, tc.src, false)
			err := tp.Check(claims(), own)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var m *Mismatch
			if !errors.As(err, &m) || m.Field != tc.field {
				t.Fatalf("Check = %v; want a mismatch on %s", err, tc.field)
			}
		})
	}
}

func TestCheckDefaultAudienceIsOwn(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, "issuer: https://token.actions.githubusercontent.com\nsubject_pattern: '.*'\npermissions: {contents: read}\n", false)
	if err := tp.Check(claims(), []string{"https://another-exchange"}); err == nil {
		t.Fatal("a token for another exchange satisfied a policy without audience")
	}
}

func TestCheckNeedsCompile(t *testing.T) {
	t.Parallel()
	tp := &TrustPolicy{Issuer: "i", Subject: "s"}
	if err := tp.Check(claims(), nil); err == nil {
		t.Fatal("Check of an uncompiled policy passed")
	}
	tp.Permissions = map[string]string{"contents": "read"}
	if err := tp.Compile(file, false); err != nil {
		t.Fatal(err)
	}
	c := claims()
	c.Issuer, c.Subject = "i", "s"
	if err := tp.Check(c, c.Audience); err != nil {
		t.Fatal(err)
	}
}
