package appauth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRateLimitWait is the longest a request waits out a rate limit before it
// gives up and says when to retry instead.
const maxRateLimitWait = 60 * time.Second

// backoffBase is the first retry's wait; each later one doubles it.
const backoffBase = 500 * time.Millisecond

// maxPeek bounds how much of an error body is read to classify it.
const maxPeek = 64 << 10

// RateLimitError means GitHub's rate limit (primary or secondary) is
// exhausted for longer than it is worth waiting.
type RateLimitError struct {
	// Until is when GitHub expects to accept requests again, and In how
	// long that was from when it answered.
	Until time.Time
	In    time.Duration
	// Secondary is true for GitHub's secondary (abuse) rate limits.
	Secondary bool
}

func (e *RateLimitError) Error() string {
	kind := "rate limit"
	if e.Secondary {
		kind = "secondary rate limit"
	}
	return fmt.Sprintf("GitHub's %s is exhausted until %s (in %s): retry after that",
		kind, e.Until.UTC().Format("15:04:05 UTC"), e.In.Round(time.Second))
}

// retryTransport retries GitHub's transient failures: network errors and 5xx
// up to app.retries times with exponential backoff and jitter; 429 and
// secondary rate limits after the wait GitHub asks for, when it is short.
// Other 4xx are never retried. It also writes the debug lines.
type retryTransport struct {
	app  *App
	next http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := t.app
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		resp, err := t.next.RoundTrip(r)
		// In milliseconds: a loopback request takes less than the
		// millisecond time.Duration would round it to ("0s").
		elapsed := fmt.Sprintf("%.1fms", float64(time.Since(start))/float64(time.Millisecond))
		if err != nil {
			a.debug("%s %s: %s after %s", req.Method, req.URL.Path, describeNetErr(err), elapsed)
		} else {
			a.debug("%s %s: %d in %s", req.Method, req.URL.Path, resp.StatusCode, elapsed)
		}
		if ctx.Err() != nil {
			return resp, err
		}
		wait, retry, stop := t.classify(resp, err, attempt)
		if stop != nil {
			drain(resp)
			return nil, stop
		}
		if !retry {
			return resp, err
		}
		drain(resp)
		a.debug("retrying %s %s in %s (attempt %d of %d)", req.Method, req.URL.Path, wait.Round(time.Millisecond), attempt+2, a.retries+1)
		if err := a.wait(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// classify decides what follows a response: retry after wait, stop with an
// error, or neither (hand the response up).
func (t *retryTransport) classify(resp *http.Response, err error, attempt int) (wait time.Duration, retry bool, stop error) {
	canRetry := attempt < t.app.retries
	if err != nil {
		return backoff(attempt), canRetry, nil
	}
	if resp.StatusCode >= 500 {
		return backoff(attempt), canRetry, nil
	}
	limited, secondary := rateLimited(resp)
	if !limited {
		return 0, false, nil
	}
	now := t.app.now()
	until := rateLimitEnd(resp, now)
	wait = max(until.Sub(now), 0)
	if wait > maxRateLimitWait || !canRetry {
		return 0, false, &RateLimitError{Until: until, In: wait, Secondary: secondary}
	}
	return wait, true, nil
}

// rateLimited reports whether resp is a rate-limit refusal: any 429, or a
// 403 with no requests remaining or GitHub's secondary-rate-limit message.
// https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors
func rateLimited(resp *http.Response) (limited, secondary bool) {
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true, resp.Header.Get("X-Ratelimit-Remaining") != "0"
	case http.StatusForbidden:
		if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
			return true, false
		}
		body := peek(resp)
		if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) || resp.Header.Get("Retry-After") != "" {
			return true, true
		}
	}
	return false, false
}

// rateLimitEnd is when GitHub says to come back: Retry-After seconds, else
// x-ratelimit-reset (read against GitHub's Date), else a minute, which
// GitHub's docs advise for secondary limits that name no time.
func rateLimitEnd(resp *http.Response, now time.Time) time.Time {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second)
	}
	if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
		server := now
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			server = d
		}
		return now.Add(time.Unix(reset, 0).Sub(server))
	}
	return now.Add(time.Minute)
}

// backoff is the wait before retry number attempt+1: backoffBase doubled
// per attempt, with jitter of ±50% so that parallel jobs spread out.
func backoff(attempt int) time.Duration {
	d := backoffBase << attempt
	return d/2 + rand.N(d)
}

// rewind returns a copy of req with a fresh body, for a retry.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("cannot retry a request whose body cannot be replayed")
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	return r, nil
}

// peek reads up to maxPeek bytes of the body and puts them back.
func peek(resp *http.Response) []byte {
	if resp.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

func drain(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
		resp.Body.Close()
	}
}

// describeNetErr names a network failure without repeating the URL.
func describeNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// jwtTransport authenticates requests as the App. When GitHub refuses the
// JWT's iat or exp, the two clocks disagree: it learns GitHub's time from
// the response's Date header, signs a corrected JWT and tries once more.
type jwtTransport struct {
	app  *App
	next http.RoundTripper
}

// clockMessages are the starts of GitHub's 401 messages about iat and exp.
var clockMessages = []string{"'Issued at' claim ('iat')", "'Expiration time' claim ('exp')"}

func (t *jwtTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.send(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	body := string(peek(resp))
	if !containsAny(body, clockMessages) {
		return resp, nil
	}
	server, perr := http.ParseTime(resp.Header.Get("Date"))
	if perr != nil {
		return resp, nil
	}
	skew := server.Sub(t.app.now()).Round(time.Second)
	t.app.mu.Lock()
	t.app.skew = skew
	t.app.mu.Unlock()
	t.app.debug("GitHub refused the JWT's times: GitHub's clock minus this machine's is %s; signing a corrected JWT", skew)
	r, rerr := rewind(req)
	if rerr != nil {
		return resp, nil
	}
	drain(resp)
	return t.send(r)
}

func (t *jwtTransport) send(req *http.Request) (*http.Response, error) {
	token, err := t.app.requestJWT()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return t.next.RoundTrip(r)
}

// tokenTransport authenticates requests with an installation or user token.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
