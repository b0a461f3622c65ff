package caddymodule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/mamori-waf/mamori/internal/waf"
)

// TestEnginePool checks that handlers with the same configuration share one
// compiled WAF, that a changed rule file gives a new one, and that the last
// Cleanup removes it from the pool (so reloads do not accumulate WAFs).
func TestEnginePool(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	patch := filepath.Join(t.TempDir(), "patch.conf")
	write := func(id string) {
		rule := `SecRule ARGS:x "@streq y" "id:` + id + `,phase:1,deny,log"` + "\n"
		if err := os.WriteFile(patch, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1000001")
	provision := func() *Handler {
		h := &Handler{WAF: waf.Config{Includes: []string{patch}}}
		if err := h.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return h
	}
	refs := func(h *Handler) int {
		n, _ := engines.References(h.fingerprint)
		return n
	}

	a, b := provision(), provision()
	if a.engine.get() != b.engine.get() || refs(a) != 2 {
		t.Fatalf("same configuration: engines %p %p, references %d; want one shared engine, 2 references", a.engine.get(), b.engine.get(), refs(a))
	}
	write("1000002") // the rule file changes on disk: a reload must see it
	c := provision()
	if c.engine.get() == a.engine.get() || c.fingerprint == a.fingerprint {
		t.Fatal("changed rule file did not give a new WAF")
	}
	for _, h := range []*Handler{a, b, c} {
		if err := h.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	if refs(a) != 0 || refs(c) != 0 {
		t.Errorf("after cleanup: references %d and %d, want 0 (WAFs closed and dropped)", refs(a), refs(c))
	}
	// The handlers' default access log went to the test's own directory
	// (TestMain's sandbox), not to /var/log/mamori (issue 15).
	dir := os.Getenv(LogDirEnv)
	if _, err := os.Stat(filepath.Join(dir, "access.log")); dir == "" || !strings.HasPrefix(dir, os.TempDir()) || err != nil {
		t.Errorf("default access log not in a temporary directory: MAMORI_LOG_DIR=%q (%v)", dir, err)
	}
}
