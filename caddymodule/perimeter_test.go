package caddymodule

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/limits"
	"github.com/mamori-waf/mamori/internal/paths"
	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

func TestPerimeterCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"limits_with_sizes_off_and_override", `mamori {
	limits {
		uri_length 4KiB
		header_count 50
		header_bytes 32KiB
		body 4MiB
		upload 64MB
		args 500
		arg_name 128
		arg_value off
		json_depth 32
		methods GET POST
		at /cgi-bin/mt/mt.cgi {
			body 64MB
			methods GET HEAD POST
		}
	}
}`, Handler{Limits: limits.Config{
			Limits: limits.Limits{URILength: 4096, HeaderCount: 50, HeaderBytes: 32 << 10, BodyBytes: 4 << 20, UploadBytes: 64_000_000,
				ArgCount: 500, ArgNameLength: 128, ArgValueLength: -1, JSONDepth: 32, Methods: []string{"GET", "POST"}},
			At: []limits.Override{{Path: "/cgi-bin/mt/mt.cgi", Limits: limits.Limits{BodyBytes: 64_000_000, Methods: []string{"GET", "HEAD", "POST"}}}},
		}}},
		{"admin_allow_top_level_and_paths_block", `mamori {
	admin_allow 203.0.113.0/24 2001:db8::/32
	admin_deny_status 404
	paths {
		deny *.inc /private/
		allow /downloads/*.zip
		case_insensitive on
		debug_param debug=1
		upload_path /files/
		directory_listings off
	}
}`, Handler{Paths: paths.Config{AdminAllow: []string{"203.0.113.0/24", "2001:db8::/32"}, AdminDenyStatus: 404,
			Deny: []string{"*.inc", "/private/"}, Allow: []string{"/downloads/*.zip"}, CaseInsensitive: true,
			DebugParams: []string{"debug=1"}, UploadPaths: []string{"/files/"}, DirectoryListings: "off"}}},
		{"header_additions", `mamori {
	headers {
		csp "default-src 'self'"
		csp_report /.mamori/csp-report
		open_redirect block
		redirect_allow https://login.example.org *.example.net
	}
}`, Handler{Headers: headers.Policy{ContentSecurityPolicy: "default-src 'self'", CSPReportPath: "/.mamori/csp-report",
			OpenRedirect: "block", RedirectAllow: []string{"https://login.example.org", "*.example.net"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			// The JSON form round-trips to the same configuration.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var back Handler
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tc.want) {
				t.Fatalf("JSON %s round-trips to %+v (%v)", b, back, err)
			}
		})
	}
}

func TestPerimeterCaddyfileErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"bad_size", "mamori {\n\tlimits {\n\t\tbody lots\n\t}\n}", "limits: body \"lots\": not a size such as 8KiB or 64MB, or off, at Testfile:3"},
		{"bad_count", "mamori {\n\tlimits {\n\t\targs -3\n\t}\n}", "Testfile:3"},
		{"unknown_limit", "mamori {\n\tlimits {\n\t\tspeed 3\n\t}\n}", "unknown limits option \"speed\""},
		{"lower_case_method", "mamori {\n\tlimits {\n\t\tmethods get\n\t}\n}", "must be upper case"},
		{"relative_override", "mamori {\n\tlimits {\n\t\tat cgi-bin {\n\t\t\tbody 1MB\n\t\t}\n\t}\n}", "limits: at \"cgi-bin\": path must start with /, at Testfile:3"},
		{"bad_cidr", "mamori {\n\tadmin_allow 203.0.113.0/40\n}", "Testfile:2"},
		{"bad_deny_status", "mamori {\n\tadmin_deny_status 500\n}", "admin_deny_status must be 403 or 404, at Testfile:2"},
		{"bad_glob", "mamori {\n\tpaths {\n\t\tdeny [a-\n\t}\n}", "glob"},
		{"bad_paths_option", "mamori {\n\tpaths {\n\t\thide x\n\t}\n}", "unknown paths option \"hide\", at Testfile:3"},
		{"bad_csp_report", "mamori {\n\theaders {\n\t\tcsp_report report\n\t}\n}", "csp report path"},
		{"bad_open_redirect", "mamori {\n\theaders {\n\t\topen_redirect maybe\n\t}\n}", "open_redirect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// BenchmarkPerimeter is the per-request cost of the guards before the
// WAF (limits, CSP endpoint check, path guards) for an ordinary public
// page request under the Movable Type profile with an admin allow-list.
func BenchmarkPerimeter(b *testing.B) {
	h := &Handler{Profile: &ProfileConfig{Name: "movabletype"}, Paths: paths.Config{AdminAllow: []string{"203.0.113.0/24"}}}
	p, err := profile.Get("movabletype", profile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h.profile = p
	if err := h.provisionPerimeter(); err != nil {
		b.Fatal(err)
	}
	if h.headers, err = (headers.Policy{CSPReportPath: "/.mamori/csp-report"}).Compile(); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://example.com/2026/05/gardening.html?utm_source=feed&utm_medium=rss&lang=ja", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0 Safari/537.36")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "ja,en-US;q=0.7,en;q=0.3")
	r.Header.Set("Cookie", "mt_commenter=0123456789abcdef; _ga=GA1.2.345.678")
	w := httptest.NewRecorder()
	h.wireStages()
	b.ReportAllocs()
	for b.Loop() {
		// The view is built once per request, as ServeHTTP does.
		v := request.New(r, request.CGI)
		o := &outcome{h: h, r: r, clientIP: "198.51.100.9", view: v}
		if h.perimeter(w, r, o, &pipeline.Request{HTTP: r, View: v, ClientIP: o.clientIP}) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkBodyLimits is the cost of counting a 64 KiB url-encoded body
// (an entry save) while it streams.
func BenchmarkBodyLimits(b *testing.B) {
	c, _ := limits.Config{}.Compile()
	body := "__mode=save_entry&blog_id=1&title=Gardening&text=" + strings.Repeat("%E6%97%A5+tomatoes+", 64<<10/18)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/cgi-bin/mt/mt.cgi", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c.Body(r, request.New(r, request.CGI))
		for {
			if _, err := r.Body.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
