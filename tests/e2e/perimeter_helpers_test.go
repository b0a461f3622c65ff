package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// startPerimeterSite starts an upstream and a mamori whose mamori block
// holds config (in place of "mode MODE").
func startPerimeterSite(t *testing.T, config string) *site {
	t.Helper()
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(siteCaddyfile, "mode MODE", config, 1), upstream)
	return &site{Mamori: m, upstream: upstream}
}

// upstreamSaw is how many requests the upstream received whose request
// target held marker.
func upstreamSaw(t *testing.T, s *site, marker string) int {
	t.Helper()
	return upstreamGot(t, s.upstream, marker)
}

// rawResponse is what came back for a raw request.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// sendRaw writes raw bytes to the site and reads one response: for
// requests net/http's client would not send as written.
func sendRaw(t *testing.T, s *site, raw string) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// hostPort is the Host header value the site is reached by.
func hostPort(s *site) string { return strings.TrimPrefix(s.URL, "http://") }

// expectRefusal checks that a guard refused a request: the status, one
// event naming the guard and rule, a blocked access-log line, and that
// the upstream never saw marker.
func expectRefusal(t *testing.T, s *site, status int, header http.Header, guard, rule, marker string) {
	t.Helper()
	id := header.Get("X-Request-Id")
	if id == "" {
		t.Fatalf("no X-Request-Id: the answer (status %d) did not come from mamori's handler", status)
	}
	ev, ok := findLine[guardEvent](t, s, "events.log", "transaction.id", id)
	if !ok || ev.Guard != guard || ev.RuleID != rule || ev.Status != status || ev.Verdict != "blocked" {
		t.Errorf("event %+v (found %v), want guard %s rule %s status %d", ev, ok, guard, rule, status)
	}
	if line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id); !ok || line.Status != status || line.Verdict != "blocked" {
		t.Errorf("access line %+v (found %v)", line, ok)
	}
	if marker != "" {
		if n := upstreamSaw(t, s, marker); n != 0 {
			t.Errorf("the upstream received %d requests with %s", n, marker)
		}
	}
}
