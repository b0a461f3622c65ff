package limits

import (
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/waf"
)

// The WAF's default allowed methods (CRS 911100) are the perimeter's
// default method list: neither refuses what the other lets through.
func TestDefaultMethodsAreTheWAFs(t *testing.T) {
	if got, want := strings.Join(DefaultMethods, " "), waf.DefaultAllowedMethods; got != want {
		t.Fatalf("limits.DefaultMethods %q, waf.DefaultAllowedMethods %q", got, want)
	}
}
