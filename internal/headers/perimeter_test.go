package headers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/request"
)

func TestCheckRedirect(t *testing.T) {
	c, err := Policy{RedirectAllow: []string{"https://login.example.org", "*.cdn.example.net"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target, location string
		status                 int
		refused                bool
	}{
		{"param_named_offsite_target_is_refused", "/wp-login.php?redirect_to=https://evil.example/x", "https://evil.example/x", 302, true},
		{"encoded_param_is_refused", "/login?next=https%3A%2F%2Fevil.example%2F", "https://evil.example/", 302, true},
		{"double_encoded_param_is_refused", "/login?next=https%253A%252F%252Fevil.example%252F", "https://evil.example/", 301, true},
		{"scheme_relative_is_refused", "/go?u=//evil.example", "//evil.example", 302, true},
		{"backslash_trick_is_refused", "/go?u=/%5Cevil.example", `/\evil.example`, 302, true},
		{"https_colon_without_slashes_is_refused", "/go?u=https:evil.example", "https:evil.example", 303, true},
		{"userinfo_trick_is_refused", "/go?u=https://example.com@evil.example", "https://example.com@evil.example/", 307, true},
		{"target_in_path_is_refused", "/redirect/https://evil.example/", "https://evil.example/", 302, true},
		{"same_host_passes", "/wp-login.php?redirect_to=http://example.com/wp-admin/", "http://example.com/wp-admin/", 302, false},
		{"relative_passes", "/go?u=/wp-admin/", "/wp-admin/", 302, false},
		{"trusted_origin_passes", "/go?u=https://login.example.org/sso", "https://login.example.org/sso", 302, false},
		{"trusted_subdomain_passes", "/go?u=https://img.cdn.example.net/a", "https://img.cdn.example.net/a", 302, false},
		{"offsite_not_named_by_request_passes", "/logout", "https://sso.example.org/logout", 302, false},
		{"offsite_on_200_passes", "/go?u=https://evil.example", "https://evil.example", 201, false},
		{"mailto_passes", "/go?u=mailto:a@evil.example", "mailto:a@evil.example", 302, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.com"+tc.target, nil)
			err := c.CheckRedirect(tc.status, http.Header{"Location": {tc.location}}, r, nil)
			if got := errors.Is(err, ErrOpenRedirect); got != tc.refused {
				t.Fatalf("refused %v (%v), want %v", got, err, tc.refused)
			}
		})
	}
	off, _ := Policy{OpenRedirect: Off}.Compile()
	r := httptest.NewRequest("GET", "http://example.com/go?u=https://evil.example", nil)
	if err := off.CheckRedirect(302, http.Header{"Location": {"https://evil.example"}}, r, nil); err != nil {
		t.Errorf("open_redirect off: %v", err)
	}
}

// Issue 10: the open-redirect check reads the parameters as the CMS does
// (the request view), the form body included once the view has read it.
func TestCheckRedirectReadsTheView(t *testing.T) {
	c, _ := Policy{}.Compile()
	tests := []struct {
		name, target, body string
		dialect            request.Dialect
		refused            bool
	}{
		{"body_field_names_the_target", "/wp-login.php", "log=a&redirect_to=https%3A%2F%2Fevil.example%2F", request.PHP, true},
		{"cgi_semicolon_pair", "/cgi-bin/mt/mt.cgi?__mode=x;return_to=https://evil.example", "", request.CGI, true},
		{"percent_u_value_as_cgi_decodes_it", "/cgi-bin/mt/mt.cgi?r=https://evil%u002Eexample", "", request.CGI, true},
		{"body_without_the_host", "/wp-login.php", "log=a&redirect_to=%2Fwp-admin%2F", request.PHP, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://example.com"+tc.target, nil)
			v := request.New(r, tc.dialect)
			if tc.body != "" {
				if err := v.ReadBody("POST", "application/x-www-form-urlencoded", strings.NewReader(tc.body), 1<<20); err != nil {
					t.Fatal(err)
				}
			}
			err := c.CheckRedirect(302, http.Header{"Location": {"https://evil.example/"}}, r, v)
			if got := errors.Is(err, ErrOpenRedirect); got != tc.refused {
				t.Fatalf("refused %v (%v), want %v", got, err, tc.refused)
			}
		})
	}
}

func TestRespondRefusesOpenRedirect(t *testing.T) {
	c, _ := Policy{}.Compile()
	r := httptest.NewRequest("GET", "http://example.com/?return_to=https://evil.example/", nil)
	h := http.Header{"Location": {"https://evil.example/"}}
	if err := c.Respond(302, h, false, r, nil); !errors.Is(err, ErrOpenRedirect) {
		t.Fatalf("refusal %v", err)
	}
	// The same redirect the site chose by itself passes.
	if err := c.Respond(302, h, false, httptest.NewRequest("GET", "http://example.com/", nil), nil); err != nil {
		t.Fatal(err)
	}
}

func TestReadCSPReports(t *testing.T) {
	tests := []struct {
		name, method, ct, body string
		status                 int // 0: accepted
		want                   []string
	}{
		{"report_uri_format", "POST", "application/csp-report",
			`{"csp-report":{"document-uri":"https://example.com/entry","violated-directive":"script-src","effective-directive":"script-src-elem","blocked-uri":"https://evil.example/x.js","disposition":"enforce","source-file":"https://example.com/entry","line-number":12}}`,
			0, []string{"script-src-elem blocked https://evil.example/x.js on https://example.com/entry (enforce) at https://example.com/entry:12"}},
		{"reporting_api_batch", "POST", "application/reports+json",
			`[{"type":"csp-violation","body":{"documentURL":"https://example.com/","effectiveDirective":"img-src","blockedURL":"https://t.example/p.gif","disposition":"report"}},{"type":"deprecation","body":{}},{"type":"csp-violation","body":{"documentURL":"https://example.com/a","effectiveDirective":"script-src-elem","blockedURL":"inline"}}]`,
			0, []string{"img-src blocked https://t.example/p.gif on https://example.com/ (report)", "script-src-elem blocked inline on https://example.com/a"}},
		{"get_is_405", "GET", "application/csp-report", "", 405, nil},
		{"wrong_type_is_415", "POST", "text/plain", `{"csp-report":{}}`, 415, nil},
		{"too_large_is_413", "POST", "application/csp-report", `{"csp-report":{"blocked-uri":"` + strings.Repeat("a", CSPReportLimit) + `"}}`, 413, nil},
		{"not_json_is_400", "POST", "application/csp-report", `<xml/>`, 400, nil},
		{"batch_without_csp_is_400", "POST", "application/reports+json", `[{"type":"deprecation"}]`, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/.mamori/csp-report", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ct)
			reports, err := ReadCSPReports(r)
			if tc.status != 0 {
				var e *ErrReport
				if !errors.As(err, &e) || e.Status != tc.status {
					t.Fatalf("err %v, want status %d", err, tc.status)
				}
				return
			}
			if err != nil || len(reports) != len(tc.want) {
				t.Fatalf("reports %+v err %v", reports, err)
			}
			for i, want := range tc.want {
				if got := reports[i].Summary(); got != want {
					t.Errorf("report %d: %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestCSPReportPathIsAddedToThePolicy(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"default-src 'self';", "default-src 'self'; report-uri /.mamori/csp-report"},
		{"default-src 'self'; report-uri /r", "default-src 'self'; report-uri /r"},
	} {
		c, err := Policy{ContentSecurityPolicy: tc.policy, CSPReportPath: "/.mamori/csp-report"}.Compile()
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		c.Apply(h, false)
		if got := h.Get("Content-Security-Policy"); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	for _, p := range []Policy{{CSPReportPath: "csp"}, {CSPReportPath: "/a b"}, {OpenRedirect: "maybe"}, {RedirectAllow: []string{"a/b"}}} {
		if _, err := p.Compile(); err == nil {
			t.Errorf("%+v compiled", p)
		}
	}
}

func FuzzReadCSPReports(f *testing.F) {
	f.Add("application/csp-report", `{"csp-report":{"blocked-uri":"inline","line-number":3}}`)
	f.Add("application/reports+json", `[{"type":"csp-violation","body":{"blockedURL":"x"}}]`)
	f.Add("application/json", `[{"type":"csp-violation","body":null}]`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/r", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		reports, err := ReadCSPReports(r)
		if err == nil && len(reports) == 0 {
			t.Fatal("accepted without a report")
		}
		for _, rep := range reports {
			if s := rep.Summary(); strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("summary holds a control character: %q", s)
			}
		}
	})
}

func FuzzRedirectHost(f *testing.F) {
	for _, s := range []string{"https://evil.example/x", "//evil.example", `/\evil.example`, "https:evil.example", "/path", "mailto:x@y", "http://[::1]:80/", "\thttp://a"} {
		f.Add(s)
	}
	c, _ := Policy{}.Compile()
	f.Fuzz(func(t *testing.T, loc string) {
		host := redirectHost(loc)
		if host != "" && host != "?" && strings.ContainsAny(host, "/\\") {
			t.Fatalf("redirectHost(%q) = %q", loc, host)
		}
		r := httptest.NewRequest("GET", "http://example.com/?u=x", nil)
		_ = c.CheckRedirect(302, http.Header{"Location": {loc}}, r, nil)
	})
}
