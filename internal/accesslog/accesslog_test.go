package accesslog

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/events"
)

// encode writes l as the access log does and reads the JSON back.
func encode(t *testing.T, l Line) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", LineEnding: "\n"})
	zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zapcore.InfoLevel)).Info(Message, l.Fields()...)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	return m
}

func TestLineSchema(t *testing.T) {
	base := Line{
		RequestID: "abcdefghijklmnopqrstuvwx", ClientIP: "192.0.2.1", ClientPort: "50000",
		Method: "GET", Proto: "HTTP/1.1", Host: "example.com", RequestURI: "/?a=1", UserAgent: "curl/8",
		Header: http.Header{"Accept": {"*/*"}}, Status: 200, ResponseBodyBytes: 10, Duration: time.Millisecond,
	}
	d := 1500 * time.Millisecond
	tests := []struct {
		name   string
		change func(*Line)
		want   map[string]any // fields that must have these values
		absent []string       // fields that must not be there
	}{
		{"allowed_by_default", func(*Line) {}, map[string]any{
			"transaction.id": "abcdefghijklmnopqrstuvwx", "event.kind": "event", "event.category": "web",
			"event.outcome": "success", "event.duration": float64(time.Millisecond), "source.ip": "192.0.2.1",
			"source.port": "50000", "http.version": "1.1", "url.domain": "example.com", "url.original": "/?a=1",
			"http.response.status_code": float64(200), "mamori.verdict": "allowed", "msg": Message,
		}, []string{"mamori.guard", "rule.id", "tls.version", "mamori.rule_ids", "mamori.aborted", "error.message", "mamori.upstream.status_code"}},
		{"guard_refusal", func(l *Line) { l.Status, l.Verdict, l.Guard, l.Rule = 403, "blocked", "paths", "vcs" },
			map[string]any{"event.outcome": "failure", "mamori.verdict": "blocked", "mamori.guard": "paths", "rule.id": "vcs"}, nil},
		{"waf_rules_and_scores", func(l *Line) { l.Verdict, l.RuleIDs, l.Inbound = "flagged", []int{942100}, 3 },
			map[string]any{"mamori.rule_ids": []any{float64(942100)}, "mamori.anomaly.inbound": float64(3), "mamori.anomaly.outbound": float64(0)}, nil},
		{"secrets_masked", func(l *Line) {
			l.RequestURI = "/login?user=a;password=SECRET"
			l.Header = http.Header{"Cookie": {"mt_user=SECRET"}, "X-Api-Token": {"SECRET"}}
		}, map[string]any{"http.request.headers": map[string]any{"Cookie": []any{"REDACTED"}, "X-Api-Token": []any{events.Redacted}}}, nil},
		{"tls_and_upstream", func(l *Line) {
			l.TLSVersion = tls.VersionTLS13
			l.Upstream = Upstream{Status: 200, Duration: &d, Address: "127.0.0.1:8080"}
		}, map[string]any{"tls.version": "TLS 1.3", "mamori.upstream.status_code": float64(200),
			"mamori.upstream.duration": 1.5, "mamori.upstream.address": "127.0.0.1:8080"}, nil},
		{"aborted_with_error", func(l *Line) { l.Aborted, l.Err = true, errors.New(strings.Repeat("e", 600)) },
			map[string]any{"mamori.aborted": true, "event.outcome": "failure"}, nil},
		{"no_answer", func(l *Line) { l.Status = 0 }, map[string]any{"event.outcome": "unknown"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := base
			tc.change(&l)
			m := encode(t, l)
			for k, v := range tc.want {
				if !reflect.DeepEqual(m[k], v) {
					t.Errorf("%s = %#v, want %#v", k, m[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := m[k]; ok {
					t.Errorf("%s present: %v", k, m[k])
				}
			}
			if strings.Contains(strings.Join(strings.Fields(func() string { b, _ := json.Marshal(m); return string(b) }()), ""), "SECRET") {
				t.Errorf("a secret reached the line: %v", m)
			}
			if e, ok := m["error.message"].(string); ok && len(e) > 600 {
				t.Errorf("error.message not truncated: %d bytes", len(e))
			}
		})
	}
}

func TestCutShort(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		panicking, cancelled bool
		status               int
		err                  error
		want                 bool
	}{
		{"whole_answer_then_client_closed", false, true, 200, nil, false},
		{"panic", true, false, 200, nil, true},
		{"client_left_before_the_answer", false, true, 0, nil, true},
		{"proxy_499", false, true, 499, nil, true},
		{"cancelled_with_error", false, true, 502, errors.New("x"), true},
		{"not_cancelled_error", false, false, 502, errors.New("x"), false},
	} {
		if got := CutShort(tc.panicking, tc.cancelled, tc.status, tc.err); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
