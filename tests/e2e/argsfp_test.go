package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Issue 11, false positives of query strings, headers and paths on real
// browser traffic: each case is a request shape of the real-traffic
// corpus (tests/eval) written anew, and the attack it must not let
// through. "crs" is CRS without mamori's layers (`detection off`): the
// rows where it refuses and the defaults pass are where the layers judge
// differently, each for the reason given in docs/detection.md. JSON
// documents pass both: CRS's own rules that misread them (942550, the
// 932xxx rules taking '{' for a separator, 930120 on Coraza's dotted JSON
// paths) read them leaf by leaf, and key by key, in every configuration
// (internal/jsondoc, internal/waf/jsonargs.go).
func TestArgumentFalsePositives(t *testing.T) {
	upstream := harness.Upstream(t)
	sites := map[string]*harness.Mamori{
		"defaults": harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block", 1), upstream),
		"crs":      harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", "mode block\n\t\tdetection off", 1), upstream),
	}
	type hdr map[string]string
	offSite := hdr{"Referer": "https://other.example/page", "Origin": "https://other.example"}
	with := func(h hdr, k, v string) hdr {
		out := hdr{}
		for a, b := range h {
			out[a] = b
		}
		out[k] = v
		return out
	}
	jsonQuery := "/echo?DATA=" + url.QueryEscape(`[{"T":"CI.DevLoc","FID":"CI","Name":"Gps","TS":1688383568}]`) +
		"&payload=" + url.QueryEscape(`{"url":"https://cdn.example/a.js","method":"get","duration":88.2}`)
	for _, c := range []struct {
		name, method, target string
		header               hdr
		body                 string
		want                 map[string]int // status per site
	}{
		// Session fixation (943110/943120): an analytics call naming its
		// own session "sessionId", sent by fetch from another origin, is no
		// page a victim opens; a navigation, or a request whose sender
		// does not say, is judged as CRS ships.
		{"fixation_name_in_fetch", "GET", "/echo?sessionId=session-1688379274198&v=1", with(with(offSite, "Sec-Fetch-Mode", "cors"), "Sec-Fetch-Dest", "empty"), "", map[string]int{"defaults": 200, "crs": 403}},
		{"fixation_name_in_beacon", "POST", "/echo?sessionid=az5oVmcF30bi1", with(offSite, "Sec-Fetch-Mode", "no-cors"), "", map[string]int{"defaults": 200, "crs": 403}},
		{"fixation_link_navigation", "GET", "/echo?PHPSESSID=attacker1234", with(with(offSite, "Sec-Fetch-Mode", "navigate"), "Sec-Fetch-Dest", "document"), "", map[string]int{"defaults": 403, "crs": 403}},
		{"fixation_link_no_fetch_metadata", "GET", "/echo?jsessionid=74B0CB414BD77D17B5680A6386EF1666", offSite, "", map[string]int{"defaults": 403, "crs": 403}},
		{"fixation_no_referer", "GET", "/echo?phpsessid=abc123", hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},

		// JSON documents in query parameters and form fields are judged by
		// their strings, as CRS judges a JSON body, with or without the
		// layers.
		{"json_in_query", "GET", jsonQuery, hdr{}, "", map[string]int{"defaults": 200, "crs": 200}},
		{"json_in_form_field", "POST", "/echo", hdr{"Content-Type": "application/x-www-form-urlencoded"},
			"payload=" + url.QueryEscape(`{"duration":{"fetch":[],"static":[{"url":"https://cdn.example/a.jpeg","method":"get","status":200}]}}`), map[string]int{"defaults": 200, "crs": 200}},
		{"json_string_in_json_body", "POST", "/echo", hdr{"Content-Type": "application/json"},
			`{"level":["2"],"msg":["[\"[Capi Success]\",{\"body\":{\"serviceType\":\"ba\",\"regionId\":1},\"cmd\":\"Describe\"}]"]}`, map[string]int{"defaults": 200, "crs": 200}},
		{"json_query_string", "GET", "/echo?" + url.QueryEscape(`{"url":"https://a.example/news","val_act":"pageview","n":3}`), hdr{}, "", map[string]int{"defaults": 200, "crs": 200}},
		// A form body that is one JSON document (read as one argument name)
		// gives the arguments CRS makes of a JSON body, leaves under their
		// paths: its keys do not start names, where CRS's command rules
		// read "netstat" and "lastlogin" as commands (issue 11).
		{"json_form_body_keys", "POST", "/echo", hdr{"Content-Type": "application/x-www-form-urlencoded"},
			`{"adReqData":{"chid":9,"slot":[{"loid":"2","orders_info":[]}],"netstatus":"unknown","lastLoginType":"wx","pf":"pc"}}`, map[string]int{"defaults": 200, "crs": 200}},
		{"command_in_json_form_body", "POST", "/echo", hdr{"Content-Type": "application/x-www-form-urlencoded"},
			`{"host":"127.0.0.1;cat /etc/passwd"}`, map[string]int{"defaults": 403, "crs": 403}},
		{"sqli_key_in_json_query_string", "GET", "/echo?" + url.QueryEscape(`{"1' UNION SELECT password FROM users-- -":1}`), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		// A tracking parameter holding a link in Base64 is read as a URL,
		// parameter by parameter ("&plan=ps" is no command after a
		// separator); an injection in the link's parameters is refused.
		{"base64_link_parameter", "GET", "/echo?aurl=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("https://js.example/?xl=a3273390191.k47347947756&source=360&plan=ps"))), hdr{}, "", map[string]int{"defaults": 200, "crs": 200}},
		{"sqli_in_base64_link_parameter", "GET", "/echo?aurl=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("https://js.example/?id="+url.QueryEscape("1' UNION SELECT password FROM users-- -")))), hdr{}, "", map[string]int{"defaults": 403}},
		{"xss_in_json_query_string", "GET", "/echo?" + url.QueryEscape(`{"q":"<script>alert(document.cookie)</script>"}`), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		// CRS's lists of OS files, restricted files and shell paths match
		// whole names, not parts of longer names.
		{"shell_path_inside_name", "GET", "/echo?cgi=" + url.QueryEscape("/fcg-bin/fcg_get_strategy?qzfl") + "&u=" + url.QueryEscape("https://w.example.com/v1/cgi-bin/common/report"), hdr{}, "", map[string]int{"defaults": 200, "crs": 403}},
		{"dotfile_inside_name", "GET", "/echo/com.example.www.passport-files/js/login.js?scope=" + url.QueryEscape("https://www.example.com/auth/unified.profile"), hdr{}, "", map[string]int{"defaults": 200, "crs": 403}},
		{"json_key_path_not_a_dotfile", "POST", "/echo", hdr{"Content-Type": "application/json"}, `{"config":{"credentials":"same-origin"}}`, map[string]int{"defaults": 200, "crs": 200}},
		{"shell_path_attack", "GET", "/echo?cmd=" + url.QueryEscape(";/bin/cat /etc/hosts"), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		{"dotfile_attack", "GET", "/echo?file=" + url.QueryEscape("../../home/user/.profile"), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		{"xss_in_json_query", "GET", "/echo?data=" + url.QueryEscape(`{"q":"<script>alert(document.cookie)</script>"}`), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		{"sqli_in_json_query", "GET", "/echo?data=" + url.QueryEscape(`{"id":"1' UNION SELECT password FROM users-- -"}`), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
		{"escaped_xss_in_json_query", "GET", "/echo?data=" + url.QueryEscape(`{"q":"\u003cscript\u003ealert(document.cookie)\u003c/script\u003e"}`), hdr{}, "", map[string]int{"defaults": 403}},
		{"nosql_in_json_query", "GET", "/echo?user=" + url.QueryEscape(`{"$ne":null}`), hdr{}, "", map[string]int{"defaults": 403}},
		{"sqli_in_json_key", "GET", "/echo?data=" + url.QueryEscape(`{"1' UNION SELECT password FROM users-- -":1}`), hdr{}, "", map[string]int{"defaults": 403, "crs": 403}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, want := range c.want {
				m := sites[name]
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, _ := http.NewRequest(c.method, m.URL+c.target, body)
				for k, v := range c.header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s: status %d, want %d", name, resp.StatusCode, want)
					continue
				}
				if want == 200 {
					// The upstream gets the request as sent: the JSON
					// reading is the WAF's view only.
					var got struct {
						URI  string `json:"uri"`
						Body string `json:"body"`
					}
					if err := json.Unmarshal(b, &got); err != nil {
						t.Fatalf("%s: %v in %.200s", name, err, b)
					}
					if got.URI != c.target || got.Body != c.body {
						t.Errorf("%s: upstream got %q %q, want %q %q", name, got.URI, got.Body, c.target, c.body)
					}
				}
			}
		})
	}
}
