package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// headersCaddyfile echoes a query parameter into a response header, the
// way a careless site config could (V10 header injection).
var headersCaddyfile = strings.Replace(siteCaddyfile, "reverse_proxy {UPSTREAM} {", `header X-Echo {http.request.uri.query.echo}
	reverse_proxy {UPSTREAM} {`, 1)

func TestResponseHeaders(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(headersCaddyfile, "MODE", "block", 1), upstream)
	s := &site{Mamori: m}
	get := func(t *testing.T, path string, body string) *http.Response {
		t.Helper()
		var resp *http.Response
		var err error
		if body == "" {
			resp, err = http.Get(s.URL + path)
		} else {
			resp, err = http.Post(s.URL+path, "application/json", strings.NewReader(body))
		}
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	defaults := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "strict-origin-when-cross-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Server":                     "",
		"Strict-Transport-Security":  "", // plain HTTP
	}
	t.Run("defaults_on_upstream_responses_and_block_pages", func(t *testing.T) {
		for _, path := range []string{"/echo", "/echo?id=1'%20OR%20'1'='1"} {
			resp := get(t, path, "")
			for name, want := range defaults {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s: %s = %q, want %q", path, name, got, want)
				}
			}
			if resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("%s: X-Frame-Options %q", path, resp.Header.Get("X-Frame-Options"))
			}
		}
	})
	t.Run("upstream_values_are_respected_and_leaky_ones_removed", func(t *testing.T) {
		resp := get(t, "/reflect", `{"headers":{"X-Frame-Options":"DENY","X-Powered-By":"PHP/8.1.2"},"body":"ok"}`)
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Powered-By") != "" {
			t.Errorf("X-Frame-Options %q, X-Powered-By %q", resp.Header.Get("X-Frame-Options"), resp.Header.Get("X-Powered-By"))
		}
	})
	t.Run("crlf_in_a_response_header_is_refused_with_502", func(t *testing.T) {
		// In block mode CRS's 921 rules stop this request first; detect
		// mode lets it reach the header guard.
		s := &site{Mamori: harness.StartMamori(t, strings.Replace(headersCaddyfile, "MODE", "detect", 1), upstream)}
		resp, err := http.Get(s.URL + "/echo?echo=x%0d%0aSet-Cookie:%20session=attacker")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Echo") != "" {
			t.Fatalf("status %d, Set-Cookie %q, X-Echo %q; want 502 and neither", resp.StatusCode, resp.Header.Get("Set-Cookie"), resp.Header.Get("X-Echo"))
		}
		id := resp.Header.Get("X-Request-Id")
		ev, ok := findLine[struct {
			Guard  string `json:"mamori.guard"`
			RuleID string `json:"rule.id"`
			Status int    `json:"http.response.status_code"`
		}](t, s, "events.log", "transaction.id", id)
		if !ok || ev.Guard != "headers" || ev.Status != 502 {
			t.Errorf("event %+v (found %v)", ev, ok)
		}
		line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id)
		if !ok || line.Status != 502 || line.Verdict != "blocked" {
			t.Errorf("access line %+v", line)
		}
	})
	t.Run("harmless_echo_passes", func(t *testing.T) {
		resp := get(t, "/echo?echo=hello", "")
		if resp.StatusCode != 200 || resp.Header.Get("X-Echo") != "hello" {
			t.Errorf("status %d X-Echo %q", resp.StatusCode, resp.Header.Get("X-Echo"))
		}
	})
}
