package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/accesslog"
	"github.com/mamori-waf/mamori/internal/verdict"
)

func TestAccessLogCaddyfile(t *testing.T) {
	tests := []struct {
		name, input string
		// want is the access_log JSON ("" for none), or an error part.
		want, err string
	}{
		{"off", "mamori {\n\taccess_log off\n}", `{"off":true}`, ""},
		{"file name keeps default retention", "mamori {\n\taccess_log /srv/log/a.log\n}",
			`{"output":{"filename":"/srv/log/a.log","output":"file","roll_interval":86400000000000,"roll_keep":100000,"roll_keep_days":400,"roll_size_mb":100}}`, ""},
		{"retention options without a name", "mamori {\n\taccess_log {\n\t\troll_keep_for 30d\n\t\troll_size 10MiB\n\t}\n}",
			`{"output":{"output":"file","roll_interval":86400000000000,"roll_keep":100000,"roll_keep_days":30,"roll_size_mb":10}}`, ""},
		{"chain key and ship", "mamori {\n\taccess_log {\n\t\tchain_key {env.K}\n\t\tship mamori_syslog tcp://127.0.0.1:514\n\t}\n}",
			`{"chain_key":"{env.K}","ship":[{"address":"tcp://127.0.0.1:514","output":"mamori_syslog"}]}`, ""},
		{"other output", "mamori {\n\taccess_log {\n\t\toutput stdout\n\t}\n}", `{"output":{"output":"stdout"}}`, ""},
		{"file name and output conflict", "mamori {\n\taccess_log /a.log {\n\t\toutput stdout\n\t}\n}", "", "a file name or an output"},
		{"bad retention value", "mamori {\n\taccess_log {\n\t\troll_keep_for soon\n\t}\n}", "", "roll_keep_for"},
		{"off with a block", "mamori {\n\taccess_log off {\n\t\troll_keep 3\n\t}\n}", "", "takes no block"},
		{"bad syslog address", "mamori {\n\taccess_log {\n\t\tship mamori_syslog udp://x:514\n\t}\n}", "", "tcp://host:port"},
		{"bad syslog option", "mamori {\n\taccess_log {\n\t\tship mamori_syslog tcp://x:514 {\n\t\t\tqueue_size 0\n\t\t}\n\t}\n}", "", "queue_size"},
		{"secret fields", "mamori {\n\tlog_secret_fields pin otp\n}", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parse(tc.input)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				if !strings.Contains(err.Error(), "Testfile:") {
					t.Errorf("error %q lacks the Caddyfile line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if tc.name == "secret fields" && strings.Join(h.Logs.SecretFields, ",") != "pin,otp" {
					t.Errorf("secret fields %v", h.Logs.SecretFields)
				}
				return
			}
			got, _ := json.Marshal(h.Logs.AccessLog)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestChainWriterCaddyfile(t *testing.T) {
	var cw ChainWriter
	err := cw.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mamori_chain {\n\tkey {env.K}\n\toutput file /var/log/e.log {\n\t\troll_keep_for 400d\n\t}\n}"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cw)
	want := `{"key":"{env.K}","writer":{"filename":"/var/log/e.log","output":"file","roll_keep_days":400}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var bad ChainWriter
	if err := bad.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mamori_chain {\n\tkey x\n}")); err == nil {
		t.Error("a chain without output was accepted")
	}
}

func TestResolveKey(t *testing.T) {
	t.Setenv("MAMORI_TEST_KEY", "0123456789abcdef-xyz")
	if k, err := resolveKey("{env.MAMORI_TEST_KEY}"); err != nil || string(k) != "0123456789abcdef-xyz" {
		t.Errorf("%q %v", k, err)
	}
	if _, err := resolveKey("{env.MAMORI_UNSET_KEY}"); err == nil {
		t.Error("an unset key was accepted")
	}
	if _, err := resolveKey("short"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short key: %v", err)
	}
}

func TestRetentionReport(t *testing.T) {
	cfg := `{"logging":{"logs":{"events":{"writer":{"output":"mamori_chain","key":"{env.K}","writer":{"output":"file","filename":"/var/log/mamori/events.log","roll_keep_days":400}},"include":["mamori.events"]}}},
	"apps":{"http":{"servers":{"s":{"routes":[{"handle":[{"handler":"subroute","routes":[{"handle":[{"handler":"mamori","logs":{"access_log":{"output":{"output":"file","filename":"/l/a.log","roll_keep_days":30,"roll_keep":100000}}}}]}]}]}]}}}}}`
	// Without K in the environment the events log is not chained
	// (issue 15: it was reported chained).
	t.Setenv("K", "")
	rs, err := RetentionReport([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if text := FormatRetention(rs); !strings.Contains(text, "chained:     false") || !strings.Contains(text, "not chained in this environment") || strings.Contains(text, "chained:     true") {
		t.Errorf("unset key reported as chained:\n%s", text)
	}
	t.Setenv("K", "0123456789abcdef-retention")
	rs, err = RetentionReport([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	text := FormatRetention(rs)
	for _, want := range []string{
		"Caddy log events", "destination: /var/log/mamori/events.log", "retention:   400 days (at most 10 rolled files)",
		"roll_keep 10: files beyond the 10 newest are removed", "chained:     true",
		"mamori access log", "destination: /l/a.log", "retention:   30 days", "not tamper-evident",
		"Caddy log default", "destination: stderr",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// BenchmarkAccessLine is the per-request cost of mamori's access log
// (building, redacting and encoding one line; the writer discards it).
func BenchmarkAccessLine(b *testing.B) {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{TimeKey: "ts", MessageKey: "msg", EncodeTime: zapcore.RFC3339NanoTimeEncoder, LineEnding: "\n"})
	h := &Handler{access: zap.New(zapcore.NewCore(enc, zapcore.AddSync(discard{}), zapcore.InfoLevel))}
	r := httptest.NewRequest("GET", "/cgi-bin/mt/mt.cgi?__mode=view&blog_id=1&password=x", nil)
	r.Header.Set("Cookie", "mt_user=melody::abc::0")
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	o := &outcome{h: h, r: r, id: "abcdefghijklmnopqrstuvwx", clientIP: "192.0.2.1", Record: accesslog.Record{Outcome: verdict.Outcome{Verdict: "allowed"}}}
	rec := newResponse(httptest.NewRecorder())
	rec.status, rec.bytes = http.StatusOK, 5120
	start := time.Now()
	for b.Loop() {
		h.writeAccessLine(o, rec, start, nil, false)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
