package csrf

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
)

// V7: every combination of the source headers, ports, IPv6 hosts, http
// and https.
func TestCheck(t *testing.T) {
	g, err := New(Config{TrustedOrigins: []string{"https://www.example.com", "HTTPS://Partner.Example:8443"}, Protect: []string{"/private/"}, Exempt: []string{"/sso/acs"}},
		[]string{"/cgi-bin/mt/mt.cgi"})
	if err != nil {
		t.Fatal(err)
	}
	sameSite, err := New(Config{AllowSameSite: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type hdr = map[string]string
	cases := []struct {
		name    string
		guard   *Guard
		method  string
		target  string // URL; https:// makes r.TLS non-nil
		host    string // Host header when not the URL's
		headers hdr
		rule    string // "" = allowed
		checked bool
		// anon sends no Cookie; every other case carries the site's
		// cookie, the ambient credential a forgery rides on.
		anon bool
	}{
		// safe methods are never checked
		{name: "get_cross_site_passes", method: "GET", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Sec-Fetch-Site": "cross-site"}},
		{name: "head_passes", method: "HEAD", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Origin": "http://evil.test"}},
		{name: "options_passes", method: "OPTIONS", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Origin": "http://evil.test"}},
		{name: "trace_passes", method: "TRACE", target: "http://a.test/x"},

		// Sec-Fetch-Site decides first
		{name: "sfs_same_origin_passes", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Sec-Fetch-Site": "same-origin"}, checked: true},
		{name: "sfs_none_passes", method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "none"}, checked: true},
		{name: "sfs_cross_site_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site"}, rule: RuleSecFetchSite, checked: true},
		{name: "sfs_cross_site_wins_over_same_origin_header", method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://a.test"}, rule: RuleSecFetchSite, checked: true},
		{name: "sfs_same_origin_wins_over_foreign_referer", method: "PUT", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "same-origin", "Referer": "http://evil.test/"}, checked: true},
		{name: "sfs_same_site_refused_by_default", method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "same-site"}, rule: RuleSecFetchSite, checked: true},
		{name: "sfs_same_site_allowed_when_configured", guard: sameSite, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "same-site"}, checked: true},
		{name: "sfs_cross_site_still_refused_with_same_site_on", guard: sameSite, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site"}, rule: RuleSecFetchSite, checked: true},
		{name: "sfs_unknown_value_refused", method: "DELETE", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "Same-Origin"}, rule: RuleSecFetchSite, checked: true},
		{name: "sfs_cross_site_from_trusted_origin_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Origin": "https://www.example.com"}, checked: true},
		{name: "sfs_cross_site_from_trusted_origin_with_port_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example:8443"}, checked: true},
		{name: "sfs_cross_site_trusted_origin_other_port_refused", method: "POST", target: "https://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example"}, rule: RuleSecFetchSite, checked: true},

		// Origin when Sec-Fetch-Site is absent
		{name: "origin_same_passes", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Origin": "http://a.test"}, checked: true},
		{name: "origin_same_upper_case_passes", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "HTTP://A.TEST"}, checked: true},
		{name: "origin_explicit_default_port_passes", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://a.test:80"}, checked: true},
		{name: "origin_host_header_default_port_passes", method: "POST", target: "http://a.test/x", host: "a.test:80", headers: hdr{"Origin": "http://a.test"}, checked: true},
		{name: "origin_https_same_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Origin": "https://a.test"}, checked: true},
		{name: "origin_https_explicit_port_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Origin": "https://a.test:443"}, checked: true},
		{name: "origin_http_page_to_https_site_refused", method: "POST", target: "https://a.test/x", headers: hdr{"Origin": "http://a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_https_page_to_http_site_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "https://a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_other_port_refused", method: "POST", target: "http://a.test:8080/x", headers: hdr{"Origin": "http://a.test:8081"}, rule: RuleOrigin, checked: true},
		{name: "origin_same_port_passes", method: "POST", target: "http://a.test:8080/x", headers: hdr{"Origin": "http://a.test:8080"}, checked: true},
		{name: "origin_missing_port_refused", method: "POST", target: "http://a.test:8080/x", headers: hdr{"Origin": "http://a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_other_host_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_suffix_host_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evila.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_subdomain_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://sub.a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_null_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "null"}, rule: RuleOrigin, checked: true},
		{name: "origin_empty_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": ""}, rule: RuleOrigin, checked: true},
		{name: "origin_with_path_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://a.test/"}, rule: RuleOrigin, checked: true},
		{name: "origin_with_userinfo_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil@a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_no_scheme_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_other_scheme_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "file://a.test"}, rule: RuleOrigin, checked: true},
		{name: "origin_bad_port_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://a.test:8x"}, rule: RuleOrigin, checked: true},
		{name: "origin_empty_port_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://a.test:"}, rule: RuleOrigin, checked: true},
		{name: "origin_garbage_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "\x00://\xff"}, rule: RuleOrigin, checked: true},
		{name: "origin_ipv6_same_passes", method: "POST", target: "http://[::1]:8080/x", headers: hdr{"Origin": "http://[::1]:8080"}, checked: true},
		{name: "origin_ipv6_default_port_passes", method: "POST", target: "http://[2001:db8::1]/x", headers: hdr{"Origin": "http://[2001:DB8::1]"}, checked: true},
		{name: "origin_ipv6_other_refused", method: "POST", target: "http://[::1]:8080/x", headers: hdr{"Origin": "http://[::2]:8080"}, rule: RuleOrigin, checked: true},
		{name: "origin_ipv6_unbracketed_refused", method: "POST", target: "http://[::1]:8080/x", headers: hdr{"Origin": "http://::1:8080"}, rule: RuleOrigin, checked: true},
		{name: "origin_ipv6_unclosed_refused", method: "POST", target: "http://[::1]/x", headers: hdr{"Origin": "http://[::1"}, rule: RuleOrigin, checked: true},
		{name: "origin_trusted_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Origin": "https://www.example.com"}, checked: true},
		{name: "origin_trusted_other_scheme_refused", method: "POST", target: "https://a.test/x", headers: hdr{"Origin": "http://www.example.com"}, rule: RuleOrigin, checked: true},
		{name: "origin_wins_over_referer", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil.test", "Referer": "http://a.test/form"}, rule: RuleOrigin, checked: true},
		{name: "origin_same_wins_over_foreign_referer", method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://a.test", "Referer": "http://evil.test/"}, checked: true},

		// Referer when neither of the others is present
		{name: "referer_same_passes", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Referer": "http://a.test/cgi-bin/mt/mt.cgi?__mode=view"}, checked: true},
		{name: "referer_same_with_port_passes", method: "POST", target: "http://a.test:8080/x", headers: hdr{"Referer": "http://a.test:8080/"}, checked: true},
		{name: "referer_other_host_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://evil.test/a.test/"}, rule: RuleReferer, checked: true},
		{name: "referer_other_scheme_refused", method: "POST", target: "https://a.test/x", headers: hdr{"Referer": "http://a.test/"}, rule: RuleReferer, checked: true},
		{name: "referer_userinfo_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://a.test@evil.test/"}, rule: RuleReferer, checked: true},
		{name: "referer_relative_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "/cgi-bin/mt/mt.cgi"}, rule: RuleReferer, checked: true},
		{name: "referer_malformed_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://a.test:port/"}, rule: RuleReferer, checked: true},
		{name: "referer_bad_escape_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://%zz/"}, rule: RuleReferer, checked: true},
		{name: "referer_trusted_passes", method: "POST", target: "https://a.test/x", headers: hdr{"Referer": "https://www.example.com/page"}, checked: true},
		{name: "referer_ipv6_passes", method: "POST", target: "http://[::1]:9/x", headers: hdr{"Referer": "http://[::1]:9/form"}, checked: true},

		// none of the three
		{name: "headerless_admin_refused", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", rule: RuleNoSource, checked: true},
		{name: "headerless_admin_path_info_refused", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi/extra", rule: RuleNoSource, checked: true},
		{name: "headerless_admin_dot_segments_refused", method: "POST", target: "http://a.test/cgi-bin/mt/./x/../mt.cgi", rule: RuleNoSource, checked: true},
		{name: "headerless_admin_double_slash_refused", method: "POST", target: "http://a.test/cgi-bin//mt/mt.cgi", rule: RuleNoSource, checked: true},
		{name: "headerless_protected_prefix_refused", method: "PATCH", target: "http://a.test/private/thing", rule: RuleNoSource, checked: true},
		{name: "headerless_protected_dir_itself_refused", method: "POST", target: "http://a.test/private", rule: RuleNoSource, checked: true},
		{name: "headerless_elsewhere_passes", method: "POST", target: "http://a.test/cgi-bin/mt/mt-data-api.cgi/v6/authentication", checked: true},
		{name: "headerless_similar_name_passes", method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi.bak", checked: true},

		// without ambient credentials, only protected paths are refused
		{name: "anon_cross_site_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://sub.a.test"}, checked: true},
		{name: "anon_same_site_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "same-site"}, checked: true},
		{name: "anon_origin_other_host_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil.test"}, checked: true},
		{name: "anon_origin_null_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "null"}, checked: true},
		{name: "anon_referer_other_host_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://evil.test/"}, checked: true},
		{name: "anon_basic_authorization_refused", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil.test", "Authorization": "Basic YTpi"}, rule: RuleOrigin, checked: true},
		{name: "anon_digest_authorization_refused", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Authorization": `digest username="a", realm="r"`}, rule: RuleSecFetchSite, checked: true},
		{name: "anon_negotiate_authorization_refused", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Referer": "http://evil.test/", "Authorization": "Negotiate YIIB"}, rule: RuleReferer, checked: true},
		{name: "anon_ntlm_authorization_refused", anon: true, method: "PUT", target: "http://a.test/x", headers: hdr{"Origin": "null", "Authorization": "NTLM TlRMTVNT"}, rule: RuleOrigin, checked: true},
		// A token the page's script set: another site cannot send the user's.
		{name: "anon_bearer_authorization_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Origin": "http://evil.test", "Authorization": "Bearer x"}, checked: true},
		{name: "anon_api_scheme_authorization_passes", anon: true, method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Authorization": "Splunk EA76605A"}, checked: true},
		{name: "anon_bearer_admin_path_refused", anon: true, method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Sec-Fetch-Site": "cross-site", "Authorization": "Bearer x"}, rule: RuleSecFetchSite, checked: true},
		{name: "bearer_with_cookie_refused", method: "POST", target: "http://a.test/x", headers: hdr{"Sec-Fetch-Site": "cross-site", "Authorization": "Bearer x"}, rule: RuleSecFetchSite, checked: true},
		{name: "anon_cross_site_admin_path_refused", anon: true, method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", headers: hdr{"Sec-Fetch-Site": "cross-site"}, rule: RuleSecFetchSite, checked: true},
		{name: "anon_cross_site_protected_prefix_refused", anon: true, method: "POST", target: "http://a.test/private/x", headers: hdr{"Origin": "http://evil.test"}, rule: RuleOrigin, checked: true},
		{name: "anon_headerless_admin_refused", anon: true, method: "POST", target: "http://a.test/cgi-bin/mt/mt.cgi", rule: RuleNoSource, checked: true},

		// exempt paths
		{name: "exempt_cross_site_passes", method: "POST", target: "http://a.test/sso/acs", headers: hdr{"Sec-Fetch-Site": "cross-site"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, nil)
			if strings.HasPrefix(c.target, "https://") {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			if c.host != "" {
				r.Host = c.host
			}
			if !c.anon {
				r.Header.Set("Cookie", "session=1")
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			guard := g
			if c.guard != nil {
				guard = c.guard
			}
			d := guard.Check(r, nil)
			if d.Rule != c.rule || d.Allowed != (c.rule == "") || d.Checked != c.checked {
				t.Fatalf("got %+v, want rule %q checked %v", d, c.rule, c.checked)
			}
			if !d.Allowed && d.Reason == "" {
				t.Fatal("a refusal without a reason")
			}
		})
	}
}

func TestRepeatedHeadersAreRefused(t *testing.T) {
	g, _ := New(Config{}, nil)
	for _, name := range []string{"Origin", "Referer"} {
		r := httptest.NewRequest("POST", "http://a.test/x", nil)
		r.Header.Set("Cookie", "session=1")
		r.Header.Add(name, "http://a.test/")
		r.Header.Add(name, "http://a.test/")
		if d := g.Check(r, nil); d.Allowed {
			t.Errorf("%s twice: allowed", name)
		}
	}
}

func TestReasonNamesTheDecidingHeader(t *testing.T) {
	g, _ := New(Config{}, []string{"/admin/"})
	for header, want := range map[string]string{"Sec-Fetch-Site": "Sec-Fetch-Site", "Origin": "Origin", "Referer": "Referer", "": "none of"} {
		r := httptest.NewRequest("POST", "http://a.test/admin/", nil)
		if header != "" {
			v := "http://evil.test/"
			if header == "Sec-Fetch-Site" {
				v = "cross-site"
			}
			r.Header.Set(header, v)
		}
		if d := g.Check(r, nil); !strings.HasPrefix(d.Reason, want) {
			t.Errorf("%s: reason %q", header, d.Reason)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{TrustedOrigins: []string{"www.example.com"}},
		{TrustedOrigins: []string{"https://www.example.com/"}},
		{TrustedOrigins: []string{"https://www.example.com/path"}},
		{TrustedOrigins: []string{"ftp://www.example.com"}},
		{TrustedOrigins: []string{"null"}},
		{TrustedOrigins: []string{"https://"}},
		{Protect: []string{"admin/"}},
		{Exempt: []string{"sso"}},
	} {
		if _, err := New(c, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestVaryIsForEveryCheckedHeader(t *testing.T) {
	for _, h := range []string{HeaderSecFetchSite, HeaderOrigin, HeaderReferer} {
		if !strings.Contains(VaryHeaders, h) {
			t.Errorf("VaryHeaders lacks %s", h)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"http://a.test", "null", "http://[::1]:80", "https://a.test:443/x?y#z", "http://a@b", "\xff", "http://[", "http://a.test:0"} {
		f.Add(s, s, "cross-site", "a.test")
	}
	g, _ := New(Config{TrustedOrigins: []string{"https://t.test"}}, []string{"/admin/"})
	f.Fuzz(func(t *testing.T, origin, referer, site, host string) {
		r := httptest.NewRequest("POST", "http://a.test/admin/", nil)
		r.Host = host
		r.Header.Set("Origin", origin)
		r.Header.Set("Referer", referer)
		r.Header.Set("Sec-Fetch-Site", site)
		d := g.Check(r, nil)
		if !d.Checked || (!d.Allowed && d.Rule == "") {
			t.Fatalf("%+v", d)
		}
		if c, ok := canonicalOrigin(origin); ok {
			if c2, ok2 := canonicalOrigin(c); !ok2 || c2 != c {
				t.Fatalf("canonical form %q of %q is not stable (%q)", c, origin, c2)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	g, _ := New(Config{TrustedOrigins: []string{"https://www.example.com"}}, []string{"/cgi-bin/mt/mt.cgi"})
	r := httptest.NewRequest("POST", "http://a.test/cgi-bin/mt/mt.cgi", nil)
	r.Header.Set("Origin", "http://a.test")
	r.Header.Set("Referer", "http://a.test/cgi-bin/mt/mt.cgi")
	b.ReportAllocs()
	for b.Loop() {
		if d := g.Check(r, nil); !d.Allowed {
			b.Fatal(d)
		}
	}
}
