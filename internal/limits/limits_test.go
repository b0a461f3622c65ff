package limits

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/request"
)

// small limits make every boundary cheap to reach.
var small = Config{Limits: Limits{
	URILength: 64, HeaderCount: 5, HeaderBytes: 200, BodyBytes: 100, UploadBytes: 300,
	ArgCount: 3, ArgNameLength: 8, ArgValueLength: 10, JSONDepth: 3,
}, At: []Override{
	{Path: "/cgi-bin/mt/mt.cgi", Limits: Limits{BodyBytes: 1000}},
	{Path: "/api/", Limits: Limits{Methods: []string{"GET", "PUT"}, JSONDepth: -1}},
}}

func req(method, target, ct, body string, headers ...string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// run applies Check, then streams the body through Body as the WAF would.
func run(c *Compiled, r *http.Request) *Refusal {
	if ref := c.Check(r, nil); ref != nil {
		return ref
	}
	b := c.Body(r, nil)
	if b == nil {
		return nil
	}
	// Odd-sized reads: limits must hold across chunk boundaries.
	buf := make([]byte, 7)
	for {
		_, err := r.Body.Read(buf)
		if err != nil {
			var ref *Refusal
			if errors.As(err, &ref) {
				if ref != b.Refusal() {
					panic("refusal not recorded")
				}
				return ref
			}
			return nil
		}
	}
}

func TestLimitBoundaries(t *testing.T) {
	c, err := small.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// httptest sets Host "example.com": 1 field, 4+11+4 = 19 bytes.
	tests := []struct {
		name   string
		r      *http.Request
		rule   string // "" passes
		status int
	}{
		{"uri_at_limit_passes", req("GET", "/"+strings.Repeat("a", 63), "", ""), "", 0},
		{"uri_one_over_is_414", req("GET", "/"+strings.Repeat("a", 64), "", ""), "uri-length", 414},
		{"header_count_at_limit_passes", req("GET", "/", "", "", "A", "1", "B", "2", "C", "3", "D", "4"), "", 0},
		{"header_count_one_over_is_431", req("GET", "/", "", "", "A", "1", "B", "2", "C", "3", "D", "4", "E", "5"), "header-count", 431},
		{"header_bytes_at_limit_passes", req("GET", "/", "", "", "X", strings.Repeat("v", 200-19-5)), "", 0},
		{"header_bytes_one_over_is_431", req("GET", "/", "", "", "X", strings.Repeat("v", 200-19-4)), "header-size", 431},
		{"body_at_limit_passes", req("POST", "/", "text/plain", strings.Repeat("b", 100)), "", 0},
		{"body_one_over_is_413_by_content_length", req("POST", "/", "text/plain", strings.Repeat("b", 101)), "body-size", 413},
		{"upload_at_limit_passes", req("POST", "/", "multipart/form-data; boundary=x", strings.Repeat("b", 300)), "", 0},
		{"upload_one_over_is_413", req("POST", "/", "multipart/form-data; boundary=x", strings.Repeat("b", 301)), "body-size", 413},
		{"override_widens_admin_body", req("POST", "/cgi-bin/mt/mt.cgi", "text/plain", strings.Repeat("b", 1000)), "", 0},
		{"override_one_over_is_413", req("POST", "/cgi-bin/mt/mt.cgi", "text/plain", strings.Repeat("b", 1001)), "body-size", 413},
		{"override_not_reached_by_dot_segments_elsewhere", req("POST", "/cgi-bin/mt/mt.cgi/../x", "text/plain", strings.Repeat("b", 101)), "body-size", 413},
		{"query_args_at_limit_pass", req("GET", "/?a=1&b=2&c=3", "", ""), "", 0},
		{"query_args_one_over_is_400", req("GET", "/?a=1&b=2&c=3&d=4", "", ""), "arg-count", 400},
		{"empty_pairs_do_not_count", req("GET", "/?a=1&&b=2&c=3&", "", ""), "", 0},
		{"arg_name_at_limit_passes", req("GET", "/?abcdefgh=1", "", ""), "", 0},
		{"arg_name_one_over_is_400", req("GET", "/?abcdefghi=1", "", ""), "arg-name-length", 400},
		{"arg_value_at_limit_passes", req("GET", "/?a=0123456789", "", ""), "", 0},
		{"arg_value_one_over_is_400", req("GET", "/?a=0123456789x", "", ""), "arg-value-length", 400},
		{"form_body_value_one_over_is_400", req("POST", "/", "application/x-www-form-urlencoded", "a=1&b=0123456789x"), "arg-value-length", 400},
		{"form_body_args_count_with_query", req("POST", "/?a=1&b=2", "application/x-www-form-urlencoded", "c=3&d=4"), "arg-count", 400},
		{"form_body_args_at_limit_with_query", req("POST", "/?a=1&b=2", "application/x-www-form-urlencoded", "c=3"), "", 0},
		{"json_depth_at_limit_passes", req("POST", "/", "application/json", `{"a":[{"b":1}]}`), "", 0},
		{"json_depth_one_over_is_400", req("POST", "/", "application/json", `{"a":[{"b":[1]}]}`), "json-depth", 400},
		{"json_brackets_in_strings_do_not_count", req("POST", "/", "application/json", `{"a":"[[[[{{\"[[["}`), "", 0},
		{"json_depth_off_by_override", req("PUT", "/api/x", "application/json", `[[[[[[1]]]]]]`), "", 0},
		{"vendor_json_is_json", req("POST", "/", "application/vnd.api+json", `[[[[1]]]]`), "json-depth", 400},
		{"trace_is_405", req("TRACE", "/", "", ""), "method", 405},
		{"override_method_list", req("POST", "/api/x", "", ""), "method", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := run(c, tc.r)
			if tc.rule == "" {
				if ref != nil {
					t.Fatalf("refused: %v", ref)
				}
				return
			}
			if ref == nil || ref.Rule != tc.rule || ref.Status != tc.status {
				t.Fatalf("got %+v, want %s %d", ref, tc.rule, tc.status)
			}
		})
	}
}

func TestChunkedBodyIsCountedWhileStreaming(t *testing.T) {
	c, _ := small.Compile()
	for _, n := range []int{100, 101} {
		r := req("POST", "/", "text/plain", strings.Repeat("b", n))
		r.ContentLength = -1 // as for a chunked body: no size up front
		ref := run(c, r)
		if (ref != nil) != (n > 100) {
			t.Errorf("%d bytes: refusal %v", n, ref)
		}
	}
}

func TestMethodRefusalNamesAllow(t *testing.T) {
	c, _ := Config{}.Compile()
	ref := c.Check(req("PROPFIND", "/", "", ""), nil)
	if ref == nil || ref.Status != 405 || ref.Allow != "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" {
		t.Fatalf("%+v", ref)
	}
}

func TestDefaultsLetACMSThrough(t *testing.T) {
	c, _ := Config{}.Compile()
	form := "__mode=save_entry&blog_id=1&magic_token=" + strings.Repeat("a", 40) + "&text=" + strings.Repeat("%E6%97%A5", 20000)
	r := req("POST", "/cgi-bin/mt/mt.cgi", "application/x-www-form-urlencoded", form, "Cookie", "mt_user=Melody%3A%3A"+strings.Repeat("f", 40)+"%3A%3A0")
	if ref := run(c, r); ref != nil {
		t.Fatal(ref)
	}
	if c.MaxBody() != DefaultUploadBytes {
		t.Errorf("MaxBody %d", c.MaxBody())
	}
}

func TestCompileRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Limits: Limits{URILength: -2}},
		{Limits: Limits{Methods: []string{"get"}}},
		{At: []Override{{Path: "cgi-bin"}}},
		{At: []Override{{Path: "/x", Limits: Limits{BodyBytes: -5}}}},
	} {
		if _, err := cfg.Compile(); err == nil {
			t.Errorf("%+v compiled", cfg)
		}
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{"a=1&b=2", `{"a":[1,{"b":"\"]"}]}`, "&&&==", `"\\\"`, "[[[[[[[["} {
		f.Add(s, true)
		f.Add(s, false)
	}
	c, _ := small.Compile()
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		r := req("POST", "/", ct, body)
		r.ContentLength = -1
		_ = run(c, r) // must not panic
	})
}

func BenchmarkCheck(b *testing.B) {
	c, _ := Config{At: []Override{{Path: "/cgi-bin/mt/mt.cgi", Limits: Limits{BodyBytes: 64 << 20}}}}.Compile()
	r := req("GET", "/2026/05/gardening.html?utm_source=feed&utm_medium=rss&lang=ja", "", "",
		"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "Accept", "text/html,application/xhtml+xml",
		"Accept-Language", "ja,en;q=0.8", "Cookie", "mt_commenter=abc; _ga=GA1.2.3")
	v := request.New(r, request.CGI)
	b.ReportAllocs()
	for b.Loop() {
		if c.Check(r, v) != nil {
			b.Fatal("refused")
		}
	}
}

func TestObservedBodyStreamsWhole(t *testing.T) {
	c, _ := small.Compile()
	body := strings.Repeat("b", 500)
	r := req("POST", "/", "text/plain", body)
	r.ContentLength = -1
	var seen []*Refusal
	c.Body(r, nil).Observe(func(ref *Refusal) { seen = append(seen, ref) })
	got, err := io.ReadAll(r.Body)
	if err != nil || string(got) != body {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if len(seen) != 1 || seen[0].Rule != "body-size" {
		t.Fatalf("observed %+v, want one body-size", seen)
	}
}

// Issue 11: the defaults let real browser traffic through: a telemetry
// query whose only "name" is a JSON blob, and a 16 KiB request target;
// beyond the defaults, the limits still refuse.
func TestDefaultsLetRealTrafficThrough(t *testing.T) {
	c, _ := Config{}.Compile()
	blob := `{"T":"CI.Init","FID":"CI","Name":"` + strings.Repeat("x", 3000) + `"}`
	for _, r := range []*http.Request{
		req("GET", "/fd/ls/l?"+url.QueryEscape(blob), "", ""),
		req("GET", "/search?state="+strings.Repeat("a", 16630), "", ""),
	} {
		if ref := run(c, r); ref != nil {
			t.Errorf("%.60s: refused %+v", r.URL.RawQuery, ref)
		}
	}
	if ref := run(c, req("GET", "/search?"+strings.Repeat("a", 17<<10)+"=1", "", "")); ref == nil || ref.Rule != "arg-name-length" {
		t.Errorf("a 17 KiB name: %+v, want arg-name-length", ref)
	}
	if ref := run(c, req("GET", "/search?q="+strings.Repeat("a", 33<<10), "", "")); ref == nil || ref.Rule != "uri-length" {
		t.Errorf("a 33 KiB target: %+v, want uri-length", ref)
	}
}

// Issue 10: the limits read the request as the CMS does (the request
// view): CGI.pm's ";" separates arguments, PHP's does not; an override
// for a script holds for its PATH_INFO and dot-segment spellings.
func TestLimitsReadTheView(t *testing.T) {
	c, _ := small.Compile()
	tests := []struct {
		name, method, target, ct, body string
		dialect                        request.Dialect
		rule                           string // "" for none
	}{
		{"cgi_semicolons_count_in_query", "GET", "/?a=1;b=2;c=3;d=4", "", "", request.CGI, "arg-count"},
		{"php_semicolons_do_not_separate", "GET", "/?a=1;b;c;d", "", "", request.PHP, ""},
		{"union_counts_the_largest_reading", "GET", "/?a=1;b;c;d", "", "", request.Union, "arg-count"},
		{"cgi_semicolons_count_in_body", "POST", "/", "application/x-www-form-urlencoded", "a=1;b=2;c=3;d=4", request.CGI, "arg-count"},
		{"php_body_semicolons_are_one_value", "POST", "/", "application/x-www-form-urlencoded", "a=1;b=2;c", request.PHP, ""},
		{"query_and_body_args_add_up", "POST", "/?a=1;b=2", "application/x-www-form-urlencoded", "c=1&d=2", request.CGI, "arg-count"},
		{"decoded_value_length", "GET", "/?a=%41%41%41%41%41%41%41%41", "", "", request.CGI, ""},
		{"long_decoded_value", "GET", "/?a=" + strings.Repeat("x", 11), "", "", request.CGI, "arg-value-length"},
		{"php_array_keys_count_in_name", "GET", "/?ab[cdefgh]=1", "", "", request.PHP, "arg-name-length"},
		{"override_holds_for_path_info", "POST", "/cgi-bin/mt/mt.cgi/x", "text/plain", strings.Repeat("b", 500), request.CGI, ""},
		{"override_holds_for_dot_segments", "POST", "/x/../cgi-bin/mt/mt.cgi", "text/plain", strings.Repeat("b", 500), request.CGI, ""},
		{"override_not_for_a_sibling", "POST", "/cgi-bin/mt/mt.cgi.bak", "text/plain", strings.Repeat("b", 500), request.CGI, "body-size"},
		{"prefix_override_via_encoded_path", "PUT", "/%61pi/x", "", "", request.CGI, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := req(tc.method, tc.target, tc.ct, tc.body)
			v := request.New(r, tc.dialect)
			ref := c.Check(r, v)
			if ref == nil {
				if b := c.Body(r, v); b != nil {
					_, _ = io.Copy(io.Discard, r.Body)
					ref = b.Refusal()
				}
			}
			got := ""
			if ref != nil {
				got = ref.Rule
			}
			if got != tc.rule {
				t.Fatalf("refusal %+v, want %q", ref, tc.rule)
			}
		})
	}
}
