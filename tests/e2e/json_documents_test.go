package e2e

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Issue 11: an argument that is a whole JSON document (telemetry events in
// a form field or query parameter, a JSON string holding JSON in a JSON
// body) is read by 942550 leaf by leaf, so the "{…}" of its nested strings
// is not taken for SQL; JSON-based SQL injection is still refused, in a
// leaf of such a document or anywhere else.
func TestJSONDocumentArgumentsPass(t *testing.T) {
	s := startSite(t, "block")
	flags := `{"feed_version":{"enabled":true,"value":11},"advanced_settings_default_values":{"enabled":true,"value":"{}"}}`
	events := `[{"event_action":"show","event_name":"show_item","parameters":"{\"itemId\":4009935,\"sequen\":3,\"key\":\"床垫\"}","client_type":"web"}]`
	sqli := `1' and '{"a":1}'::jsonb @> '{"a":1}'--`
	jsonString := func(v string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	for _, c := range []struct {
		name, method, target, contentType, body string
		status                                  int
		rule                                    int // the event names it (or its decoded copy)
	}{
		{"json_body_with_json_in_a_string", "POST", "/echo/e", "application/json", `{"events":[{"name":"page view","feature_flags":` + jsonString(flags) + `}]}`, 200, 0},
		{"form_field_json_events", "POST", "/echo/main/a.js", "application/x-www-form-urlencoded", "events=" + url.QueryEscape(events), 200, 0},
		{"query_parameter_json", "GET", "/echo/ztbox?action=zpblog&data=" + url.QueryEscape(events), "", "", 200, 0},
		{"json_body_sqli_in_a_leaf", "POST", "/echo/e", "application/json", `{"q":` + jsonString(sqli) + `}`, 403, 942550},
		{"form_sqli_in_a_nested_document", "POST", "/echo/main/a.js", "application/x-www-form-urlencoded",
			"events=" + url.QueryEscape(`[{"parameters":`+jsonString(`{"q":`+jsonString(sqli)+`}`)+`}]`), 403, 942550},
		{"query_sqli_not_a_document", "GET", "/echo/ztbox?data=" + url.QueryEscape(sqli), "", "", 403, 942550},
		// 930120 reads a JSON body's keys as sent, not Coraza's dotted
		// paths (json.user.profile held the dot file ".profile").
		{"json_keys_profile_history", "POST", "/echo/api/users", "application/json", `{"user":{"profile":{"name":"a"},"history":[{"credentials":"none"}]}}`, 200, 0},
		{"json_key_dot_file", "POST", "/echo/api/users", "application/json", `{"file":{".htaccess":"deny"}}`, 403, 9430120},
		// Its phrases are matched as names, as 930120's own are: a key
		// written with dots ("config.credentials", a property path in a
		// log beacon) is no dot file; the dot file itself, or a path to
		// one, still is.
		{"json_key_dotted_property_path", "POST", "/echo/logstores/track", "application/json", `{"__topic__":"t","__logs__":[{"config.credentials":"default","config.profile":"x"}]}`, 200, 0},
		{"json_key_dot_file_credentials", "POST", "/echo/api/users", "application/json", `{"a":{".credentials":"x"}}`, 403, 9430120},
		{"json_key_path_to_dot_file", "POST", "/echo/api/users", "application/json", `{"/home/u/.bash_history":"x"}`, 403, 9430120},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, s.URL+c.target, body)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, c.status, b)
			}
			if c.status == 200 {
				var got received
				if err := jsonDecode(resp.Body, &got); err != nil {
					t.Fatal(err)
				}
				if got.Body != c.body || got.URI != c.target {
					t.Fatalf("upstream got %s body %q, want %s %q", got.URI, got.Body, c.target, c.body)
				}
				return
			}
			ev, ok := findLine[event](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			if !ok {
				t.Fatal("no event")
			}
			if ids := ev.ruleIDs(); !slices.Contains(ids, c.rule) && !slices.Contains(ids, c.rule-900000+9500000) {
				t.Fatalf("event rules %v, want %d among them", ids, c.rule)
			}
		})
	}
}
