package caddymodule

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestReplacedConfigLeavesNoIdleUpstreams: requests that are inside mamori
// (the WAF reading their bodies) when a reload replaces the configuration
// reach the upstream through the replaced reverse proxy after Caddy
// cleaned it up. Their upstream connections must not stay open in that
// transport for the keep-alive idle timeout (2 minutes), holding the
// replaced configuration (upstreams.go; issue 12's memory goal).
func TestReplacedConfigLeavesNoIdleUpstreams(t *testing.T) {
	var open atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "upstream page")
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	up.Start()
	defer up.Close()

	port := freeLoopbackPort(t)
	caddyfile := func(comment string) []byte {
		cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
}
# %s
http://127.0.0.1:%d {
	mamori
	reverse_proxy %s
}
`, comment, port, up.Listener.Addr())), nil)
		if err != nil {
			t.Fatalf("adapting the Caddyfile: %v %v", err, warnings)
		}
		return cfg
	}
	if err := caddy.Load(caddyfile("first"), true); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = caddy.Stop() }()

	// Requests whose bodies are half sent: mamori is reading them.
	const slow = 4
	body := "comment=" + strings.Repeat("a", 32)
	conns := make([]net.Conn, slow)
	for i := range conns {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
		fmt.Fprintf(c, "POST /form HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", port, len(body), body[:8])
		conns[i] = c
	}
	time.Sleep(500 * time.Millisecond) // the requests are in mamori

	if err := caddy.Load(caddyfile("second"), true); err != nil {
		t.Fatalf("reload: %v", err)
	}
	// The replaced configuration is stopped and cleaned up; its requests
	// now reach the upstream through its reverse proxy.
	for i, c := range conns {
		if _, err := io.WriteString(c, body[8:]); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	for i, c := range conns {
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK || string(b) != "upstream page" {
			t.Fatalf("request %d: %d %q, want the upstream's page", i, res.StatusCode, b)
		}
	}
	if n := open.Load(); n == 0 {
		t.Fatal("no upstream connection was opened: the requests did not go through the replaced proxy")
	}
	// Well under the 2-minute keep-alive: the connections are closed once
	// the replaced handler has no request in flight.
	deadline := time.Now().Add(30 * time.Second)
	for open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := open.Load(); n > 0 {
		t.Fatalf("%d upstream connections of the replaced configuration still open 30 s after its last request", n)
	}
}
