package actionenv

import (
	"strings"
	"testing"
)

// With sts-url the step names a trust policy and a scope, and nothing the
// exchange decides: a key, an installation or permissions are refused, all
// at once, rather than ignored.
func TestExchangeInputs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_STS-URL": "https://sts.example.com/", "INPUT_IDENTITY": "ci",
		"INPUT_OWNER": "octo-org", "INPUT_REPOSITORIES": "alpha", "INPUT_SETUP-GIT": "true",
		"GITHUB_REPOSITORY": "octo-org/other",
	}
	r, _ := runner(t, env)
	in, err := r.ParseInputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.STSURL != "https://sts.example.com" || in.Identity != "ci" || in.Scope != "octo-org/alpha" || !in.SetupGit || in.CurrentRepository {
		t.Errorf("inputs = %+v", in)
	}
	if in.APIURL != "https://api.github.com" {
		t.Errorf("APIURL = %q, want the default", in.APIURL)
	}
	// The current repository, when neither owner nor repositories is given.
	r, _ = runner(t, map[string]string{"INPUT_STS-URL": "https://sts.example.com", "INPUT_IDENTITY": "ci", "GITHUB_REPOSITORY": "octo-org/beta", "GITHUB_REPOSITORY_OWNER": "octo-org"})
	if in, err := r.ParseInputs(nil); err != nil || in.Scope != "octo-org/beta" || !in.CurrentRepository {
		t.Errorf("current repository: %+v, %v", in, err)
	}
	// The owner alone: the organization policy.
	r, _ = runner(t, map[string]string{"INPUT_STS-URL": "https://sts.example.com", "INPUT_IDENTITY": "ci", "INPUT_OWNER": "octo-org"})
	if in, err := r.ParseInputs(nil); err != nil || in.Scope != "octo-org" {
		t.Errorf("owner alone: %+v, %v", in, err)
	}
}

func TestExchangeInputsRefusals(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_STS-URL": "ftp://sts.example.com", "INPUT_PRIVATE-KEY": "-----BEGIN RSA PRIVATE KEY-----",
		"INPUT_INSTALLATION-ID": "101", "INPUT_PERMISSION-CONTENTS": "read",
		"INPUT_OWNER": "octo-org", "INPUT_REPOSITORIES": "alpha,beta", "INPUT_SKIP-TOKEN-REVOKE": "maybe",
		"INPUT_GITHUB-API-URL": "not a url",
	}
	r, _ := runner(t, env)
	in, err := r.ParseInputs([]string{"INPUT_PERMISSION-CONTENTS=read"})
	if in != nil || err == nil {
		t.Fatalf("ParseInputs = %+v, %v; want no inputs and the errors", in, err)
	}
	for _, want := range []string{
		"sts-url:", "identity: missing", "private-key: not with sts-url", "installation-id: not with sts-url",
		"permission-contents: not with sts-url", "repositories: with sts-url", "skip-token-revoke", "github-api-url",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors %q\nlack %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "BEGIN RSA") {
		t.Error("an error repeats the private key")
	}
}
