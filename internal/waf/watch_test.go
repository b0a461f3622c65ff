package waf

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"
)

// TestWatcher (V12): a patch added to, changed in, or broken in a watched
// directory is picked up, swapped in, or refused with the running rules
// kept, without a configuration reload.
func TestWatcher(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Includes: []string{filepath.Join(dir, "*.conf")}}
	e := engineFor(t, cfg)
	var reloads, errs int
	w, err := NewWatcher(cfg, e, time.Hour, func(*Engine) { reloads++ }, func(error) { errs++ })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	blocked := func(value string) bool {
		tx := w.Engine().NewTransaction("w")
		defer tx.Close()
		r := httptest.NewRequest("GET", "/?cve="+value, nil)
		r.Header.Set("User-Agent", "test")
		r.Header.Set("Accept", "*/*")
		r.Host = "example.com"
		it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
		if err != nil {
			t.Fatal(err)
		}
		return it != nil
	}
	patch := func(v string) string {
		return `SecRule ARGS:cve "@streq ` + v + `" "id:1000201,phase:1,deny,status:403,log"` + "\n"
	}
	steps := []struct {
		name         string
		file, text   string
		swapped      bool
		wantErr      string
		block, allow string
	}{
		{"nothing_changed", "", "", false, "", "", "2026-0001"},
		{"patch_added", "p.conf", patch("2026-0001"), true, "", "2026-0001", "2026-0002"},
		{"patch_changed", "p.conf", patch("2026-0002"), true, "", "2026-0002", "2026-0001"},
		{"broken_patch_refused", "q.conf", "SecRule ARGS:x \"@streq y\" \"id:1000202,phase:1,deny,bogus\"\n", false, "q.conf:1", "2026-0002", "2026-0001"},
		{"broken_patch_removed_nothing_to_swap", "q.conf", "", false, "", "2026-0002", "2026-0001"},
		{"broken_again_reported_again", "q.conf", "SecRule ARGS:x \"@streq y\" \"id:1000202,phase:1,deny,bogus\"\n", false, "q.conf:1", "2026-0002", "2026-0001"},
	}
	for _, st := range steps {
		if st.file != "" {
			path := filepath.Join(dir, st.file)
			if st.text == "" {
				os.Remove(path)
			} else {
				writeFile(t, path, st.text)
			}
		}
		swapped, err := w.Check()
		if swapped != st.swapped || (st.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), st.wantErr)) {
			t.Fatalf("%s: swapped %v, err %v; want swapped %v, error containing %q", st.name, swapped, err, st.swapped, st.wantErr)
		}
		if st.block != "" && !blocked(st.block) {
			t.Errorf("%s: cve=%s passed", st.name, st.block)
		}
		if blocked(st.allow) {
			t.Errorf("%s: cve=%s blocked", st.name, st.allow)
		}
	}
	if reloads != 2 || errs != 2 {
		t.Errorf("%d reloads and %d errors reported, want 2 and 2", reloads, errs)
	}
	if _, err := NewWatcher(cfg, e, -time.Second, nil, nil); err == nil {
		t.Error("a negative interval was accepted")
	}
	// With no interval the watcher never polls: only Check swaps.
	manual, err := NewWatcher(cfg, e, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	manual.Start()
	defer manual.Close()
	if manual.Engine() != e {
		t.Error("a manual watcher did not start from the given engine")
	}
}

// TestWatcherClosedHoldsWeakly: a closed watcher (its site's
// configuration replaced, but still reachable) keeps its last engine only
// weakly, keeps no rule text, and swaps nothing in afterwards (issue 12).
func TestWatcherClosedHoldsWeakly(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Includes: []string{filepath.Join(dir, "*.conf")}, Directives: "SecAction \"id:1000204,phase:1,pass,nolog\"",
		Packs: []RulePack{{Name: "profiles/example.conf", SecLang: strings.Repeat("# a profile's rendered pack\n", 1000)}}}
	var w *Watcher
	var wp weak.Pointer[Engine]
	func() { // no strong copy of the engine left on this stack
		// An engine of its own (engineFor's are cached), without CRS: cheap.
		e, err := New(&Compiled{Config: cfg.WithDefaults(), Directives: "SecRuleEngine On\n", Fingerprint: strings.Repeat("0", 64)})
		if err != nil {
			t.Fatal(err)
		}
		wp = weak.Make(e)
		if w, err = NewWatcher(cfg, e, 0, nil, nil); err != nil {
			t.Fatal(err)
		}
	}()
	if w.Engine() == nil {
		t.Fatal("an open watcher has no engine")
	}
	if c := w.Config(); len(c.Packs) != 1 || c.Directives == "" {
		t.Fatal("an open watcher does not keep the configuration it compiles")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if c := w.Config(); len(c.Packs) != 0 || c.Directives != "" || len(c.Includes) != 0 {
		t.Errorf("a closed watcher still keeps its configuration's rule text: %d packs, directives %q", len(c.Packs), c.Directives)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.conf"), []byte(`SecRule ARGS:x "@streq y" "id:1000203,phase:1,deny,log"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if swapped, err := w.Check(); swapped || err != nil {
		t.Errorf("a closed watcher's Check: swapped %v, %v; want nothing", swapped, err)
	}
	runtime.GC()
	runtime.GC()
	if wp.Value() != nil || w.Engine() != nil {
		t.Error("a closed watcher still keeps its engine alive")
	}
}

// TestReleasedRefuses: the engine for a request that reaches a replaced
// handler whose rules were freed refuses it with 503.
func TestReleasedRefuses(t *testing.T) {
	tx := Released().NewTransaction("released")
	defer tx.Close()
	r := httptest.NewRequest("GET", "/", nil)
	it, err := tx.ProcessRequest(r, "192.0.2.1", 1234)
	if err != nil {
		t.Fatal(err)
	}
	if it == nil || it.Status != 503 || it.RuleID != ReleasedRuleID {
		t.Errorf("released engine: interruption %+v, want 503 by rule %d", it, ReleasedRuleID)
	}
}
