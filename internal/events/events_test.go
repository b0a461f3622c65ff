package events

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func sampleEvent() Event {
	return Event{
		RequestID:     "abcdefghijklmnopqrstuvwx",
		Time:          time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ClientIP:      "203.0.113.7",
		Host:          "www.example.jp",
		Method:        "GET",
		Path:          "/search",
		UserAgent:     "curl/8.0",
		Guard:         "waf",
		Verdict:       VerdictBlocked,
		Status:        403,
		RuleID:        "949110",
		RuleName:      "Inbound Anomaly Score Exceeded (Total Score: 5)",
		InboundScore:  5,
		OutboundScore: 0,
		Rules: []Rule{
			{ID: 942100, Message: "SQL Injection Attack Detected via libinjection", Severity: "critical", Tags: []string{"attack-sqli", "paranoia-level/1"}, Phase: 2, Target: "ARGS:id", Match: "1' OR '1'='1", Data: "Matched Data: s&sos found within ARGS:id"},
			{ID: 949110, Message: "Inbound Anomaly Score Exceeded (Total Score: 5)", Phase: 2},
		},
	}
}

// encodeJSON renders the event's fields the way Caddy's JSON log does.
func encodeJSON(t *testing.T, e *Event) string {
	t.Helper()
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", LevelKey: "level", EncodeLevel: zapcore.LowercaseLevelEncoder})
	buf, err := enc.EncodeEntry(zapcore.Entry{Level: zapcore.WarnLevel, Message: "request blocked"}, e.Fields())
	if err != nil {
		t.Fatalf("EncodeEntry: %v", err)
	}
	return buf.String()
}

func TestFields(t *testing.T) {
	e := sampleEvent()
	line := encodeJSON(t, &e)
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, line)
	}

	tests := []struct {
		name  string
		field string
		want  any
	}{
		{"transaction_id_is_request_id", "transaction.id", "abcdefghijklmnopqrstuvwx"},
		{"source_ip_is_client_ip", "source.ip", "203.0.113.7"},
		{"url_path_is_path", "url.path", "/search"},
		{"url_domain_is_host", "url.domain", "www.example.jp"},
		{"http_request_method_is_method", "http.request.method", "GET"},
		{"http_response_status_code_is_status", "http.response.status_code", float64(403)},
		{"user_agent_original_is_user_agent", "user_agent.original", "curl/8.0"},
		{"rule_id_is_deciding_rule", "rule.id", "949110"},
		{"rule_name_is_deciding_rule_message", "rule.name", "Inbound Anomaly Score Exceeded (Total Score: 5)"},
		{"event_action_is_guard_and_verdict", "event.action", "waf-blocked"},
		{"event_kind_is_alert", "event.kind", "alert"},
		{"event_module_is_mamori", "event.module", "mamori"},
		{"inbound_score", "mamori.anomaly.inbound", float64(5)},
		{"verdict", "mamori.verdict", "blocked"},
		{"guard", "mamori.guard", "waf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got[tt.field] != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.field, got[tt.field], tt.want)
			}
		})
	}

	t.Run("blocked_event_type_is_denied", func(t *testing.T) {
		if typ, _ := got["event.type"].([]any); len(typ) != 1 || typ[0] != "denied" {
			t.Errorf("event.type = %v, want [denied]", got["event.type"])
		}
	})
	t.Run("detected_event_type_is_allowed", func(t *testing.T) {
		d := sampleEvent()
		d.Verdict = VerdictDetected
		var m map[string]any
		if err := json.Unmarshal([]byte(encodeJSON(t, &d)), &m); err != nil {
			t.Fatal(err)
		}
		if typ, _ := m["event.type"].([]any); len(typ) != 1 || typ[0] != "allowed" {
			t.Errorf("event.type = %v, want [allowed]", m["event.type"])
		}
		if m["event.action"] != "waf-detected" {
			t.Errorf("event.action = %v, want waf-detected", m["event.action"])
		}
	})

	t.Run("rules_array_has_id_first_as_number_for_go_ftw", func(t *testing.T) {
		for _, want := range []string{`{"id":942100,`, `{"id":949110,`} {
			if !strings.Contains(line, want) {
				t.Errorf("event lacks %s:\n%s", want, line)
			}
		}
	})
	t.Run("rule_objects_carry_details", func(t *testing.T) {
		rules, _ := got["mamori.rules"].([]any)
		if len(rules) != 2 {
			t.Fatalf("mamori.rules = %v, want 2 rules", got["mamori.rules"])
		}
		r := rules[0].(map[string]any)
		want := map[string]any{"id": float64(942100), "severity": "critical", "phase": float64(2), "target": "ARGS:id", "match": "1' OR '1'='1"}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("rule %s = %#v, want %#v", k, r[k], v)
			}
		}
		if tags, _ := r["tags"].([]any); len(tags) != 2 || tags[0] != "attack-sqli" {
			t.Errorf("rule tags = %v", r["tags"])
		}
		r2 := rules[1].(map[string]any)
		for _, k := range []string{"severity", "target", "match", "data", "tags"} {
			if _, ok := r2[k]; ok {
				t.Errorf("empty %s written for rule 949110: %v", k, r2)
			}
		}
	})
	t.Run("no_rule_id_without_deciding_rule", func(t *testing.T) {
		e := sampleEvent()
		e.RuleID, e.Status = "", 0
		fields := map[string]bool{}
		for _, f := range e.Fields() {
			fields[f.Key] = true
		}
		if fields["rule.id"] || fields["http.response.status_code"] {
			t.Errorf("rule.id or status code written when unset")
		}
	})
	t.Run("long_path_and_user_agent_are_truncated", func(t *testing.T) {
		e := sampleEvent()
		e.Path = "/" + strings.Repeat("a", 5000)
		e.UserAgent = strings.Repeat("b", 5000)
		var m map[string]any
		if err := json.Unmarshal([]byte(encodeJSON(t, &e)), &m); err != nil {
			t.Fatal(err)
		}
		if p := m["url.path"].(string); len(p) > 2100 || !strings.Contains(p, "more bytes]") {
			t.Errorf("url.path not truncated: %d bytes", len(p))
		}
		if ua := m["user_agent.original"].(string); len(ua) > 600 || !strings.Contains(ua, "more bytes]") {
			t.Errorf("user_agent.original not truncated: %d bytes", len(ua))
		}
	})
}

func TestEmit(t *testing.T) {
	tests := []struct {
		verdict string
		level   zapcore.Level
	}{
		{VerdictBlocked, zapcore.WarnLevel},
		{VerdictDetected, zapcore.WarnLevel},
		{VerdictFlagged, zapcore.InfoLevel},
	}
	for _, tt := range tests {
		t.Run(tt.verdict+"_logs_at_"+tt.level.String(), func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			e := sampleEvent()
			e.Verdict = tt.verdict
			e.Emit(zap.New(core).Named(LoggerName))
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d entries, want 1", len(entries))
			}
			en := entries[0]
			if en.Level != tt.level || en.Message != "request "+tt.verdict || en.LoggerName != LoggerName {
				t.Errorf("entry %v %q %q, want %v %q %q", en.Level, en.Message, en.LoggerName, tt.level, "request "+tt.verdict, LoggerName)
			}
			ctx := en.ContextMap()
			for _, k := range []string{"transaction.id", "source.ip", "url.path", "http.request.method", "rule.id", "event.action"} {
				if _, ok := ctx[k]; !ok {
					t.Errorf("field %s missing", k)
				}
			}
			if ctx["event.action"] != "waf-"+tt.verdict {
				t.Errorf("event.action = %v", ctx["event.action"])
			}
		})
	}

	t.Run("disabled_level_writes_nothing", func(t *testing.T) {
		core, logs := observer.New(zapcore.ErrorLevel)
		e := sampleEvent()
		e.Emit(zap.New(core))
		if logs.Len() != 0 {
			t.Errorf("%d entries at error level", logs.Len())
		}
	})
}

func TestMatchValue(t *testing.T) {
	const secret = "hunter2' OR 1=1--"
	tests := []struct {
		name   string
		target string
		value  string
		want   string
	}{
		{"password_arg_is_redacted", "ARGS:password", secret, Redacted},
		{"pwd_arg_is_redacted", "ARGS:pwd", secret, Redacted},
		{"post_password_arg_is_redacted", "ARGS_POST:user_pass", secret, Redacted},
		{"upper_case_password_arg_is_redacted", "ARGS:PASSWORD", secret, Redacted},
		{"any_cookie_is_redacted", "REQUEST_COOKIES:anything", secret, Redacted},
		{"whole_cookie_collection_is_redacted", "REQUEST_COOKIES", secret, Redacted},
		{"authorization_header_is_redacted", "REQUEST_HEADERS:Authorization", "Bearer abc.def", Redacted},
		{"cookie_header_is_redacted", "REQUEST_HEADERS:Cookie", "sid=abc", Redacted},
		{"token_arg_is_redacted", "ARGS:magic_token", secret, Redacted},
		{"api_key_arg_is_redacted", "ARGS:api_key", secret, Redacted},
		{"csrf_arg_is_redacted", "ARGS:csrf_token", secret, Redacted},
		{"json_password_arg_is_redacted", "ARGS:json.user.password", secret, Redacted},
		{"api_key_header_is_redacted", "REQUEST_HEADERS:X-Api-Key", "sk_live_abcdef", Redacted},
		{"access_key_arg_with_hyphen_is_redacted", "ARGS:access-key", "AKIAABCDEF", Redacted},
		{"keywords_arg_is_kept", "ARGS:keywords", secret, secret},
		{"author_arg_is_kept", "ARGS:author", secret, secret},
		{"id_arg_is_kept", "ARGS:id", secret, secret},
		{"user_agent_is_kept", "REQUEST_HEADERS:User-Agent", "sqlmap/1.7", "sqlmap/1.7"},
		{"cookie_names_are_kept", "REQUEST_COOKIES_NAMES:sid", "sid", "sid"},
		{"request_filename_is_kept", "REQUEST_FILENAME", "/etc/passwd", "/etc/passwd"},
		{"empty_value_is_empty", "ARGS:password", "", ""},
		{"long_value_is_truncated", "ARGS:q", strings.Repeat("x", 500), strings.Repeat("x", MaxMatchLength) + "…[380 more bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchValue(tt.target, tt.value); got != tt.want {
				t.Errorf("MatchValue(%q, %q) = %q, want %q", tt.target, tt.value, got, tt.want)
			}
		})
	}
}

func TestMatchValueRawBodyHidesSecrets(t *testing.T) {
	// CRS matches the raw body too (REQUEST_BODY: 931110, 921110, 944xxx);
	// a login form's password must not reach the event through it.
	tests := []struct{ name, target, value, secret string }{
		{"form_body_password", "REQUEST_BODY", "user=alice&password=hunter2&next=java.lang.Runtime", "hunter2"},
		{"json_body_token", "REQUEST_BODY", `{"user":"alice","token":"tok_9f8e7d","q":"java.lang.Runtime"}`, "tok_9f8e7d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchValue(tt.target, tt.value); strings.Contains(got, tt.secret) {
				t.Errorf("MatchValue(%q, ...) = %q reveals %q", tt.target, got, tt.secret)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	ja := "日本語のテキストです。攻撃ではありません。" // 3 bytes per rune
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"short_string_is_unchanged", "abc", 10, "abc"},
		{"string_of_exactly_n_is_unchanged", "abcdef", 6, "abcdef"},
		{"ascii_is_cut_at_n_and_marked", "abcdefghij", 4, "abcd…[6 more bytes]"},
		{"japanese_cut_on_rune_boundary", ja, 10, "日本語…[" + strconv.Itoa(len(ja)-9) + " more bytes]"},
		{"japanese_cut_exactly_on_boundary", ja, 9, "日本語…[" + strconv.Itoa(len(ja)-9) + " more bytes]"},
		{"cut_inside_first_rune_keeps_nothing", ja, 2, "…[" + strconv.Itoa(len(ja)) + " more bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.s, tt.n)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Truncate produced invalid UTF-8: %q", got)
			}
		})
	}

	t.Run("every_cut_of_japanese_is_valid_utf8", func(t *testing.T) {
		for n := 0; n <= len(ja); n++ {
			got := Truncate(ja, n)
			if !utf8.ValidString(got) {
				t.Fatalf("Truncate(ja, %d) = %q is invalid UTF-8", n, got)
			}
			kept, _, _ := strings.Cut(got, "…[")
			if len(kept) > n || !strings.HasPrefix(ja, kept) {
				t.Fatalf("Truncate(ja, %d) kept %q", n, kept)
			}
			if n < len(ja) && !strings.HasSuffix(got, " more bytes]") {
				t.Fatalf("Truncate(ja, %d) = %q lacks the cut mark", n, got)
			}
		}
	})
}

func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool, 1000)
	for i := 0; i < 1000; i++ {
		id := NewRequestID()
		if len(id) != 24 {
			t.Fatalf("NewRequestID() = %q, %d chars, want 24", id, len(id))
		}
		if strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("NewRequestID() = %q has characters outside lower-case base32", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
}

// Audit fields (login, logout, session decisions) render under their ECS
// names, and only when set.
func TestEventAuditFields(t *testing.T) {
	e := &Event{RequestID: "r1", Guard: "auth", Verdict: VerdictAllowed, Action: "login", Outcome: "failure",
		Category: []string{"authentication", "session"}, UserName: "melody", SessionRef: "abc123"}
	got := map[string]any{}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range e.Fields() {
		f.AddTo(enc)
	}
	for k, v := range enc.Fields {
		got[k] = v
	}
	want := map[string]any{"event.action": "login", "event.outcome": "failure", "user.name": "melody",
		"mamori.session.ref": "abc123", "event.kind": "event"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	plain := &Event{RequestID: "r2", Guard: "waf", Verdict: VerdictBlocked}
	enc = zapcore.NewMapObjectEncoder()
	for _, f := range plain.Fields() {
		f.AddTo(enc)
	}
	for _, k := range []string{"event.outcome", "user.name", "mamori.session.ref"} {
		if _, ok := enc.Fields[k]; ok {
			t.Errorf("unset %s rendered", k)
		}
	}
	if enc.Fields["event.action"] != "waf-blocked" || enc.Fields["event.kind"] != "alert" {
		t.Errorf("defaults changed: %v %v", enc.Fields["event.action"], enc.Fields["event.kind"])
	}
}

func TestForRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "http://example.com/a%2Fb?x=1", nil)
	r.Header.Set("User-Agent", "curl/8")
	e := ForRequest(r, "rid", "192.0.2.1")
	if e.RequestID != "rid" || e.ClientIP != "192.0.2.1" || e.Host != "example.com" || e.Method != "GET" ||
		e.Path != "/a%2Fb" || e.UserAgent != "curl/8" || e.Time.IsZero() || e.Guard != "" {
		t.Fatalf("%+v", e)
	}
}
