package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// limitsCaddyfile is the e2e site with a 1 KiB request body limit.
var limitsCaddyfile = strings.Replace(siteCaddyfile, "mode MODE", "request_body_limit 1KiB", 1)

// TestBadInputsGetClearAnswers: an oversized body, a malformed chunked
// body and a dead upstream each get a clear status, one access-log line,
// and nothing half-sent reaches the upstream.
func TestBadInputsGetClearAnswers(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, limitsCaddyfile, upstream)
	s := &site{Mamori: m, upstream: upstream}

	t.Run("oversized_body_is_refused_with_413", func(t *testing.T) {
		resp, err := http.Post(s.URL+"/echo", "application/x-www-form-urlencoded", strings.NewReader("text="+strings.Repeat("a", 2000)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || strings.Contains(string(body), `"body"`) {
			t.Fatalf("status %d body %.200s; want 413 from mamori, not the upstream's echo", resp.StatusCode, body)
		}
		id := resp.Header.Get("X-Request-Id")
		ev, ok := findLine[event](t, s, "events.log", "transaction.id", id)
		if !ok || ev.Verdict != "blocked" || ev.Status != 413 {
			t.Errorf("event %+v, want blocked with status 413", ev)
		}
		if line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id); !ok || line.Status != 413 {
			t.Errorf("access line %+v", line)
		}
	})

	t.Run("body_at_the_limit_passes_whole", func(t *testing.T) {
		body := "text=" + strings.Repeat("a", 1024-5)
		resp, err := http.Post(s.URL+"/echo", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got received
		err = jsonDecode(resp.Body, &got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || got.Body != body {
			t.Fatalf("status %d, %v, upstream got %d bytes; want 200 and all %d", resp.StatusCode, err, len(got.Body), len(body))
		}
	})

	t.Run("malformed_chunked_body_is_refused_with_400", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot-a-chunk\r\n0\r\n\r\n")
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		// Caddy writes the error status after mamori returns: it still
		// gets the header policy (issue 15).
		expectHeaderPolicy(t, resp.Header)
	})

	t.Run("dead_upstream_gives_502_and_an_access_line", func(t *testing.T) {
		dead := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		m2 := harness.StartMamori(t, strings.Replace(limitsCaddyfile, "reverse_proxy {UPSTREAM}", "reverse_proxy "+dead, 1), upstream)
		req, _ := http.NewRequest("GET", m2.URL+"/", nil)
		req.Host = "localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
		expectHeaderPolicy(t, resp.Header)
		s2 := &site{Mamori: m2}
		line, ok := findLine[accessLine](t, s2, "access.log", "mamori.request_id", resp.Header.Get("X-Request-Id"))
		if !ok || line.Status != 502 || line.Verdict != "allowed" {
			t.Errorf("access line %+v, %v; want status 502 verdict allowed", line, ok)
		}
	})
}

// expectHeaderPolicy: the browser protections are there and nothing names
// the server software.
func expectHeaderPolicy(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") == "" || h.Get("Server") != "" {
		t.Errorf("headers %v: want X-Content-Type-Options nosniff, X-Frame-Options and no Server", h)
	}
}

// TestAbortedRequestIsLogged: a client that hangs up mid-response still
// leaves one access-log line with mamori's request ID and verdict.
func TestAbortedRequestIsLogged(t *testing.T) {
	s := startSite(t, "block")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /stream?id=abort HTTP/1.1\r\nHost: localhost\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("no request ID in %v", resp.Header)
	}
	conn.Close() // hang up while the upstream still holds the stream
	rel, err := http.Get(s.URL + "/release?id=abort")
	if err != nil {
		t.Fatal(err)
	}
	rel.Body.Close()
	line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id)
	if !ok || line.Verdict != "allowed" {
		t.Errorf("access line for the aborted request: %+v (found %v)", line, ok)
	}
}

// TestMalformedHeadersAreRefused (V10): requests that could split headers or
// smuggle a second request never reach the WAF or the upstream as sent. Go's
// HTTP server refuses most before any handler runs; what it accepts it
// normalises (Content-Length dropped beside chunked), and the proxy sends
// the upstream a freshly framed request.
func TestMalformedHeadersAreRefused(t *testing.T) {
	s := startSite(t, "block")
	tests := []struct {
		name, raw, status string
	}{
		{"nul_in_header_value", "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00b\r\n\r\n", "400"},
		{"bare_cr_in_header_value", "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-A: a\rSet-Cookie: b\r\n\r\n", "400"},
		{"conflicting_content_lengths", "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "400"},
		{"transfer_encoding_other_than_chunked", "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501"},
		{"content_length_beside_chunked_is_ignored", "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<a/>x\r\n0\r\n\r\n", "200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprint(conn, tc.raw)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if fmt.Sprint(resp.StatusCode) != tc.status {
				t.Fatalf("status %d, want %s", resp.StatusCode, tc.status)
			}
			if tc.status == "200" {
				var got received
				if err := json.Unmarshal(body, &got); err != nil || got.Body != "<a/>x" {
					t.Errorf("upstream got body %q (%v), want exactly the chunked body", got.Body, err)
				}
			}
		})
	}
}

// TestSlowBodyIsCut (V1, issue 15): a body that trickles in slower than
// the minimum rate is cut with 408, one event and one access line, and
// nothing reaches the upstream: with mamori's default (20 s plus 1 s per
// 500 bytes, where Caddy alone never cuts a trickle) and with a shorter
// allowance set in the Caddyfile.
func TestSlowBodyIsCut(t *testing.T) {
	upstream := harness.Upstream(t)
	for _, tc := range []struct{ name, global string }{
		{"mamori_default", ""},
		{"configured_2s", "\tservers {\n\t\ttimeouts {\n\t\t\tread_body_idle 2s 500\n\t\t}\n\t}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := harness.StartMamori(t, caddyfile(tc.global, "mode block", ""), upstream)
			slowBody(t, &site{Mamori: m, upstream: upstream})
		})
	}
}

// slowBody sends a body a byte a second and expects mamori's 408.
func slowBody(t *testing.T, s *site) {
	mark := marker(t)
	conn, err := net.Dial("tcp", hostPort(s))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /echo?m=%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\na=", mark)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte a second, far below 500 bytes a second
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	id := resp.Header.Get("X-Request-Id")
	ev, ok := findLine[guardEvent](t, s, "events.log", "transaction.id", id)
	if !ok || ev.Guard != "limits" || ev.RuleID != "body-timeout" || ev.Status != 408 {
		t.Errorf("event %+v (found %v), want limits/body-timeout 408", ev, ok)
	}
	if line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id); !ok || line.Status != 408 {
		t.Errorf("access line %+v (found %v), want status 408", line, ok)
	}
	if n := upstreamGot(t, s.upstream, mark); n != 0 {
		t.Errorf("the upstream got %d requests for the slow body", n)
	}
}
