package gitcred

import (
	"errors"
	"slices"
	"testing"

	"github.com/org/app-token/internal/ghhost"
)

func TestServeEnvToken(t *testing.T) {
	t.Parallel()
	value := "ghs_fromTheJob"
	reads := 0
	cfg := &Config{
		Host: ghhost.Default(),
		EnvToken: func() (string, error) {
			reads++
			if value == "" {
				return "", errors.New("$GITHUB_TOKEN is empty")
			}
			return value, nil
		},
		Key:    func() ([]byte, error) { t.Error("the App's key was read"); return nil, errors.New("no key") },
		NewApp: func([]byte) (Minter, error) { t.Error("an App was made"); return nil, errors.New("no app") },
	}
	out, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n")
	if err != nil || out != "username=x-access-token\npassword=ghs_fromTheJob\n\n" {
		t.Errorf("get = %q, %v", out, err)
	}
	// git's own username is kept; the variable is read at each get.
	value = "ghs_rotated"
	if out, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\nusername=me\n\n"); err != nil || out != "username=me\npassword=ghs_rotated\n\n" {
		t.Errorf("get with a username = %q, %v", out, err)
	}
	// Another host: no answer, the variable not even read.
	before := reads
	if out, err := serve(t, cfg, "get", "protocol=https\nhost=gitlab.com\n\n"); out != "" || err != nil || reads != before {
		t.Errorf("get for another host = %q, %v (%d reads)", out, err, reads-before)
	}
	// Empty: the caller's error, no answer.
	value = ""
	if out, err := serve(t, cfg, "get", "protocol=https\nhost=github.com\n\n"); out != "" || err == nil || err.Error() != "$GITHUB_TOKEN is empty" {
		t.Errorf("get with the variable empty = %q, %v", out, err)
	}
	// erase and store leave the job's token alone, without error.
	for _, op := range []string{"erase", "store"} {
		if out, err := serve(t, cfg, op, "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_rotated\n\n"); out != "" || err != nil {
			t.Errorf("%s = %q, %v", op, out, err)
		}
	}
}

func TestSplitHelperCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"/usr/bin/app-token", "credential", "--token-env", "GITHUB_TOKEN"},
		{"/home/o'neil/my tools/app-token", "credential", "--private-key-file", "/keys/a b.pem", "--permission", "contents=read"},
		{"app-token", "credential", ""},
	} {
		exe, got, ok := SplitHelperCommand(HelperCommand(args[0], args[1:]...))
		if !ok || exe != args[0] || !slices.Equal(got, args[1:]) {
			t.Errorf("SplitHelperCommand(HelperCommand(%q)) = %q, %q, %v", args, exe, got, ok)
		}
	}
	for _, v := range []string{"osxkeychain", "", "!", "!gh auth git-credential; rm -rf x", "!f() { echo; }; f", "!'unterminated"} {
		if exe, args, ok := SplitHelperCommand(v); ok {
			t.Errorf("SplitHelperCommand(%q) = %q, %q, true; want false", v, exe, args)
		}
	}
}

func FuzzSplitHelperCommand(f *testing.F) {
	f.Add("/usr/bin/app-token", "credential", "--token-env", "GITHUB_TOKEN")
	f.Add("a'b", "c d", "", "\\")
	f.Fuzz(func(t *testing.T, exe, a, b, c string) {
		args := []string{a, b, c}
		gotExe, got, ok := SplitHelperCommand(HelperCommand(exe, args...))
		if !ok || gotExe != exe || !slices.Equal(got, args) {
			t.Errorf("round trip of %q %q: %q %q %v", exe, args, gotExe, got, ok)
		}
	})
}
