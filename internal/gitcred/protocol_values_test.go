package gitcred

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// password_expiry_utc is a positive Unix time in seconds; 0, negative,
// absurdly far (2^40 s is beyond year 36000) or not a number is no expiry.
func TestPasswordExpiryBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  time.Time
	}{
		{"1", time.Unix(1, 0).UTC()},
		{"1767225600", time.Unix(1767225600, 0).UTC()},
		{strconv.FormatInt(1<<40-1, 10), time.Unix(1<<40-1, 0).UTC()},
		{strconv.FormatInt(1<<40, 10), time.Time{}},
		{"0", time.Time{}},
		{"-1", time.Time{}},
		{"1e9", time.Time{}},
	} {
		c, err := Parse(strings.NewReader("password_expiry_utc=1767225600\npassword_expiry_utc=" + tc.value + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if !c.PasswordExpiry.Equal(tc.want) {
			t.Errorf("password_expiry_utc=%s: %v, want %v", tc.value, c.PasswordExpiry, tc.want)
		}
	}
}

// A NUL anywhere in a line, the first byte included, is refused.
func TestParseRefusesNULAnywhere(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"\x00host=a", "host=\x00", "ho\x00st=a"} {
		if _, err := Parse(strings.NewReader("protocol=https\n" + line + "\n")); err == nil || err.Error() != "credential line 2 holds a NUL byte" {
			t.Errorf("%q: %v", line, err)
		}
	}
}

// url= sets protocol and host, and path, username and password only when
// it has them: git's credential_from_url keeps what the url lacks.
func TestURLKeepsWhatItLacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Credential
	}{
		{"path=a/b.git\nusername=u\npassword=p\nurl=https://github.com\n",
			Credential{Protocol: "https", Host: "github.com", Path: "a/b.git", Username: "u", Password: "p"}},
		{"path=a/b.git\nusername=u\npassword=p\nurl=https://bob@ghe.example.com:8443/c/d.git\n",
			Credential{Protocol: "https", Host: "ghe.example.com:8443", Path: "c/d.git", Username: "bob", Password: "p"}},
		{"password=p\nurl=https://bob:s3cret@github.com/\n",
			Credential{Protocol: "https", Host: "github.com", Username: "bob", Password: "s3cret"}},
	} {
		c, err := Parse(strings.NewReader(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if *c != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, *c, tc.want)
		}
	}
	for _, bad := range []string{"url=https://bob%0A@github.com/\n", "url=https://github.com/a%0Ab\n", "url=::\n"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "url=") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Format writes only the attributes that are set, in git's order, and ends
// with the blank line; a credential with nothing set is just that line.
func TestFormatWritesOnlyWhatIsSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    Credential
		want string
	}{
		{Credential{}, "\n"},
		{Credential{Protocol: "https", Host: "github.com", Path: "a/b.git", Username: "u", Password: "p", PasswordExpiry: time.Unix(5, 0)},
			"protocol=https\nhost=github.com\npath=a/b.git\nusername=u\npassword=p\npassword_expiry_utc=5\n\n"},
		{Credential{Host: "github.com"}, "host=github.com\n\n"},
	} {
		got, err := tc.c.Format()
		if err != nil || string(got) != tc.want {
			t.Errorf("Format(%+v) = %q, %v; want %q", tc.c, got, err, tc.want)
		}
	}
}

// A line of MaxLine bytes is read, with a CRLF ending too; git itself
// refuses longer ones.
func TestParseReadsALineOfMaxLine(t *testing.T) {
	t.Parallel()
	value := strings.Repeat("x", MaxLine-len("password="))
	for _, end := range []string{"\n", "\r\n"} {
		c, err := Parse(strings.NewReader("password=" + value + end + end))
		if err != nil || c.Password != value {
			t.Errorf("a %d-byte line ending %q: %v", MaxLine, end, err)
		}
	}
}
