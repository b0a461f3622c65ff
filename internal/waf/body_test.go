package waf

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// The password policy reads the form from the WAF's buffer: a second
// reader over it must not take bytes from the upstream's copy.
func TestBufferedRequestBody(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		body string
		ok   bool
	}{
		{name: "small_form_is_buffered", body: "__mode=save&pass=Tokyo-Blue-42", ok: true},
		{name: "empty_body_is_whole", body: "", ok: true},
		{name: "partial_buffer_is_not_offered", cfg: Config{RequestBodyLimit: 16, RequestBodyInMemoryLimit: 16,
			SetupDirectives: "SecRequestBodyLimitAction ProcessPartial"}, body: strings.Repeat("a=b&", 20), ok: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := defaultEngine(t)
			if c.cfg.RequestBodyLimit != 0 {
				e = engineFor(t, c.cfg)
			}
			tx := e.NewTransaction("body-test")
			defer tx.Close()
			r := httptest.NewRequest("POST", "/cgi-bin/mt/mt.cgi", strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if it, err := tx.ProcessRequest(r, "192.0.2.1", 1234); err != nil || it != nil {
				t.Fatalf("ProcessRequest: %v %+v", err, it)
			}
			br, ok := tx.BufferedRequestBody()
			if ok != c.ok {
				t.Fatalf("buffered %v, want %v", ok, c.ok)
			}
			if ok {
				// Read half of the upstream's copy, all of ours, then the rest.
				half := make([]byte, len(c.body)/2)
				if _, err := io.ReadFull(r.Body, half); err != nil {
					t.Fatal(err)
				}
				ours, _ := io.ReadAll(br)
				rest, _ := io.ReadAll(r.Body)
				if string(ours) != c.body || string(half)+string(rest) != c.body {
					t.Fatalf("ours %q, upstream's %q", ours, string(half)+string(rest))
				}
				return
			}
			got, _ := io.ReadAll(r.Body)
			if string(got) != c.body {
				t.Fatalf("upstream's copy %q, want %q", got, c.body)
			}
		})
	}
}

// A text/plain body that is one JSON document is read as JSON: its leaves
// are arguments for every rule that reads ARGS, and REQUEST_BODY keeps
// the raw bytes; any other text/plain body stays raw (issue 11).
func TestTextPlainJSONBody(t *testing.T) {
	for _, c := range []struct {
		name, ctype, body string
		refused           bool
		rule              int // a rule that must match (0: none asked)
		target            string
	}{
		{name: "beacon_passes", ctype: "text/plain;charset=UTF-8", body: `{"events":[{"t":"click","x":12,"url":"https://example.com/a?b=c"}]}`},
		{name: "sqli_in_a_leaf_seen_by_crs", ctype: "text/plain", body: `{"q":"1' UNION SELECT password FROM users-- -"}`, refused: true, rule: 942100, target: "ARGS:json.q"},
		{name: "xss_in_a_leaf_seen_by_crs", ctype: "text/plain", body: `[{"m":"<script>alert(document.cookie)</script>"}]`, refused: true, rule: 941100, target: "ARGS:json.0.m"},
		{name: "java_class_in_a_leaf", ctype: "text/plain", body: `{"x":"java.lang.Runtime"}`, refused: true, rule: 944130, target: "ARGS:json.x"},
		{name: "not_json_stays_raw", ctype: "text/plain", body: "hello {not json} & a=b", refused: false},
		{name: "json_scalar_stays_raw", ctype: "text/plain", body: `"just a string"`, refused: false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := defaultEngine(t).NewTransaction("textjson")
			defer tx.Close()
			r := httptest.NewRequest("POST", "/beacon", strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ctype)
			it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
			if err != nil {
				t.Fatal(err)
			}
			v := tx.Verdict()
			if (it != nil) != c.refused {
				t.Fatalf("interruption %+v, want refused %v (matches %v)", it, c.refused, matchIDs(v))
			}
			if c.rule != 0 {
				found := false
				for _, m := range v.Matches {
					found = found || (m.ID == c.rule && m.Target == c.target)
				}
				if !found {
					t.Fatalf("no %d on %s among %+v", c.rule, c.target, v.Matches)
				}
			}
			// The raw bytes stay in REQUEST_BODY for the rules that read it.
			if rb := tx.tx.(plugintypes.TransactionState).Variables().RequestBody().Get(); rb != c.body {
				t.Fatalf("REQUEST_BODY %q, want the body", rb)
			}
			if got, _ := io.ReadAll(r.Body); string(got) != c.body {
				t.Fatalf("upstream got %q", got)
			}
		})
	}
}

func TestJSONKeys(t *testing.T) {
	got := jsonKeys(strings.NewReader(`{"a":1,"user":{"profile":{"x":[{"history":"v"},"s",{"y":{}}]},"b":"c"},"k":[1,2]}`))
	want := []string{"a", "user", "profile", "x", "history", "y", "b", "k"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := jsonKeys(strings.NewReader(`[{"a.b":1},{"../../etc/passwd":2}]`)); strings.Join(got, ",") != "a.b,../../etc/passwd" {
		t.Fatalf("got %q", got)
	}
}
