package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Issue 11, protocol policy by the CMS behind mamori (docs/detection.md,
// "Protocol policy"): the CMSs' API methods are allowed (911100, the
// perimeter's method list: a method the limits allow at a path is not
// refused by the WAF there), the
// body-type policy judges bodies only and allows RFC 6839 +json types
// (920420), RFC 9110's empty media-type parameters are well-formed
// (920470), and a body without a Content-Type is read as the profile's
// parser reads it: a form where CGI.pm or WordPress's REST API parses it
// (refused as CRS does, its attacks found), raw bytes elsewhere (passed).
// Each request that passes must reach the upstream with its body intact.
func TestProtocolPolicy(t *testing.T) {
	upstream := harness.Upstream(t)
	sites := map[string]*harness.Mamori{
		"defaults":    harness.StartMamori(t, caddyfile("", "mode block", "flush_interval -1"), upstream),
		"wordpress":   harness.StartMamori(t, caddyfile("", "mode block\n\t\tprofile wordpress", "flush_interval -1"), upstream),
		"movabletype": harness.StartMamori(t, caddyfile("", "mode block\n\t\tprofile movabletype", "flush_interval -1"), upstream),
		"narrowed": harness.StartMamori(t, caddyfile("", "mode block\n\t\tsetup_directives <<SECLANG\n\t\t\tSecAction \"id:900200,phase:1,nolog,pass,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS'\"\n\t\t\tSECLANG",
			"flush_interval -1"), upstream),
		"dav": harness.StartMamori(t, caddyfile("", "mode block\n\t\tlimits {\n\t\t\tat /echo/dav/ {\n\t\t\t\tmethods GET PROPFIND\n\t\t\t}\n\t\t}", "flush_interval -1"), upstream),
	}
	// Control bytes, NUL, CR/LF (valid UTF-8, so the echo's JSON keeps it).
	binary := "6\x01D\n\x05\x04v\x01\x18\x00\x03\x00X\x0b@ \x1a\x00\x7f\x01\x18\r\n"
	sqliForm := "q=1%27+OR+%271%27%3D%271"
	for _, c := range []struct {
		name, site, method, path, contentType, body string
		header                                      map[string]string
		want                                        int
	}{
		// 911100: the CMSs' API methods.
		{"put_json", "defaults", "PUT", "/echo/api/v1/organizations/default", "application/json", `{"name":"x"}`, nil, 200},
		{"patch_json", "defaults", "PATCH", "/echo/wp-json/wp/v2/posts/1", "application/json", `{"title":"x"}`, nil, 200},
		{"delete", "defaults", "DELETE", "/echo/wp-json/wp/v2/posts/1", "", "", nil, 200},
		{"propfind", "defaults", "PROPFIND", "/echo/", "", "", nil, 405},
		{"limits_allow_propfind_at_path", "dav", "PROPFIND", "/echo/dav/x", "", "", nil, 200},
		{"wordpress_patch", "wordpress", "PATCH", "/echo/wp-json/wp/v2/posts/1", "application/json", `{"title":"x"}`, nil, 200},
		{"movabletype_put", "movabletype", "PUT", "/echo/cgi-bin/mt/mt-data-api.cgi/v4/sites/1/entries/1", "application/json", `{"title":"x"}`, nil, 200},
		{"operator_narrows_methods", "narrowed", "PUT", "/echo/x", "application/json", `{"name":"x"}`, nil, 403},
		{"put_json_sqli", "defaults", "PUT", "/echo/x", "application/json", `{"q":"1' OR '1'='1"}`, nil, 403},
		// 920470: empty parameters (RFC 9110 8.3.1); junk still refused.
		{"json_trailing_semicolon", "defaults", "POST", "/echo/api/save", "application/json;", `{"a":1}`, nil, 200},
		{"text_trailing_semicolon", "defaults", "POST", "/echo/ysc", "text/plain;charset=utf-8;", "hello", nil, 200},
		{"junk_parameter", "defaults", "POST", "/echo/x", "text/xml; blah", "<a/>", nil, 403},
		// 920420: a GET without a body; +json and AWS JSON types.
		{"get_typed_no_body", "defaults", "GET", "/echo/ninja/index.htm", "text/javascript;charset=utf-8", "", nil, 200},
		{"ld_json", "defaults", "POST", "/echo/api", "application/ld+json", `{"@id":"x"}`, nil, 200},
		{"amz_json", "defaults", "POST", "/echo/", "application/x-amz-json-1.1", `{"Records":[]}`, nil, 200},
		{"amz_json_xss", "defaults", "POST", "/echo/", "application/x-amz-json-1.1", `{"q":"<script>alert(1)</script>"}`, nil, 403},
		{"unknown_type", "defaults", "POST", "/echo/", "image/x-unknown", "x", nil, 403},
		// Bodies without a Content-Type.
		{"untyped_binary_post", "defaults", "POST", "/echo/v2/web/pv", "", binary, nil, 403},
		{"untyped_form_sqli_post", "defaults", "POST", "/echo/", "", sqliForm, nil, 403},
		{"wordpress_untyped_binary_post", "wordpress", "POST", "/echo/v2/web/pv", "", binary, nil, 200},
		{"wordpress_untyped_sqli_put", "wordpress", "PUT", "/echo/wp-json/wp/v2/posts/1", "", sqliForm, nil, 403},
		{"wordpress_untyped_sqli_override", "wordpress", "POST", "/echo/wp-json/wp/v2/posts/1", "", sqliForm, map[string]string{"X-HTTP-Method-Override": "PUT"}, 403},
		{"movabletype_untyped_binary_post", "movabletype", "POST", "/echo/v2/web/pv", "", binary, nil, 403},
		{"movabletype_untyped_binary_delete", "movabletype", "DELETE", "/echo/cgi-bin/mt/mt-data-api.cgi/v4/authentication", "", binary, nil, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, sites[c.site].URL+c.path, body)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, c.want, b)
			}
			if c.want != 200 {
				return
			}
			var got received
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("upstream answer: %v\n%.300s", err, b)
			}
			if got.Method != c.method || got.Body != c.body {
				t.Fatalf("upstream got %s %q, want %s %q", got.Method, got.Body, c.method, c.body)
			}
		})
	}
}
