package caddymodule

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard" // reverse_proxy, the Caddyfile adapter

	"github.com/mamori-waf/mamori/internal/waf"
)

// TestReloadsLeaveNothingBehind runs whole-configuration reloads and
// rules reloads in-process on a real Caddy (issue 12's memory goal, the
// bench-reload sequence in small): two sites with a CMS profile (its
// rendered rule packs), a watched patch file (a watcher goroutine each),
// an access-log file and a reverse proxy to a real upstream. Caddy keeps
// a replaced configuration reachable while its reverse proxy has idle
// upstream connections; the test keeps every replaced configuration
// itself, as those connections would, and checks that
//   - mamori's goroutines (watchers, log writers) return to their count
//     before the reloads: nothing leaks per reload;
//   - no replaced handler keeps a compiled rule set (each reload changes
//     the patch, so no live site runs a replaced one: a request that
//     still reaches a replaced handler is refused with 503) nor its rule
//     text (packs, its watcher's configuration);
//   - the live sites run the latest patch, and share one engine.
func TestReloadsLeaveNothingBehind(t *testing.T) {
	dir := t.TempDir()
	patch := filepath.Join(dir, "patch.conf")
	write := func(v string) {
		t.Helper()
		rule := `SecRule ARGS:reload_probe "@streq ` + v + `" "id:1000401,phase:1,deny,status:403,log"` + "\n"
		if err := os.WriteFile(patch, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><body>upstream page</body></html>")
	}))
	defer up.Close()
	ports := []int{freeLoopbackPort(t), freeLoopbackPort(t)}
	var cf strings.Builder
	cf.WriteString("{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n}\n")
	for _, p := range ports {
		fmt.Fprintf(&cf, `http://127.0.0.1:%d {
	mamori {
		profile wordpress
		include %s
		watch 1h
		access_log {
			output file %s
		}
	}
	reverse_proxy %s
}
`, p, patch, filepath.Join(dir, "access.log"), up.Listener.Addr())
	}
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf.String()), nil)
	if err != nil {
		t.Fatalf("adapting the Caddyfile: %v %v", err, warnings)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	get := func(port int, probe string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/?reload_probe=%s", port, probe), nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		req.Header.Set("Accept", "text/html")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res.StatusCode
	}
	probeAll := func(v string) {
		t.Helper()
		for _, p := range ports {
			if got := get(p, v); got != http.StatusForbidden {
				t.Fatalf("site %d answered %d to the patch's probe %q, want 403", p, got, v)
			}
			if got := get(p, "other"); got != http.StatusOK {
				t.Fatalf("site %d answered %d to a benign request, want 200", p, got)
			}
		}
	}

	write("v0")
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = caddy.Stop() }()
	probeAll("v0")
	before := mamoriGoroutines(t)

	const reloads = 3
	var replaced []caddy.Context
	for i := 1; i <= reloads; i++ {
		// A rules reload (`mamori reload-rules`) ...
		write(fmt.Sprintf("r%d", i))
		rec := httptest.NewRecorder()
		if err := reloadRules(rec, httptest.NewRequest(http.MethodPost, "/mamori/rules/reload", nil)); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("rules reload %d: %v, %d %s", i, err, rec.Code, rec.Body)
		}
		probeAll(fmt.Sprintf("r%d", i))
		// ... and a configuration reload (`mamori reload --force`).
		write(fmt.Sprintf("c%d", i))
		replaced = append(replaced, caddy.ActiveContext())
		if err := caddy.Load(cfg, true); err != nil {
			t.Fatalf("configuration reload %d: %v", i, err)
		}
		probeAll(fmt.Sprintf("c%d", i))
	}

	// mamori's goroutines come back to their number before the reloads
	// (the replaced servers' shutdown finishes in the background: wait
	// for it, generously; the test fails only if they never come back).
	var after map[string]int
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		after = mamoriGoroutines(t)
		if total(after) <= total(before) || time.Now().After(deadline) {
			break
		}
	}
	if total(after) > total(before) {
		t.Errorf("mamori goroutines after %d + %d reloads: %v; before: %v", reloads, reloads, after, before)
	}

	runtime.GC()
	runtime.GC() // the second empties sync.Pools' victim caches
	live := handlersOf(t, caddy.ActiveContext())
	if len(live) != len(ports) {
		t.Fatalf("found %d live mamori handlers, want %d", len(live), len(ports))
	}
	if live[0].currentEngine() != live[1].currentEngine() {
		t.Error("the live sites run two engines for one rule set")
	}
	for i, ctx := range replaced {
		hs := handlersOf(t, ctx)
		if len(hs) != len(ports) {
			t.Fatalf("found %d mamori handlers in replaced configuration %d, want %d", len(hs), i+1, len(ports))
		}
		for _, h := range hs {
			if h.currentEngine() != waf.Released() {
				t.Errorf("a handler of replaced configuration %d still reaches a compiled rule set no live site runs", i+1)
			}
			if n := ruleTextHeld(h); n > 0 {
				t.Errorf("a handler of replaced configuration %d still holds %d bytes of rule text", i+1, n)
			}
			if got := serveReplaced(t, h); got != http.StatusServiceUnavailable {
				t.Errorf("a handler of replaced configuration %d answered %d, want 503 (its rules are gone)", i+1, got)
			}
		}
	}
	for _, h := range live {
		if ruleTextHeld(h) == 0 {
			t.Error("a live handler holds no rule pack text: the test does not exercise the profile's packs")
		}
	}
	if len(live) == 2 && len(live[0].WAF.Packs) > 0 && len(live[1].WAF.Packs) > 0 &&
		unsafe.StringData(live[0].WAF.Packs[0].SecLang) != unsafe.StringData(live[1].WAF.Packs[0].SecLang) {
		t.Error("two sites with the same profile and paths hold two copies of the rule packs' text")
	}
}

// mamoriGoroutines counts the goroutines running mamori's code, by their
// outermost mamori function (the test's own goroutines left out).
func mamoriGoroutines(t *testing.T) map[string]int {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "_test.go") {
			continue
		}
		var fn string
		for _, line := range strings.Split(g, "\n") {
			if strings.HasPrefix(line, "github.com/mamori-waf/mamori/") {
				fn = line // the last one is the outermost
			}
		}
		if fn != "" {
			if i := strings.LastIndexByte(fn, '('); i > 0 {
				fn = fn[:i]
			}
			out[fn]++
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// handlersOf lists the mamori handlers of a configuration's HTTP app.
func handlersOf(t *testing.T, ctx caddy.Context) []*Handler {
	t.Helper()
	a, err := ctx.App("http")
	if err != nil {
		t.Fatal(err)
	}
	var out []*Handler
	var walk func(caddyhttp.RouteList)
	walk = func(routes caddyhttp.RouteList) {
		for _, r := range routes {
			for _, mh := range r.Handlers {
				switch v := mh.(type) {
				case *Handler:
					out = append(out, v)
				case *caddyhttp.Subroute:
					walk(v.Routes)
				}
			}
		}
	}
	for _, s := range a.(*caddyhttp.App).Servers {
		walk(s.Routes)
	}
	return out
}

// ruleTextHeld is how many bytes of SecLang a handler still reaches: its
// profile's packs and directives, in its own configuration, its engine
// reference's and its watcher's.
func ruleTextHeld(h *Handler) int {
	n := 0
	count := func(c waf.Config) {
		for _, p := range c.Packs {
			n += len(p.SecLang)
		}
		n += len(c.SetupDirectives) + len(c.Directives)
	}
	count(h.WAF)
	count(h.engine.Config())
	if h.watcher != nil {
		count(h.watcher.Config())
	}
	return n
}

func serveReplaced(t *testing.T, h *Handler) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://example.com/?reload_probe=x", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	if err := h.ServeHTTP(rec, r, next); err != nil {
		if he, ok := err.(caddyhttp.HandlerError); ok {
			return he.StatusCode
		}
		t.Fatalf("ServeHTTP: %v", err)
	}
	return rec.Code
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
