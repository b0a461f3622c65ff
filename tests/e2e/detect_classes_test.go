package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Issue 11: attack classes CRS PL1 lets through and mamori's signatures
// refuse with the defaults (internal/detect: 9841901 JavaScript
// obfuscation, 9841902 script-less HTML attributes in the query string,
// 9842903 database-specific SQL, 9833901/9833902 script uploads, and the
// signatures on a Referer's parameters), each next to ordinary requests
// of the same shape that pass.
func TestDetectionClasses(t *testing.T) {
	m := harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), harness.Upstream(t))
	query := func(v string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest("GET", m.URL+"/echo?name="+url.QueryEscape(v), nil)
			return req
		}
	}
	referer := func(v string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest("GET", m.URL+"/echo?name=", nil)
			req.Header.Set("Referer", "http://site.example/search/?name="+url.QueryEscape(v))
			return req
		}
	}
	upload := func(filename, contentType, content string) func() *http.Request {
		return func() *http.Request {
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			_ = w.WriteField("MAX_FILE_SIZE", "100000")
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="uploaded"; filename="`+filename+`"`)
			h.Set("Content-Type", contentType)
			part, _ := w.CreatePart(h)
			_, _ = part.Write([]byte(content))
			_ = w.Close()
			req, _ := http.NewRequest("POST", m.URL+"/echo", &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return req
		}
	}
	for _, c := range []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"js_unicode_escaped_name", query(`parent['\u{0061}\u{006c}\u{0065}\u{0072}\u{0074}']('\u{0058}\u{0053}\u{0053}');//`), 403},
		{"js_octal_escaped_name", query(`parent['\141\154\145\162\164']('\130\123\123');//`), 403},
		{"js_global_computed_call_in_referer", referer(`globalThis[/*foo*/'alert'/*bar*/](globalThis[/*foo*/'document'/*bar*/]['domain']);//`), 403},
		{"js_optional_call", query("alert?.(1)"), 403},
		{"pg_copy_to_program", query("copy (SELECT '') to program 'nslookup x.example'"), 403},
		{"pg_copy_from_program", query("1;COPY cmd_exec FROM PROGRAM 'id'"), 403},
		{"cql_filter_subquery_cast", query("strStartsWith(name,'x'') = true and 1=(SELECT CAST ((SELECT version()) AS integer)) -- ') = true"), 403},
		{"oracle_catalog", query("SELECT banner FROM v$version"), 403},
		{"js_handler_set_to_alert", query("{onerror=alert}throw 1"), 403},
		{"sql_tautology_in_referer", referer("1 and 1=1"), 403},
		{"download_anchor_in_query", query(`<a href=# download="filename.html">Test</a>`), 403},
		{"command_after_address_and_newline", query("127.0.0.1\nid"), 403},
		{"php_named_png", upload("cmd.png", "image/png", "<?php\nsystem($_GET[cmd]);"), 403},
		{"gif_polyglot_nul_name", upload("111.php%00.png", "image/png", "GIF89a\n\n<?php\nsystem($_GET[cmd]);"), 403},
		{"htaccess_upload", upload(".htaccess", "text/plain", "AddType application/x-httpd-php .jpg"), 403},
		// Benign requests of the same shapes.
		{"js_code_sample", query("items[0].parent['name'] = self.title"), 200},
		{"markdown_names_alert", query("Use `alert` only while debugging"), 200},
		{"word_list_ending_in_id", query("name\nemail\nid"), 200},
		{"sql_words_in_search", query("copy the program to the folder and select a version"), 200},
		{"image_upload", upload("photo.jpg", "image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01<?xml<?ph\xff\xd9"), 200},
		{"plugin_zip_upload", upload("my-plugin.zip", "application/zip", "PK\x03\x04\x0a\x00\x00\x00\x00\x00index.php<?php // Silence is golden."), 200},
		{"export_with_php_sample", upload("blog.wordpress.2026-12-01.xml", "text/xml", "<?xml version=\"1.0\"?>\n<rss><item><title>Templates</title><description>Start a template with a PHP tag.</description></item></rss>"), 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(c.req())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}
