package e2e

// Caddy's own access log in a mamori site (S8, issue 15): a site that adds
// Caddy's `log { output file … format json }`, as Caddy users do, gets no
// secret in it, with no filter to know about; and the access logs count
// the body bytes that arrived, not the declared length (S5).

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// caddyLogCaddyfile: Caddy's plain JSON access log beside mamori;
// SERVERS holds global server options.
const caddyLogCaddyfile = `{
	admin off
	SERVERS
	log default {
		output stderr
		exclude mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	log {
		output file {DIR}/caddy-access.log
		format json
	}
	mamori {
		log_secret_fields site_pin
	}
	reverse_proxy {UPSTREAM}
}
`

// caddyRequestLine is Caddy's access-log line as the test reads it.
type caddyRequestLine struct {
	Msg     string `json:"msg"`
	Logger  string `json:"logger"`
	Request struct {
		URI     string              `json:"uri"`
		Method  string              `json:"method"`
		Headers map[string][]string `json:"headers"`
	} `json:"request"`
	Status    int                 `json:"status"`
	RespHdr   map[string][]string `json:"resp_headers"`
	RequestID string              `json:"mamori.request_id"`
}

func TestCaddyAccessLogMasksSecrets(t *testing.T) {
	const (
		password = "Qu1et-Pass-8842"
		cookie   = "c00kie-s3cret-5521"
		bearer   = "bearer-t0ken-7310"
		apiToken = "x-auth-t0ken-6604"
		pin      = "pin-55110022"
	)
	harness.Secret(password, cookie, bearer, apiToken, pin)
	upstream := harness.Upstream(t)
	for _, tc := range []struct{ name, servers string }{
		{"default", ""},
		// log_credentials asks Caddy for Cookie and Authorization in
		// clear: in a mamori site they stay masked.
		{"log_credentials", "servers {\n\t\tlog_credentials\n\t}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := harness.StartMamori(t, strings.Replace(caddyLogCaddyfile, "SERVERS", tc.servers, 1), upstream)
			type req struct {
				name, path string
				header     http.Header
				maskedURI  string // "" : the URI is logged as sent
				status     int    // 0: 200
			}
			reqs := []req{
				{"password in the query", "/status/200?user=melody&password=" + password, nil, "/status/200?user=melody&password=%5Bredacted%5D", 0},
				{"operator-named field", "/status/200?site_pin=" + pin, nil, "/status/200?site_pin=%5Bredacted%5D", 0},
				{"cookie", "/status/200?c=1", http.Header{"Cookie": {"PHPSESSID=" + cookie}}, "", 0},
				{"authorization", "/status/200?a=1", http.Header{"Authorization": {"Bearer " + bearer}}, "", 0},
				{"token header", "/status/200?t=1", http.Header{"X-Auth-Token": {apiToken}}, "", 0},
				{"nothing secret", "/status/200?plain=1", nil, "", 0},
				{"blocked beside a password", "/status/200?password=" + password + "&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil,
					"/status/200?password=%5Bredacted%5D&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 403},
			}
			ids := map[string]req{}
			for _, r := range reqs {
				hr, _ := http.NewRequest("GET", m.URL+r.path, nil)
				hr.Host = "localhost"
				for k, v := range r.header {
					hr.Header[k] = v
				}
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != cmp.Or(r.status, 200) {
					t.Fatalf("%s: status %d", r.name, resp.StatusCode)
				}
				ids[resp.Header.Get("X-Request-Id")] = r
			}
			var lines []string
			deadline := time.Now().Add(10 * time.Second)
			for {
				lines = m.ReadLines(t, "caddy-access.log")
				if len(lines) > len(reqs) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if len(lines) != len(reqs)+1 { // the harness's start probe has one too
				t.Fatalf("%d lines in Caddy's access log, want one per request (%d+1):\n%s", len(lines), len(reqs), strings.Join(lines, "\n"))
			}
			all := strings.Join(lines, "\n")
			for _, secret := range []string{password, cookie, bearer, apiToken, pin} {
				if strings.Contains(all, secret) {
					t.Errorf("secret %q in Caddy's access log:\n%s", secret, all)
				}
			}
			seen := map[string]bool{}
			for _, l := range lines {
				var cl caddyRequestLine
				if err := json.Unmarshal([]byte(l), &cl); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, l)
				}
				r, ok := ids[cl.RequestID]
				if !ok && cl.Request.URI == "/status/200" {
					continue // the start probe
				}
				if !ok {
					t.Errorf("line without a known mamori.request_id: %s", l)
					continue
				}
				seen[cl.RequestID] = true
				want := r.maskedURI
				if want == "" {
					want = r.path
				}
				if cl.Request.URI != want || cl.Status != cmp.Or(r.status, 200) || cl.Msg != "handled request" ||
					!strings.HasPrefix(cl.Logger, "http.log.access") || cl.Request.Method != "GET" {
					t.Errorf("%s: line %s; want uri %s, status %d, Caddy's logger and message", r.name, l, want, cmp.Or(r.status, 200))
				}
				for name, v := range r.header {
					if got := cl.Request.Headers[name]; len(got) != 1 || strings.Contains(got[0], v[0]) {
						t.Errorf("%s: header %s logged as %q", r.name, name, got)
					}
				}
			}
			if len(seen) != len(reqs) {
				t.Errorf("lines for %d of %d requests", len(seen), len(reqs))
			}
		})
	}
}

// TestBodyBytesAreWhatArrived: an upload that declares 100000 bytes and
// stops after 20 is logged with at most 20 body bytes, by mamori's access
// log and by Caddy's.
func TestBodyBytesAreWhatArrived(t *testing.T) {
	s := startSite(t, "block")
	mark := marker(t)
	conn, err := net.Dial("tcp", hostPort(s))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /echo?m=%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n%s", mark, strings.Repeat("x", 20))
	time.Sleep(500 * time.Millisecond) // the 20 bytes are read
	conn.Close()
	var line map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		for _, l := range s.ReadLines(t, "logs/access.log") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && strings.Contains(fmt.Sprint(m["url.original"]), mark) {
				line = m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if line == nil {
		t.Fatal("no access line for the aborted upload")
	}
	if n, ok := line["http.request.body.bytes"].(float64); !ok || n > 20 {
		t.Errorf("http.request.body.bytes %v, want the bytes that arrived (at most 20), not the declared 100000", line["http.request.body.bytes"])
	}
	if got := upstreamGot(t, s.upstream, mark); got != 0 {
		t.Errorf("the upstream got %d requests for the aborted upload", got)
	}
}

// TestOneWriterPerAccessLogFile (S6, issue 15): two sites whose access_log
// names one file share one writer and one chain; when they differ only in
// chain_key or ship, validate says so instead of opening two chains on
// the file (which `logs verify` would report as tampering).
func TestOneWriterPerAccessLogFile(t *testing.T) {
	bin, _ := harness.Binaries(t)
	dir := t.TempDir()
	site := func(port int, options string) string {
		return fmt.Sprintf("http://127.0.0.1:%d {\n\tmamori {\n\t\taccess_log %s/shared.log {\n%s\t\t}\n\t}\n\trespond ok\n}\n", port, dir, options)
	}
	key := "\t\t\tchain_key one-writer-key-0123456789\n"
	for _, tc := range []struct {
		name, second string
		ok           bool
	}{
		{"same_settings", key, true},
		{"chain_key_differs", "\t\t\tchain_key other-writer-key-0123456789\n", false},
		{"chain_key_missing", "", false},
		{"ship_differs", key + "\t\t\tship mamori_syslog tcp://127.0.0.1:9 \n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "Caddyfile")
			conf := "{\n\tadmin off\n}\n" + site(8081, key) + site(8082, tc.second)
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runCmdEnv(bin, []string{"MAMORI_LOG_DIR=" + dir}, "validate", "--config", path, "--adapter", "caddyfile")
			if tc.ok != (err == nil) || (!tc.ok && !strings.Contains(out, "different chain_key or ship settings")) {
				t.Errorf("validate: %v\n%s", err, out)
			}
		})
	}
}
