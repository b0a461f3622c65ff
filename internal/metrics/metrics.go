// Package metrics holds mamori's Prometheus metrics (S13). They are
// registered on the registry Caddy exposes at its metrics endpoint, once
// per configuration, and fed from the one place every guard reports
// through (the handler's outcome), so a new guard is counted without
// code of its own.
package metrics

import (
	"errors"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Names the counters derive from events (the names the auth and session
// guards use). Every event is counted in mamori_events_total anyway.
const (
	// RuleLoginFailure is the rule ID of a failed login event.
	RuleLoginFailure = "login-failure"
	// RuleLoginThrottled is the rule ID of a login refused for too many
	// failures from an IP or for an account.
	RuleLoginThrottled = "login-throttled"
	// GuardThrottle is the guard of any other refusal for too many
	// attempts.
	GuardThrottle = "throttle"
	// GuardSession is the guard of a refused session; its rule ID,
	// "session-<reason>", gives the reason.
	GuardSession = "session"
)

// Metrics are mamori's collectors.
type Metrics struct {
	Requests       *prometheus.CounterVec
	Blocked        *prometheus.CounterVec
	BlockedRules   *prometheus.CounterVec
	Events         *prometheus.CounterVec
	Anomaly        *prometheus.HistogramVec
	LoginFailures  prometheus.Counter
	Throttled      prometheus.Counter
	SessionRefused *prometheus.CounterVec
	RuleSet        *prometheus.GaugeVec
}

const ns = "mamori"

// New creates the collectors and registers them on reg. Collectors that
// reg already has (another site of the same configuration) are reused.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "Requests inspected by mamori, by verdict (allowed, flagged, detected, blocked)."}, []string{"verdict"}),
		Blocked: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "blocked_total",
			Help: "Requests refused, by the guard that refused them (waf, headers, limits, paths, csrf, session, ...)."}, []string{"guard"}),
		BlockedRules: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "blocked_rules_total",
			Help: "Requests refused, by guard and deciding rule ID."}, []string{"guard", "rule"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_total",
			Help: "Security events emitted, by guard, verdict and rule ID."}, []string{"guard", "verdict", "rule"}),
		Anomaly: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "anomaly_score",
			Help:    "CRS anomaly scores of inspected requests (inbound) and responses (outbound).",
			Buckets: []float64{0, 2, 3, 5, 8, 10, 15, 20, 30, 50}}, []string{"direction"}),
		LoginFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "login_failures_total",
			Help: "Failed logins observed (events with rule ID " + RuleLoginFailure + ")."}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "throttled_total",
			Help: "Requests refused because a client or account made too many attempts (rule " + RuleLoginThrottled + ", guard " + GuardThrottle + ")."}),
		SessionRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sessions_refused_total",
			Help: "Sessions refused, by reason (guard " + GuardSession + ", rule session-<reason>)."}, []string{"reason"}),
		RuleSet: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "ruleset_info",
			Help: "The loaded WAF rule sets (value 1): CRS version, configuration fingerprint and rule count."}, []string{"crs_version", "fingerprint", "rules", "mode"}),
	}
	var err error
	reg2 := func(c prometheus.Collector) prometheus.Collector {
		if err != nil {
			return c
		}
		var e error
		c, e = register(reg, c)
		err = e
		return c
	}
	m.Requests = reg2(m.Requests).(*prometheus.CounterVec)
	m.Blocked = reg2(m.Blocked).(*prometheus.CounterVec)
	m.BlockedRules = reg2(m.BlockedRules).(*prometheus.CounterVec)
	m.Events = reg2(m.Events).(*prometheus.CounterVec)
	m.Anomaly = reg2(m.Anomaly).(*prometheus.HistogramVec)
	m.LoginFailures = reg2(m.LoginFailures).(prometheus.Counter)
	m.Throttled = reg2(m.Throttled).(prometheus.Counter)
	m.SessionRefused = reg2(m.SessionRefused).(*prometheus.CounterVec)
	m.RuleSet = reg2(m.RuleSet).(*prometheus.GaugeVec)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the equal collector reg already has.
func register(reg prometheus.Registerer, c prometheus.Collector) (prometheus.Collector, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector, nil
		}
		return c, err
	}
	return c, nil
}

// Request counts one inspected request with its verdict and scores.
func (m *Metrics) Request(verdict string, inbound, outbound int, inspected bool) {
	if m == nil {
		return
	}
	m.Requests.WithLabelValues(verdict).Inc()
	if inspected {
		m.Anomaly.WithLabelValues("inbound").Observe(float64(inbound))
		m.Anomaly.WithLabelValues("outbound").Observe(float64(outbound))
	}
}

// Refused counts a refusal by guard and rule.
func (m *Metrics) Refused(guard, rule string) {
	if m == nil {
		return
	}
	m.Blocked.WithLabelValues(guard).Inc()
	m.BlockedRules.WithLabelValues(guard, rule).Inc()
}

// Event counts an event and the dedicated counters it feeds.
func (m *Metrics) Event(guard, verdict, rule string) {
	if m == nil {
		return
	}
	m.Events.WithLabelValues(guard, verdict, rule).Inc()
	switch {
	case rule == RuleLoginFailure:
		m.LoginFailures.Inc()
	case verdict != "blocked":
	case rule == RuleLoginThrottled || guard == GuardThrottle:
		m.Throttled.Inc()
	case guard == GuardSession:
		m.SessionRefused.WithLabelValues(strings.TrimPrefix(rule, "session-")).Inc()
	}
}

// RuleSetLoaded records a loaded rule set.
func (m *Metrics) RuleSetLoaded(crsVersion, fingerprint string, rules int, mode string) {
	if m == nil {
		return
	}
	m.RuleSet.WithLabelValues(crsVersion, fingerprint, strconv.Itoa(rules), mode).Set(1)
}

// RuleSetUnloaded forgets a rule set no site runs any more (by the
// fingerprint given to RuleSetLoaded), so ruleset_info lists only the
// rule sets in force after a rules reload.
func (m *Metrics) RuleSetUnloaded(fingerprint string) {
	if m == nil {
		return
	}
	m.RuleSet.DeletePartialMatch(prometheus.Labels{"fingerprint": fingerprint})
}
