package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func gzipBody(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func brotliBody(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	_, _ = io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Issue 11: a compressed request body (telemetry beacons post gzipped
// protobuf and NDJSON) is decoded within the work budget and inspected
// decoded, by its Content-Type; the upstream receives the bytes the client
// sent. An attack inside the compressed body is refused; a body that does
// not decode is refused with its own event (400, rule body-encoding); a
// coding mamori does not decode stays a restricted header (920450), as in
// CRS.
func TestCompressedRequestBodies(t *testing.T) {
	s := startSite(t, "block")
	beacon := `{"events":[{"name":"page view","ts":1688383708,"url":"https://example.com/a?b=c"},{"name":"click","target":"#buy"}]}`
	for _, c := range []struct {
		name, contentType, encoding string
		body                        []byte
		status                      int
		guard, rule                 string // the refusal's event
		rules                       []int  // rules the event must name
	}{
		{name: "gzip_json_beacon", contentType: "application/json", encoding: "gzip", body: gzipBody(t, beacon), status: 200},
		{name: "gzip_protobuf", contentType: "application/x-protobuf", encoding: "gzip", body: gzipBody(t, "\n\x0bhello\r\nworld\x12\x03a=b\x1a\x02\r\n&x\x00\xff"), status: 200},
		{name: "gzip_ndjson", contentType: "application/x-ndjson", encoding: "gzip", body: gzipBody(t, "{\"a\":1}\n{\"b\":\"two words\"}\n"), status: 200},
		{name: "br_form", contentType: "application/x-www-form-urlencoded", encoding: "br", body: brotliBody(t, "title=Hello&text=A+short+entry."), status: 200},
		{name: "gzip_json_sqli", contentType: "application/json", encoding: "gzip", body: gzipBody(t, `{"q":"1' UNION SELECT password FROM users-- -"}`),
			status: 403, guard: "waf", rule: "949110", rules: []int{942100}},
		{name: "gzip_form_xss", contentType: "application/x-www-form-urlencoded", encoding: "gzip", body: gzipBody(t, "q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"),
			status: 403, guard: "waf", rule: "949110", rules: []int{941100}},
		{name: "corrupt_gzip", contentType: "application/json", encoding: "gzip", body: []byte("\x1f\x8b\x08\x00garbage, not deflate"),
			status: 400, guard: "waf", rule: "body-encoding"},
		{name: "gzip_over_budget", contentType: "application/json", encoding: "gzip", body: gzipBody(t, `{"a":"`+strings.Repeat("a", 3<<20)+`"}`),
			status: 413, guard: "budget", rule: "budget"},
		{name: "unknown_coding", contentType: "application/json", encoding: "compress", body: []byte(beacon),
			status: 403, guard: "waf", rule: "949110", rules: []int{920450}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := marker(t)
			req, _ := http.NewRequest("POST", s.URL+"/anything/collect?"+m, bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			req.Header.Set("Content-Encoding", c.encoding)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d\n%.300q", resp.StatusCode, c.status, got)
			}
			if c.status == 200 {
				want := string(c.body)
				if c.contentType == "application/x-www-form-urlencoded" {
					want, _ = url.QueryUnescape(want) // /anything decodes forms
				}
				if string(got) != want {
					t.Fatalf("upstream received %q, want the bytes sent %q", got, want)
				}
				return
			}
			id := resp.Header.Get("X-Request-Id")
			ev, ok := findLine[guardEvent](t, s, "events.log", "transaction.id", id)
			if !ok {
				t.Fatalf("no event for %s", id)
			}
			if ev.Guard != c.guard || ev.RuleID != c.rule || ev.Status != c.status || ev.Verdict != "blocked" {
				t.Fatalf("event guard %q rule %q status %d verdict %q, want %s %s %d blocked", ev.Guard, ev.RuleID, ev.Status, ev.Verdict, c.guard, c.rule, c.status)
			}
			if len(c.rules) > 0 {
				wev, _ := findLine[event](t, s, "events.log", "transaction.id", id)
				for _, r := range c.rules {
					if !slices.Contains(wev.ruleIDs(), r) {
						t.Fatalf("event rules %v, want %d among them", wev.ruleIDs(), r)
					}
				}
			}
			if n := upstreamGot(t, s.upstream, m); n != 0 {
				t.Fatalf("upstream received %d refused requests", n)
			}
		})
	}
}
