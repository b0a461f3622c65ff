package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCountersAndSharedRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(reg) // a second site of the same configuration
	if err != nil {
		t.Fatal(err)
	}
	a.Request("allowed", 0, 0, true)
	b.Request("blocked", 10, 0, true)
	b.Refused("waf", "949110")
	a.Refused("limits", "body-too-large")
	a.Event("auth", "allowed", RuleLoginFailure)
	a.Event("auth", "blocked", RuleLoginThrottled)
	a.Event(GuardThrottle, "blocked", "too-many")
	a.Event(GuardSession, "blocked", "session-ip-mismatch")
	a.Event(GuardSession, "detected", "session-ua-mismatch") // detect mode: not refused
	for _, tc := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"allowed", a.Requests.WithLabelValues("allowed"), 1},
		{"blocked via the other site", a.Requests.WithLabelValues("blocked"), 1},
		{"waf blocks", a.Blocked.WithLabelValues("waf"), 1},
		{"rule", a.BlockedRules.WithLabelValues("limits", "body-too-large"), 1},
		{"login failures", a.LoginFailures, 1},
		{"throttled", a.Throttled, 2},
		{"session reason", a.SessionRefused.WithLabelValues("ip-mismatch"), 1},
		{"session not refused in detect mode", a.SessionRefused.WithLabelValues("ua-mismatch"), 0},
		{"events", a.Events.WithLabelValues("auth", "allowed", RuleLoginFailure), 1},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(a.Anomaly); n != 2 {
		t.Errorf("anomaly series = %d", n)
	}
	var nilM *Metrics
	nilM.Request("allowed", 0, 0, false) // no metrics configured: no panic
}
