package sts

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the exchange's Prometheus series, on a registry of its own
// (a process may run several servers, as tests do).
type metrics struct {
	reg       *prometheus.Registry
	exchanges *prometheus.CounterVec
	duration  prometheus.Histogram
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	policies  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "app_token_sts_exchanges_total",
			Help: "Token exchanges by outcome (granted, or why they were refused).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "app_token_sts_exchange_duration_seconds",
			Help:    "Time to answer an exchange.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "app_token_sts_upstream_requests_total",
			Help: "Requests to GitHub's API (and to OIDC issuers, endpoint=\"oidc\") by endpoint and HTTP status (0: no answer).",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "app_token_sts_upstream_request_duration_seconds",
			Help:    "Latency of requests to GitHub and to OIDC issuers.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		policies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "app_token_sts_policy_reads_total",
			Help: "Trust policy look-ups: hit (cached), not_modified (revalidated by ETag), read (fetched).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.exchanges, m.duration, m.requests, m.latency, m.policies,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrumented counts and times every upstream request.
type instrumented struct {
	next http.RoundTripper
	m    *metrics
	api  *url.URL
}

func (t *instrumented) RoundTrip(r *http.Request) (*http.Response, error) {
	ep := t.endpoint(r)
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.m.latency.WithLabelValues(ep).Observe(time.Since(start).Seconds())
	code := "0"
	if resp != nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.m.requests.WithLabelValues(ep, code).Inc()
	return resp, err
}

// endpoint names a request by the API call it is, keeping the label's
// values few.
func (t *instrumented) endpoint(r *http.Request) string {
	if r.URL.Host != t.api.Host || !strings.HasPrefix(r.URL.Path, t.api.Path) {
		return "oidc"
	}
	p := strings.TrimPrefix(r.URL.Path, t.api.Path)
	switch {
	case strings.HasSuffix(p, "/access_tokens"):
		return "access_tokens"
	case strings.HasSuffix(p, "/installation"):
		return "installation"
	case p == "installation/token":
		return "revoke"
	case strings.Contains(p, "/contents/"):
		return "contents"
	}
	return "other"
}
