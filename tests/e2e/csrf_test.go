package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// cmsCaddyfile is a Movable Type site: the admin script is a protected
// path for the CSRF guard and its password forms are checked.
var cmsCaddyfile = caddyfile("", "profile movabletype\n\t\tEXTRA", "")

var markers atomic.Int64

// marker is a string no other request carries.
func marker(t *testing.T) string {
	return fmt.Sprintf("m%d%s", markers.Add(1), strings.NewReplacer("/", "", "_", "").Replace(t.Name()))
}

// upstreamGot is how many requests the upstream received with m in their target.
func upstreamGot(t *testing.T, upstream, m string) int {
	t.Helper()
	resp, err := http.Get("http://" + upstream + "/received?contains=" + m)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Count int }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Count
}

type guardEvent struct {
	TransactionID string `json:"transaction.id"`
	Action        string `json:"event.action"`
	Guard         string `json:"mamori.guard"`
	Verdict       string `json:"mamori.verdict"`
	RuleID        string `json:"rule.id"`
	RuleName      string `json:"rule.name"`
	Status        int    `json:"http.response.status_code"`
	User          string `json:"user.name"`
	Path          string `json:"url.path"`
}

// V7: cross-site state-changing requests with the site's cookies are
// refused by each of the three headers; same-origin ones pass; a request
// without any of them is refused on the admin script only; a cross-site
// request without cookies or browser-kept HTTP authentication (a CORS call
// from a sibling host with its own token, a beacon) passes unless it
// targets a protected path (issue 11).
func TestCSRF(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(cmsCaddyfile, "EXTRA", "csrf {\n\t\t\ttrusted_origin http://trusted.example:8443\n\t\t\tprotect /echo/private/\n\t\t}", 1), upstream)
	s := &site{Mamori: m, upstream: upstream}
	self := m.URL // http://127.0.0.1:PORT, the origin the browser would send
	type hdr = map[string]string
	cases := []struct {
		name    string
		method  string
		path    string
		headers hdr
		rule    string // "" = passes
		// anon sends no Cookie; the other cases carry the site's cookie.
		anon bool
	}{
		{"cross_site_by_sec_fetch_site", "POST", "/echo", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, "csrf-sec-fetch-site", false},
		{"same_site_by_sec_fetch_site", "POST", "/echo", hdr{"Sec-Fetch-Site": "same-site"}, "csrf-sec-fetch-site", false},
		{"cross_site_by_origin", "POST", "/echo", hdr{"Origin": "http://evil.example"}, "csrf-origin", false},
		{"cross_scheme_by_origin", "POST", "/echo", hdr{"Origin": strings.Replace(self, "http:", "https:", 1)}, "csrf-origin", false},
		{"other_port_by_origin", "POST", "/echo", hdr{"Origin": "http://127.0.0.1:1"}, "csrf-origin", false},
		{"null_origin", "POST", "/echo", hdr{"Origin": "null"}, "csrf-origin", false},
		{"malformed_origin", "POST", "/echo", hdr{"Origin": "http://[::1"}, "csrf-origin", false},
		{"cross_site_by_referer", "POST", "/echo", hdr{"Referer": "http://evil.example/attack.html"}, "csrf-referer", false},
		{"cross_site_put_by_referer", "PUT", "/echo", hdr{"Referer": "http://evil.example/"}, "csrf-referer", false},
		{"cross_site_to_admin", "POST", "/cgi-bin/mt/mt.cgi", hdr{"Sec-Fetch-Site": "cross-site"}, "csrf-sec-fetch-site", false},
		{"headerless_to_admin", "POST", "/cgi-bin/mt/mt.cgi", nil, "csrf-no-source", false},
		{"headerless_to_admin_path_info", "POST", "/cgi-bin/mt/mt.cgi/x", nil, "csrf-no-source", false},
		{"headerless_to_protected_prefix", "DELETE", "/echo/private/1", nil, "csrf-no-source", false},

		{"same_origin_by_sec_fetch_site", "POST", "/echo", hdr{"Sec-Fetch-Site": "same-origin"}, "", false},
		{"user_typed_by_sec_fetch_site", "POST", "/echo", hdr{"Sec-Fetch-Site": "none"}, "", false},
		{"same_origin_by_origin", "POST", "/echo", hdr{"Origin": self}, "", false},
		{"same_origin_by_referer", "POST", "/echo", hdr{"Referer": self + "/cgi-bin/mt/mt.cgi?__mode=view"}, "", false},
		{"same_origin_to_admin", "POST", "/cgi-bin/mt/mt.cgi", hdr{"Origin": self, "Sec-Fetch-Site": "same-origin"}, "", false},
		{"headerless_elsewhere", "POST", "/echo", nil, "", false},
		{"headerless_data_api", "POST", "/cgi-bin/mt/mt-data-api.cgi/v6/entries", nil, "", false},
		{"trusted_origin", "POST", "/echo", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://trusted.example:8443"}, "", false},
		{"trusted_origin_by_referer", "POST", "/cgi-bin/mt/mt.cgi", hdr{"Referer": "http://trusted.example:8443/page"}, "", false},
		{"cross_site_get", "GET", "/echo", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, "", false},

		{"anon_cors_from_sibling", "POST", "/echo", hdr{"Sec-Fetch-Site": "same-site", "Origin": "http://api.example"}, "", true},
		{"anon_beacon_cross_site", "POST", "/echo", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, "", true},
		{"anon_cross_site_by_referer", "POST", "/echo", hdr{"Referer": "http://evil.example/"}, "", true},
		{"anon_with_basic_authorization", "POST", "/echo", hdr{"Origin": "http://evil.example", "Authorization": "Basic YWxpY2U6cHc="}, "csrf-origin", true},
		{"anon_with_bearer_token", "POST", "/echo", hdr{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example", "Authorization": "Bearer abc"}, "", true},
		{"anon_cross_site_to_admin", "POST", "/cgi-bin/mt/mt.cgi", hdr{"Sec-Fetch-Site": "cross-site"}, "csrf-sec-fetch-site", true},
		{"anon_cross_site_to_protected_prefix", "POST", "/echo/private/1", hdr{"Origin": "http://evil.example"}, "csrf-origin", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mk := marker(t)
			var body io.Reader
			if c.method != "GET" {
				body = strings.NewReader("title=hello")
			}
			req, err := http.NewRequest(c.method, s.URL+c.path+"?mark="+mk, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if !c.anon {
				req.Header.Set("Cookie", "prefs=compact")
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			respBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := upstreamGot(t, upstream, mk)
			if c.method != "GET" && !strings.Contains(resp.Header.Get("Vary"), "Sec-Fetch-Site, Origin, Referer") {
				t.Errorf("Vary %q lacks the source headers", resp.Header.Values("Vary"))
			}
			if c.rule == "" {
				if resp.StatusCode == http.StatusForbidden || got != 1 {
					t.Fatalf("status %d, upstream got it %d times; want it passed once\n%s", resp.StatusCode, got, respBody)
				}
				return
			}
			if resp.StatusCode != http.StatusForbidden || got != 0 {
				t.Fatalf("status %d, upstream got it %d times; want 403 and never", resp.StatusCode, got)
			}
			ev, ok := findLine[guardEvent](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			if !ok {
				t.Fatal("no event")
			}
			if ev.Guard != "csrf" || ev.Action != "csrf-blocked" || ev.RuleID != c.rule || ev.Status != 403 || ev.RuleName == "" {
				t.Fatalf("event %+v, want csrf %s 403 with a reason", ev, c.rule)
			}
			acc, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", resp.Header.Get("X-Request-Id"))
			if !ok || acc.Status != 403 || acc.Verdict != "blocked" {
				t.Fatalf("access line %+v", acc)
			}
		})
	}
}

// docs/design.md "Secure by default": a bare mamori line checks origins too, and
// `csrf off` turns the check off.
func TestCSRFDefaultsAndOff(t *testing.T) {
	upstream := harness.Upstream(t)
	for _, c := range []struct {
		name, extra string
		want        int
	}{
		{"bare_mamori_refuses", "", http.StatusForbidden},
		{"csrf_off_passes", "csrf off", http.StatusOK},
		{"detect_mode_passes_with_an_event", "mode detect", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			caddyfile := strings.Replace(siteCaddyfile, "mode MODE", "mode block\n\t\t"+c.extra, 1)
			m := harness.StartMamori(t, caddyfile, upstream)
			mk := marker(t)
			req, _ := http.NewRequest("POST", m.URL+"/echo?mark="+mk, strings.NewReader("a=b"))
			req.Header.Set("Origin", "http://evil.example")
			req.Header.Set("Cookie", "prefs=compact")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := 0
			if c.want == http.StatusOK {
				want = 1
			}
			if resp.StatusCode != c.want || upstreamGot(t, upstream, mk) != want {
				t.Fatalf("status %d, want %d (upstream got %d)", resp.StatusCode, c.want, upstreamGot(t, upstream, mk))
			}
			s := &site{Mamori: m, upstream: upstream}
			ev, found := findLine[guardEvent](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			switch c.extra {
			case "csrf off":
				if found && ev.Guard == "csrf" {
					t.Errorf("csrf off, but a csrf event: %+v", ev)
				}
			case "mode detect":
				if !found || ev.Guard != "csrf" || ev.Verdict != "detected" || ev.RuleID != "csrf-origin" {
					t.Errorf("detect mode: event %+v (found %v), want a detected csrf-origin event", ev, found)
				}
			default:
				if !found || ev.Verdict != "blocked" {
					t.Errorf("event %+v (found %v), want blocked", ev, found)
				}
			}
		})
	}
}
