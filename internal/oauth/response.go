package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/url"
	"strconv"
)

// wireResponse is every field GitHub's /login/device/code and
// /login/oauth/access_token answer, successes and errors alike.
type wireResponse struct {
	AccessToken           string  `json:"access_token"`
	TokenType             string  `json:"token_type"`
	Scope                 string  `json:"scope"`
	ExpiresIn             flexInt `json:"expires_in"`
	RefreshToken          string  `json:"refresh_token"`
	RefreshTokenExpiresIn flexInt `json:"refresh_token_expires_in"`

	DeviceCode              string  `json:"device_code"`
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURL         string  `json:"verification_url"`
	VerificationURIComplete string  `json:"verification_uri_complete"`
	Interval                flexInt `json:"interval"`

	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// maxSeconds bounds every duration read from the wire (a year), so that no
// answer can overflow a time.Duration.
const maxSeconds = 365 * 24 * 3600

// flexInt reads a JSON number or a numeric string ("900", as form values
// and some servers give), clamped to [0, maxSeconds].
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = parseSeconds(s)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = clampSeconds(f)
	return nil
}

func parseSeconds(s string) flexInt {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return clampSeconds(f)
}

func clampSeconds(f float64) flexInt {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return flexInt(min(f, maxSeconds))
}

// parseResponse reads an OAuth answer: form-encoded when the content type
// says so (GitHub's default), JSON otherwise. It never panics on any input
// (see FuzzParseResponse).
func parseResponse(contentType string, body []byte) (*wireResponse, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	w := &wireResponse{}
	switch mt {
	case "application/x-www-form-urlencoded", "text/plain":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("unreadable form-encoded answer")
		}
		w.AccessToken = v.Get("access_token")
		w.TokenType = v.Get("token_type")
		w.Scope = v.Get("scope")
		w.ExpiresIn = parseSeconds(v.Get("expires_in"))
		w.RefreshToken = v.Get("refresh_token")
		w.RefreshTokenExpiresIn = parseSeconds(v.Get("refresh_token_expires_in"))
		w.DeviceCode = v.Get("device_code")
		w.UserCode = v.Get("user_code")
		w.VerificationURI = v.Get("verification_uri")
		w.VerificationURL = v.Get("verification_url")
		w.VerificationURIComplete = v.Get("verification_uri_complete")
		w.Interval = parseSeconds(v.Get("interval"))
		w.Error = v.Get("error")
		w.ErrorDescription = v.Get("error_description")
		w.ErrorURI = v.Get("error_uri")
	default:
		if err := json.Unmarshal(body, w); err != nil {
			return nil, errors.New("unreadable JSON answer")
		}
	}
	return w, nil
}
