package oauth

import (
	"testing"
	"time"
)

// FuzzParseResponse feeds arbitrary answers to the OAuth response parser:
// it must never panic, and no duration it reads may be negative or longer
// than a year.
func FuzzParseResponse(f *testing.F) {
	f.Add("application/json", []byte(`{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}`))
	f.Add("application/json", []byte(`{"error":"slow_down","error_description":"Too many requests","interval":"10"}`))
	f.Add("application/json", []byte(`{"access_token":"ghu_x","expires_in":28800,"refresh_token":"ghr_y","refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}`))
	f.Add("application/x-www-form-urlencoded; charset=utf-8", []byte(`access_token=ghu_x&expires_in=28800&refresh_token=ghr_y&token_type=bearer`))
	f.Add("text/plain", []byte(`error=authorization_pending&interval=1e99`))
	f.Add("", []byte(`{"expires_in":-1,"interval":1e400}`))
	f.Add("application/json", []byte(`null`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		w, err := parseResponse(contentType, body)
		if err != nil {
			return
		}
		for _, n := range []flexInt{w.ExpiresIn, w.RefreshTokenExpiresIn, w.Interval} {
			if n < 0 || n > maxSeconds {
				t.Fatalf("duration %d out of range", n)
			}
		}
		tok := w.token(time.Unix(0, 0))
		if !tok.ExpiresAt.IsZero() && !tok.ExpiresAt.After(time.Unix(0, 0)) {
			t.Fatal("token expires before it was issued")
		}
		_ = w.err().Error()
	})
}
