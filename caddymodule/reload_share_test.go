package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestRulesReloadSharesEngine checks that a rules reload (`mamori
// reload-rules`, the admin API) leaves one compiled engine per distinct rule
// set, shared by every site that runs it, closes the one it replaces, and
// updates the ruleset_info metric (V12, issue 12).
func TestRulesReloadSharesEngine(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	dir := t.TempDir()
	patch := filepath.Join(dir, "patch.conf")
	write := func(id string) {
		rule := `SecRule ARGS:x "@streq y" "id:` + id + `,phase:1,deny,log"` + "\n"
		if err := os.WriteFile(patch, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1000101")
	provision := func() *Handler {
		h := &Handler{}
		h.WAF.Includes = []string{patch}
		h.Logs.AccessLog = &AccessLog{Off: true}
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Cleanup() })
		return h
	}
	refs := func(fp string) int {
		n, _ := engines.References(fp)
		return n
	}
	reload := func() {
		t.Helper()
		rec := httptest.NewRecorder()
		if err := reloadRules(rec, httptest.NewRequest(http.MethodPost, "/mamori/rules/reload", nil)); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("reload answered %d: %s", rec.Code, rec.Body)
		}
	}
	// rulesetFingerprints lists the fingerprints ruleset_info reports.
	rulesetFingerprints := func() map[string]bool {
		t.Helper()
		mfs, err := ctx.GetMetricsRegistry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, mf := range mfs {
			if mf.GetName() != "mamori_ruleset_info" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "fingerprint" {
						out[l.GetValue()] = true
					}
				}
			}
		}
		return out
	}

	a, b := provision(), provision()
	first := a.currentEngine()
	if b.currentEngine() != first || refs(a.fingerprint) != 2 {
		t.Fatalf("same rules: engines %p %p, references %d; want one shared engine", first, b.currentEngine(), refs(a.fingerprint))
	}
	if fps := rulesetFingerprints(); !fps[a.fingerprint[:12]] {
		t.Fatalf("ruleset_info before reload: %v, want %s", fps, a.fingerprint[:12])
	}

	write("1000102")
	reload()
	second := a.currentEngine()
	if second == first {
		t.Fatal("the rules reload did not swap in the changed rules")
	}
	if b.currentEngine() != second {
		t.Fatalf("after reload-rules the two sites run engines %p and %p: want one shared engine", second, b.currentEngine())
	}
	fp := second.Fingerprint()
	if refs(fp) != 2 || refs(a.fingerprint) != 0 {
		t.Errorf("after reload: new rule set has %d references (want 2), old %d (want 0: closed)", refs(fp), refs(a.fingerprint))
	}
	fps := rulesetFingerprints()
	if !fps[fp[:12]] || fps[a.fingerprint[:12]] {
		t.Errorf("ruleset_info after reload: %v, want %s and not %s", fps, fp[:12], a.fingerprint[:12])
	}

	// Back to the first rules: again one engine for both sites.
	write("1000101")
	reload()
	third := a.currentEngine()
	if third != b.currentEngine() || third.Fingerprint() != a.fingerprint || refs(fp) != 0 || refs(a.fingerprint) != 2 {
		t.Errorf("after reloading back: engines %p %p, references new %d old %d; want one shared engine for the first rule set",
			third, b.currentEngine(), refs(a.fingerprint), refs(fp))
	}

	// Touching the file without changing the rules keeps the engine.
	write("1000101")
	reload()
	if a.currentEngine() != third {
		t.Error("a reload with unchanged rules replaced the engine")
	}

	// A site's Cleanup releases the engine its watcher holds.
	_ = a.Cleanup() // (t.Cleanup's second call releases nothing more)
	if refs(third.Fingerprint()) != 1 {
		t.Errorf("after one site's cleanup: %d references, want 1", refs(third.Fingerprint()))
	}
}
