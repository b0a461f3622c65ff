package headers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		policy   Policy
		https    bool
		upstream http.Header
		want     map[string]string // "" means absent
	}{
		{
			name:     "defaults_are_added_and_leaky_headers_removed",
			upstream: http.Header{"Server": {"Apache/2.4.1"}, "X-Powered-By": {"PHP/8.1"}, "X-Generator": {"Movable Type 9"}},
			want: map[string]string{
				"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
				"Referrer-Policy": DefaultReferrerPolicy, "Permissions-Policy": DefaultPermissionsPolicy,
				"Cross-Origin-Opener-Policy": "same-origin", "Strict-Transport-Security": "",
				"Content-Security-Policy": "", "Server": "", "X-Powered-By": "", "X-Generator": "",
			},
		},
		{
			name:     "upstream_values_are_respected",
			upstream: http.Header{"X-Frame-Options": {"DENY"}, "Referrer-Policy": {"no-referrer"}},
			want:     map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"},
		},
		{
			name:  "hsts_on_https_only",
			https: true,
			want:  map[string]string{"Strict-Transport-Security": DefaultHSTS},
		},
		{
			name:   "csp_report_only_and_off_switches",
			policy: Policy{ContentSecurityPolicy: "default-src 'self'", CSPReportOnly: true, FrameOptions: Off, StrictTransportSecurity: Off},
			https:  true,
			want: map[string]string{"Content-Security-Policy-Report-Only": "default-src 'self'", "Content-Security-Policy": "",
				"X-Frame-Options": "", "Strict-Transport-Security": ""},
		},
		{
			name:     "keep_and_remove_lists",
			policy:   Policy{Keep: []string{"server"}, Remove: []string{"x-pingback"}},
			upstream: http.Header{"Server": {"nginx"}, "X-Pingback": {"https://example.com/xmlrpc.php"}},
			want:     map[string]string{"Server": "nginx", "X-Pingback": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.policy.Compile()
			if err != nil {
				t.Fatal(err)
			}
			h := tc.upstream.Clone()
			if h == nil {
				h = http.Header{}
			}
			c.Apply(h, tc.https)
			for name, want := range tc.want {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestCompileRefusesLineBreaks(t *testing.T) {
	for _, p := range []Policy{
		{ContentSecurityPolicy: "default-src 'self'\r\nSet-Cookie: x=1"},
		{StrictTransportSecurity: "max-age=1\n"},
		{Remove: []string{"X-A: b"}},
	} {
		if _, err := p.Compile(); err == nil {
			t.Errorf("%+v compiled", p)
		}
	}
}

func TestRespondRefusesUnsafeUpstreamHeaders(t *testing.T) {
	c, _ := Policy{}.Compile()
	tests := []struct {
		name    string
		status  int
		header  http.Header
		refused bool
	}{
		{"clean_headers_pass", 200, http.Header{"Location": {"/next"}}, false},
		{"lf_in_value_is_refused", 200, http.Header{"Location": {"/next\nSet-Cookie: a=b"}}, true},
		{"nul_in_value_is_refused", 200, http.Header{"X-A": {"a\x00b"}}, true},
		{"cr_in_name_is_refused", 200, http.Header{"X-A\r": {"b"}}, true},
		{"switching_protocols_is_final", 101, http.Header{"X-A": {"a\x00b"}}, true},
		{"informational_passes_unchecked", 103, http.Header{"X-A": {"a\x00b"}}, false},
	}
	r := httptest.NewRequest("GET", "http://example.com/", nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header.Clone()
			err := c.Respond(tc.status, h, false, r, nil)
			if tc.refused {
				if !errors.Is(err, ErrUnsafeHeader) || h.Get("X-Content-Type-Options") != "" {
					t.Errorf("err %v, headers %v", err, h)
				}
				return
			}
			applied := h.Get("X-Content-Type-Options") == "nosniff"
			if err != nil || applied != (tc.status >= 200) {
				t.Errorf("err %v, headers %v", err, h)
			}
		})
	}
}
