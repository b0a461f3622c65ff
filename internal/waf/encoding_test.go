package waf

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

func compress(t testing.TB, coding, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "deflate-raw":
		w, _ = flate.NewWriter(&b, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriter(&b)
	default:
		t.Fatalf("coding %q", coding)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A compressed body is inspected decoded, by its Content-Type, and the
// upstream gets the bytes the client sent (issue 11: gzipped telemetry was
// refused by 920450).
func TestCompressedRequestBody(t *testing.T) {
	beacon := `{"events":[{"name":"page view","ts":1688383708,"url":"https://example.com/a?b=c"}]}`
	sqli := `{"q":"1' UNION SELECT password FROM users--"}`
	xss := "search=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"
	for _, c := range []struct {
		name, coding, header, ctype string
		body                        []byte
		status                      int    // 0: passes
		ruleID                      int    // the interruption's rule (status != 0, no error)
		err                         string // "body", "budget" or "" (no error)
	}{
		{name: "gzip_json_beacon_passes", coding: "gzip", ctype: "application/json", status: 0},
		{name: "x_gzip_json_beacon_passes", coding: "x-gzip", ctype: "application/json", status: 0},
		{name: "zlib_deflate_passes", coding: "deflate", ctype: "application/json", status: 0},
		{name: "raw_deflate_passes", coding: "deflate-raw", header: "deflate", ctype: "application/json", status: 0},
		{name: "br_passes", coding: "br", ctype: "application/json", status: 0},
		{name: "gzip_protobuf_binary_passes", coding: "gzip", ctype: "application/x-protobuf",
			body: []byte("\x0a\x05hello\x12\x0a\r\n\x00\xff\xfe\x1f\x8b binary")},
		{name: "gzip_json_sqli_refused", coding: "gzip", ctype: "application/json", body: []byte(sqli), status: 403, ruleID: 949110},
		{name: "br_form_xss_refused", coding: "br", ctype: "application/x-www-form-urlencoded", body: []byte(xss), status: 403, ruleID: 949110},
		{name: "identity_then_gzip_decodes", coding: "gzip", header: "identity, gzip", ctype: "application/json", status: 0},
		{name: "corrupt_gzip_refused", header: "gzip", ctype: "application/json", body: []byte("\x1f\x8b\x08\x00not gzip at all"), err: "body"},
		{name: "plain_body_labelled_gzip_refused", header: "gzip", ctype: "application/json", body: []byte(beacon), err: "body"},
		{name: "trailing_bytes_refused", coding: "deflate", ctype: "application/json", body: []byte(beacon), err: "body"},
		{name: "unknown_coding_restricted", header: "compress", ctype: "application/json", body: []byte(beacon), status: 403, ruleID: 949110},
		{name: "stacked_codings_restricted", header: "gzip, br", ctype: "application/json", body: []byte(beacon), status: 403, ruleID: 949110},
	} {
		t.Run(c.name, func(t *testing.T) {
			plain := c.body
			if plain == nil {
				plain = []byte(beacon)
			}
			sent := plain
			if c.coding != "" {
				sent = compress(t, c.coding, string(plain))
			}
			if c.name == "trailing_bytes_refused" {
				sent = append(sent, "&admin=1"...)
			}
			header := c.header
			if header == "" {
				header = c.coding
			}
			tx := defaultEngine(t).NewTransaction("enc-" + c.name)
			defer tx.Close()
			r := httptest.NewRequest("POST", "/collect", bytes.NewReader(sent))
			r.Header.Set("Content-Type", c.ctype)
			r.Header.Set("Content-Encoding", header)
			it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
			switch c.err {
			case "body":
				var be *BodyError
				if !errors.As(err, &be) || be.Status() != http.StatusBadRequest {
					t.Fatalf("err %v (interruption %+v), want a *BodyError", err, it)
				}
				return
			case "":
				if err != nil {
					t.Fatalf("ProcessRequest: %v", err)
				}
			}
			if c.status == 0 {
				if it != nil {
					t.Fatalf("interrupted %+v, matches %v", it, matchIDs(tx.Verdict()))
				}
				if got, _ := io.ReadAll(r.Body); !bytes.Equal(got, sent) {
					t.Fatalf("upstream got %q, want the bytes sent %q", got, sent)
				}
				if br, ok := tx.BufferedRequestBody(); ok {
					if got, _ := io.ReadAll(br); !bytes.Equal(got, plain) {
						t.Fatalf("buffered body %q, want the decoded %q", got, plain)
					}
				} else {
					t.Fatal("decoded body not offered to later guards")
				}
				if ids := matchIDs(tx.Verdict()); slices.Contains(ids, 920450) {
					t.Fatalf("920450 matched a decoded body: %v", ids)
				}
				return
			}
			if it == nil || it.Status != c.status || it.RuleID != c.ruleID {
				t.Fatalf("interruption %+v, want status %d by %d (matches %v)", it, c.status, c.ruleID, matchIDs(tx.Verdict()))
			}
		})
	}
}

// CRS's 920450-7: Content-Encoding on a request without a body stays a
// restricted header (there is nothing mamori decodes).
func TestContentEncodingWithoutBodyStaysRestricted(t *testing.T) {
	tx := defaultEngine(t).NewTransaction("enc-nobody")
	defer tx.Close()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Content-Encoding", "deflate")
	if _, err := tx.ProcessRequest(r, "192.0.2.1", 1234); err != nil {
		t.Fatal(err)
	}
	if ids := matchIDs(tx.Verdict()); !slices.Contains(ids, 920450) {
		t.Fatalf("matches %v, want 920450", ids)
	}
}

func TestCompressedBodyOverBudget(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 3<<20) + `"}`
	for _, c := range []struct {
		name   string
		budget Budget
		status int // 0: passes
	}{
		{name: "default_2MiB_refuses", status: http.StatusRequestEntityTooLarge},
		{name: "raised_passes_to_the_inspection_budget", budget: Budget{DecompressedBytes: 8 << 20, InspectedBytes: -1}, status: 0},
		{name: "small_budget_refuses", budget: Budget{DecompressedBytes: 1 << 10}, status: http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := engineFor(t, Config{Budget: c.budget, Detection: defaultEngine(t).config.Detection})
			tx := e.NewTransaction("enc-budget")
			defer tx.Close()
			r := httptest.NewRequest("POST", "/collect", bytes.NewReader(compress(t, "gzip", big)))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Content-Encoding", "gzip")
			it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
			var be *BudgetError
			if c.status == 0 {
				if err != nil || it != nil {
					t.Fatalf("err %v interruption %+v", err, it)
				}
				return
			}
			if !errors.As(err, &be) || be.What != "decompressed_bytes" || be.Status() != c.status {
				t.Fatalf("err %v, want a decompressed_bytes budget refusal", err)
			}
		})
	}
}

// The list mamori sets for decoded bodies is CRS's own without
// content-encoding, so it follows CRS's list.
func TestRestrictedHeadersDecoded(t *testing.T) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-901-INITIALIZATION.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := restrictedBasic.FindSubmatch(b)
	if m == nil || !strings.Contains(string(m[1]), "/content-encoding/") {
		t.Fatalf("CRS's restricted_headers_basic not found or without content-encoding: %q", m)
	}
	got := restrictedHeadersDecoded()
	want := strings.Join(strings.Fields(strings.Replace(string(m[1]), "/content-encoding/", "", 1)), " ")
	if got != want || strings.Contains(got, "content-encoding") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func matchIDs(v Verdict) []int {
	var ids []int
	for _, m := range v.Matches {
		ids = append(ids, m.ID)
	}
	return ids
}
