package caddymodule

import (
	"fmt"
	"os"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// TestMain keeps every file the package's tests make (default access logs,
// Caddy's data directory with the seal key) in a temporary directory: no
// test writes to /var/log/mamori or the user's home (issue 15).
func TestMain(m *testing.M) {
	cleanup, err := harness.Sandbox()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}
