package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"weak"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/mamori-waf/mamori/internal/waf"
)

// TestReplacedHandlersKeepNoEngine checks what a reload leaves behind
// (issue 12's memory goal): Caddy keeps a replaced configuration, with
// its handlers, reachable while its reverse proxy has idle upstream
// connections, so handlers that were cleaned up but are still referenced
// must not keep their compiled rule sets alive. It runs the bench's
// sequence in-process: two sites on one patch file, a rules reload, a
// Caddyfile reload (two new handlers, the old ones cleaned up but kept
// reachable), another rules reload. After each, every rule set no live
// handler runs is freed by the garbage collector, and a request that
// still reaches a replaced handler runs the live shared engine when the
// rules are the same, and is refused with 503 (fails closed) once its
// rules are gone.
func TestReplacedHandlersKeepNoEngine(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	patch := filepath.Join(t.TempDir(), "patch.conf")
	write := func(v string) {
		t.Helper()
		rule := `SecRule ARGS:probe "@streq ` + v + `" "id:1000301,phase:1,deny,status:403,log"` + "\n"
		if err := os.WriteFile(patch, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	provision := func() *Handler {
		t.Helper()
		h := &Handler{}
		h.WAF.Includes = []string{patch}
		h.Logs.AccessLog = &AccessLog{Off: true}
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return h
	}
	reload := func() {
		t.Helper()
		rec := httptest.NewRecorder()
		if err := reloadRules(rec, httptest.NewRequest(http.MethodPost, "/mamori/rules/reload", nil)); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("rules reload: %v, %d %s", err, rec.Code, rec.Body)
		}
	}
	// weakEngine takes the handler's engine for the next request weakly
	// (in a function of its own, so that no strong copy stays on this
	// test's stack).
	weakEngine := func(h *Handler) weak.Pointer[waf.Engine] { return weak.Make(h.currentEngine()) }
	collect := func() {
		// Two collections: the first may leave objects of sync.Pools in
		// their victim caches.
		runtime.GC()
		runtime.GC()
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	serve := func(h *Handler, probe string) int {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "http://example.com/?probe="+probe, nil)
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		r.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, r, next); err != nil {
			if he, ok := err.(caddyhttp.HandlerError); ok {
				return he.StatusCode
			}
			t.Fatalf("ServeHTTP: %v", err)
		}
		return rec.Code
	}

	// Configuration 1: two sites, rule set R1, one shared engine.
	write("r1")
	a, b := provision(), provision()
	if got := serve(a, "r1"); got != http.StatusForbidden {
		t.Fatalf("configuration 1 answered %d to R1's probe, want 403", got)
	}
	r1 := weakEngine(a)

	// A rules reload: R2 in both sites, R1 freed.
	write("r2")
	reload()
	r2 := weakEngine(a)
	collect()
	if r1.Value() != nil {
		t.Error("after the rules reload, R1's engine is still alive (the handlers hold the engine they were provisioned with)")
	}
	if got := serve(b, "r2"); got != http.StatusForbidden {
		t.Fatalf("after the rules reload, a site answered %d to R2's probe, want 403", got)
	}

	// A Caddyfile reload with the same files: the new handlers share R2;
	// the old ones are cleaned up but stay reachable (old = a, b).
	c, d := provision(), provision()
	if c.currentEngine() != r2.Value() {
		t.Fatal("the new configuration did not reuse the running R2 engine")
	}
	for _, h := range []*Handler{a, b} {
		if err := h.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	collect()
	if got := serve(a, "r2"); got != http.StatusForbidden {
		t.Errorf("a replaced handler answered %d to R2's probe while R2 is still in use, want 403 (the shared engine)", got)
	}

	// A rules reload: R3 in the new sites. Nothing live runs R2 any more:
	// it must be freed although the replaced handlers are still reachable.
	write("r3")
	reload()
	collect()
	if r2.Value() != nil {
		t.Error("after the next rules reload, R2's engine is still alive: the replaced handlers keep it")
	}
	if got := serve(c, "r3"); got != http.StatusForbidden {
		t.Errorf("after the next rules reload, a live site answered %d to R3's probe, want 403", got)
	}
	if a.currentEngine() != waf.Released() {
		t.Error("a replaced handler whose rules were freed does not use the refusing engine")
	}
	if got := serve(a, "anything"); got != http.StatusServiceUnavailable {
		t.Errorf("a replaced handler whose rules were freed answered %d, want 503 (fail closed)", got)
	}

	// A site without include files has no watcher: its Cleanup lets go
	// of the engine it was provisioned with (a rule set of its own here:
	// paranoia level 2).
	e := &Handler{}
	e.WAF.ParanoiaLevel = 2
	e.Logs.AccessLog = &AccessLog{Off: true}
	if err := e.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	pl2 := weakEngine(e)
	if err := e.Cleanup(); err != nil {
		t.Fatal(err)
	}
	collect()
	if pl2.Value() != nil {
		t.Error("a replaced handler without include files still keeps its engine alive")
	}
	if got := serve(e, "r3"); got != http.StatusServiceUnavailable {
		t.Errorf("a replaced handler without include files whose rules were freed answered %d, want 503", got)
	}

	for _, h := range []*Handler{c, d} {
		if err := h.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.KeepAlive(e)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
}
