package actionenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
)

var testPEM = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
})

func TestParseInputsEnterprise(t *testing.T) {
	t.Parallel()
	base := func(kv ...string) map[string]string {
		env := map[string]string{"INPUT_CLIENT-ID": "Iv23li", "INPUT_PRIVATE-KEY": testPEM(), "GITHUB_REPOSITORY": "octo-org/alpha"}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	r, _ := runner(t, base("INPUT_ENTERPRISE", "octo-enterprise", "INPUT_PERMISSION-ENTERPRISE-CUSTOM-PROPERTIES-FOR-ORGANIZATIONS", "write"))
	in, err := r.ParseInputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Not the current repository: the enterprise's installation alone.
	if in.Enterprise != "octo-enterprise" || in.Owner != "" || in.Repositories != nil || in.CurrentRepository {
		t.Errorf("enterprise %q, owner %q, repositories %q, current %v", in.Enterprise, in.Owner, in.Repositories, in.CurrentRepository)
	}
	if in.Permissions["enterprise_custom_properties_for_organizations"] != "write" {
		t.Errorf("permissions %v", in.Permissions)
	}

	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{base("INPUT_ENTERPRISE", "octo-enterprise", "INPUT_OWNER", "octo-org"), "enterprise: cannot be combined with owner or repositories"},
		{base("INPUT_ENTERPRISE", "octo-enterprise", "INPUT_REPOSITORIES", "alpha"), "enterprise: cannot be combined with owner or repositories"},
		{base("INPUT_ENTERPRISE", "octo-enterprise", "INPUT_INSTALLATION-ID", "5"), "enterprise: cannot be combined with installation-id"},
		{base("INPUT_ENTERPRISE", "no/such"), `enterprise: "no/such" is not an enterprise slug`},
		{base("INPUT_ENTERPRISE", "octo-enterprise", "INPUT_SETUP-GIT", "true"), "setup-git: an enterprise installation's token reaches no repository"},
	} {
		r, _ := runner(t, tc.env)
		in, err := r.ParseInputs(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || in != nil {
			t.Errorf("%v: err = %v, want %q (and no inputs)", tc.env["INPUT_OWNER"]+tc.env["INPUT_REPOSITORIES"], err, tc.want)
		}
	}
}

func TestParseInputsPermissionLevels(t *testing.T) {
	t.Parallel()
	r, _ := runner(t, map[string]string{"INPUT_CLIENT-ID": "Iv23li", "INPUT_PRIVATE-KEY": testPEM(), "GITHUB_REPOSITORY": "o/r",
		"INPUT_PERMISSION-WORKFLOWS": "read", "INPUT_PERMISSION-ARTIFACT-METADATA": "write"})
	_, err := r.ParseInputs([]string{"INPUT_PERMISSION-WORKFLOWS=read", "INPUT_PERMISSION-ARTIFACT-METADATA=write", "INPUT_PERMISSION-PLAN=read"})
	// workflows is write-only in GitHub's description; plan is go-github's,
	// not GitHub's; artifact_metadata is GitHub's and fine.
	for _, want := range []string{`permission-workflows: "read" is not a valid level for workflows: use "write"`, `permission-plan: "plan" is not a permission GitHub knows`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "artifact") {
		t.Errorf("artifact_metadata refused: %v", err)
	}
}
