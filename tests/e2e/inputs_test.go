package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// proxiedCaddyfile trusts 127.0.0.1 as a proxy, so X-Forwarded-For from it
// names the client; its default log runs at INFO, as an operator's would.
const proxiedCaddyfile = `{
	admin off
	servers {
		trusted_proxies static 127.0.0.1/32
	}
	log events {
		output file {DIR}/events.log
		include mamori.events
	}
	log default {
		output stderr
		exclude mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori
	reverse_proxy {UPSTREAM}
}
`

// TestClientIPFromTrustedProxy: the WAF and its events see the real client
// (Caddy's client_ip) behind a trusted proxy, and the client's own header
// everywhere else is ignored.
func TestClientIPFromTrustedProxy(t *testing.T) {
	upstream := harness.Upstream(t)
	tests := []struct {
		name, caddyfile, want string
	}{
		{"trusted_proxy_names_the_client", proxiedCaddyfile, "203.0.113.9"},
		{"untrusted_header_is_ignored", strings.Replace(proxiedCaddyfile, "trusted_proxies static 127.0.0.1/32", "trusted_proxies static 192.0.2.0/24", 1), "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := harness.StartMamori(t, tc.caddyfile, upstream)
			s := &site{Mamori: m}
			req, _ := http.NewRequest("GET", m.URL+"/echo?id=1'%20OR%20'1'='1", nil)
			req.Host = "localhost"
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ev, ok := findLine[event](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			if !ok || ev.SourceIP != tc.want || resp.StatusCode != 403 {
				t.Errorf("status %d, event source.ip %q (found %v), want 403 and %q", resp.StatusCode, ev.SourceIP, ok, tc.want)
			}
		})
	}
}

// TestQuietByDefault: benign requests add no line to mamori's own log
// (coraza-caddy writes about three per request).
func TestQuietByDefault(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, proxiedCaddyfile, upstream)
	time.Sleep(300 * time.Millisecond) // let start-up lines land
	before := m.Proc.String()
	for i := 0; i < 10; i++ {
		req, _ := http.NewRequest("GET", m.URL+"/echo?q=gardening+tips&page=2", nil)
		req.Host = "localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if added := strings.TrimPrefix(m.Proc.String(), before); strings.TrimSpace(added) != "" {
		t.Errorf("10 benign requests wrote to the log:\n%s", added)
	}
}

// TestForwardedHeadersAreMamoris: the upstream gets X-Forwarded-* from the
// proxy, never the client's own (Movable Type trusts X-Forwarded-Proto for
// its cookies' Secure flag).
func TestForwardedHeadersAreMamoris(t *testing.T) {
	s := startSite(t, "block")
	req, _ := http.NewRequest("GET", s.URL+"/echo", nil)
	req.Host = "localhost"
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got received
	err = jsonDecode(resp.Body, &got)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "localhost"}
	for name, v := range want {
		if g := got.Header.Values(name); len(g) != 1 || g[0] != v {
			t.Errorf("upstream got %s %q, want only %q", name, g, v)
		}
	}
}
