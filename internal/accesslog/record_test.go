package accesslog

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/verdict"
)

// The WAF's verdict in the record: its rules and scores always, and it
// is the line's guard only when it blocked or detected; a guard's
// stronger verdict stays.
func TestRecordWAF(t *testing.T) {
	tests := []struct {
		name    string
		before  func(*Record)
		outcome string
		rule    string
		ids     []int
		want    Record
	}{
		{"allowed", nil, events.VerdictAllowed, "", nil, Record{Outcome: outcome(events.VerdictAllowed, "", "")}},
		{"flagged_names_no_guard", nil, events.VerdictFlagged, "942100", []int{942100}, Record{Outcome: outcome(events.VerdictFlagged, "", ""), RuleIDs: []int{942100}, Inbound: 5, Outbound: 1}},
		{"blocked", nil, events.VerdictBlocked, "949110", []int{942100, 949110},
			Record{Outcome: outcome(events.VerdictBlocked, "waf", "949110"), RuleIDs: []int{942100, 949110}, Inbound: 5, Outbound: 1}},
		{"detected", nil, events.VerdictDetected, "942100", []int{942100},
			Record{Outcome: outcome(events.VerdictDetected, "waf", "942100"), RuleIDs: []int{942100}, Inbound: 5, Outbound: 1}},
		{"guard_detect_then_waf_allowed", func(r *Record) { r.Note(events.VerdictDetected, "paths", "vcs") }, events.VerdictAllowed, "", nil,
			Record{Outcome: outcome(events.VerdictDetected, "paths", "vcs")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Record
			if tc.before != nil {
				tc.before(&r)
			}
			r.WAF(tc.outcome, tc.rule, tc.ids, 5, 1)
			if !reflect.DeepEqual(r, tc.want) {
				t.Fatalf("got %+v, want %+v", r, tc.want)
			}
		})
	}
}

// mamori's fields in Caddy's access line follow the record.
func TestRecordCaddyFields(t *testing.T) {
	fields := func(r Record) map[string]any {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range r.CaddyFields() {
			f.AddTo(enc)
		}
		return enc.Fields
	}
	if got := fields(Record{}); len(got) != 0 {
		t.Errorf("nothing noted: %v", got)
	}
	var r Record
	r.WAF(events.VerdictBlocked, "949110", []int{942100, 949110}, 5, 0)
	got := fields(r)
	if got["mamori.verdict"] != "blocked" || got["mamori.guard"] != "waf" || got["mamori.rule"] != "949110" ||
		got["mamori.anomaly.inbound"] != int64(5) || got["mamori.rule_ids"] == nil {
		t.Errorf("blocked: %v", got)
	}
	r = Record{}
	r.Set(events.VerdictBlocked, "headers", "open-redirect")
	if got := fields(r); got["mamori.rule"] != "open-redirect" || got["mamori.rule_ids"] != nil {
		t.Errorf("guard refusal: %v", got)
	}
}

// NewLine takes the request's fields; Answered the client's answer.
func TestNewLineAndAnswered(t *testing.T) {
	r := httptest.NewRequest("POST", "https://example.com/a?b=1", nil)
	r.RemoteAddr = "192.0.2.1:50123"
	r.Header.Set("User-Agent", "curl/8")
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13}
	l := NewLine(r)
	if l.Method != "POST" || l.Host != "example.com" || l.RequestURI != "https://example.com/a?b=1" || l.UserAgent != "curl/8" ||
		l.ClientPort != "50123" || l.TLSVersion != tls.VersionTLS13 || l.Proto != "HTTP/1.1" {
		t.Fatalf("%+v", l)
	}
	errUp := errors.New("dial tcp: refused")
	for _, tc := range []struct {
		name                 string
		status               int
		err                  error
		panicking, cancelled bool
		wantStatus           int
		aborted              bool
	}{
		{"written", 200, nil, false, false, 200, false},
		{"error_answered_by_caddy", 0, errUp, false, false, 502, false},
		{"written_then_error", 200, errUp, false, false, 200, false},
		{"client_left", 0, nil, false, true, 0, true},
		{"panic", 200, nil, true, false, 200, true},
	} {
		l := NewLine(r)
		l.Answered(tc.status, 10, tc.err, 502, tc.panicking, tc.cancelled)
		if l.Status != tc.wantStatus || l.Aborted != tc.aborted || l.Err != tc.err || l.ResponseBodyBytes != 10 {
			t.Errorf("%s: status %d aborted %v", tc.name, l.Status, l.Aborted)
		}
	}
}

func outcome(v, guard, rule string) (o verdict.Outcome) {
	o.Verdict, o.Guard, o.Rule = v, guard, rule
	return o
}
