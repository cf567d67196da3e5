package gitcred

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Credential
	}{
		{
			name: "get from git with useHttpPath",
			in:   "protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n",
			want: Credential{Protocol: "https", Host: "github.com", Path: "octo-org/alpha.git"},
		},
		{
			name: "EOF ends the description like a blank line",
			in:   "protocol=https\nhost=github.com",
			want: Credential{Protocol: "https", Host: "github.com"},
		},
		{
			name: "unknown and multi-valued keys are ignored",
			in: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=ghe.example.com:8443\n" +
				"wwwauth[]=Basic realm=\"GitHub\"\nstate[]=x=y\nauthtype=\nephemeral=1\n=novalue\n\n",
			want: Credential{Protocol: "https", Host: "ghe.example.com:8443"},
		},
		{
			name: "erase carries the credential back",
			in:   "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_abc\npassword_expiry_utc=1767225600\n",
			want: Credential{Protocol: "https", Host: "github.com", Username: "x-access-token", Password: "ghs_abc", PasswordExpiry: time.Unix(1767225600, 0).UTC()},
		},
		{
			name: "values keep '=' and spaces; last value wins",
			in:   "password=a=b\npassword= c d \n",
			want: Credential{Password: " c d "},
		},
		{
			name: "CRLF line endings",
			in:   "protocol=https\r\nhost=github.com\r\n\r\n",
			want: Credential{Protocol: "https", Host: "github.com"},
		},
		{
			name: "a bad expiry means none",
			in:   "password_expiry_utc=soon\n",
			want: Credential{},
		},
		{
			name: "url= is split as git does",
			in:   "url=https://bob@github.com/octo-org/beta.git\n",
			want: Credential{Protocol: "https", Host: "github.com", Path: "octo-org/beta.git", Username: "bob"},
		},
		{
			name: "input after the blank line is not read",
			in:   "host=a\n\nhost=b\n",
			want: Credential{Host: "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse = %+v\nwant    %+v", *got, tt.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := map[string]io.Reader{
		"line without =":      strings.NewReader("protocol=https\nghs_secretvalue\n"),
		"NUL":                 strings.NewReader("password=a\x00b\n"),
		"over-long line":      strings.NewReader("password=" + strings.Repeat("x", MaxLine+10) + "\n"),
		"endless input":       io.MultiReader(strings.NewReader(strings.Repeat("k=v\n", maxInput/4+1))),
		"url without scheme":  strings.NewReader("url=github.com/x\n"),
		"url decoding to NUL": strings.NewReader("url=https://github.com/a%00b\n"),
		"read error":          iotest.ErrReader(errors.New("boom")),
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(r)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if strings.Contains(err.Error(), "secretvalue") {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	c := &Credential{Username: "x-access-token", Password: "ghs_x.y_z", PasswordExpiry: time.Unix(1767225600, 0)}
	got, err := c.Format()
	if err != nil {
		t.Fatal(err)
	}
	want := "username=x-access-token\npassword=ghs_x.y_z\npassword_expiry_utc=1767225600\n\n"
	if string(got) != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

func TestFormatRefusesInjection(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"tok\nusername=evil", "tok\x00", "tok\r"} {
		c := &Credential{Username: "x-access-token", Password: bad}
		if b, err := c.Format(); err == nil {
			t.Errorf("Format(%q) = %q, want an error", bad, b)
		} else if b != nil {
			t.Errorf("Format(%q) wrote %q along with its error", bad, b)
		}
	}
}

func TestRepository(t *testing.T) {
	t.Parallel()
	tests := map[string][2]string{
		"octo-org/alpha.git":          {"octo-org", "alpha"},
		"octo-org/alpha":              {"octo-org", "alpha"},
		"/octo-org/alpha.git/":        {"octo-org", "alpha"},
		"octo-org/alpha.git/info/lfs": {"octo-org", "alpha"},
		"octo-org":                    {"", ""},
		"":                            {"", ""},
		"octo-org/.git":               {"", ""},
		"/x":                          {"", ""},
	}
	for path, want := range tests {
		o, r := (&Credential{Path: path}).Repository()
		if o != want[0] || r != want[1] {
			t.Errorf("Repository(%q) = %q, %q; want %q, %q", path, o, r, want[0], want[1])
		}
	}
}

// FuzzParse checks that Parse never panics, and that what it parses
// formats (unless a value cannot travel) and parses back the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"protocol=https\nhost=github.com\npath=octo-org/alpha.git\n\n",
		"username=x-access-token\npassword=ghs_abc\npassword_expiry_utc=1767225600\n",
		"capability[]=authtype\nwwwauth[]=Basic realm=\"x\"\n\n",
		"url=https://u:p@h:1/p%0a\n",
		"url=https://u:p@h:1/a/b.git\n",
		"password=a\r\r\n",
		"",
		"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		c.Repository()
		out, err := c.Format()
		if err != nil {
			for _, v := range []string{c.Protocol, c.Host, c.Path, c.Username, c.Password} {
				if !writable(v) {
					return
				}
			}
			t.Fatalf("Format of parsed %+v: %v", c, err)
		}
		back, err := Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("Parse(Format(%+v)) = %v", c, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed %+v into %+v", c, back)
		}
	})
}
