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

func TestWriterRefusesUnsafeUpstreamHeaders(t *testing.T) {
	c, _ := Policy{}.Compile()
	tests := []struct {
		name    string
		header  http.Header
		refused bool
	}{
		{"clean_headers_pass", http.Header{"Location": {"/next"}}, false},
		{"lf_in_value_is_refused", http.Header{"Location": {"/next\nSet-Cookie: a=b"}}, true},
		{"nul_in_value_is_refused", http.Header{"X-A": {"a\x00b"}}, true},
		{"cr_in_name_is_refused", http.Header{"X-A\r": {"b"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			var refusal error
			w := &ResponseWriter{ResponseWriter: rec, Policy: c, Refuse: func(w http.ResponseWriter, err error) {
				refusal = err
				w.WriteHeader(http.StatusBadGateway)
			}}
			for k, v := range tc.header {
				w.Header()[k] = v
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("upstream body"))
			if tc.refused {
				if !errors.Is(refusal, ErrUnsafeHeader) || rec.Code != http.StatusBadGateway || rec.Body.Len() != 0 || !w.Refused() {
					t.Errorf("refusal %v, status %d, body %q", refusal, rec.Code, rec.Body)
				}
				return
			}
			if refusal != nil || rec.Code != 200 || rec.Body.String() != "upstream body" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("refusal %v, status %d, body %q, headers %v", refusal, rec.Code, rec.Body, rec.Header())
			}
		})
	}
}
