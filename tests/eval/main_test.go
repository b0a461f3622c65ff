package eval

import (
	"os"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// TestMain removes the binaries the harness built, if it built any.
func TestMain(m *testing.M) { os.Exit(harness.Run(m)) }
