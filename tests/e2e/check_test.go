package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// TestCheckCommand runs the built `mamori check` on Caddyfile.example: a
// table line with a verdict for every checklist item, JSON with --json,
// and exit status 1 when a --require'd item (A1: one upstream) is not
// enforced.
func TestCheckCommand(t *testing.T) {
	bin, _ := harness.Binaries(t)
	example := filepath.Join("..", "..", "Caddyfile.example")

	out, err := exec.Command(bin, "check", "--config", example, "--require", "V1,V8,S5").Output()
	if err != nil {
		t.Fatalf("check --require V1,V8,S5: %v\n%s", err, out)
	}
	ids := []string{"V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9", "V10", "V11", "V12",
		"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "S1", "S2", "S3", "S5", "S6", "S8", "S11", "S13"}
	for _, id := range ids {
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == id {
				switch f[1] {
				case "enforced", "logged_only", "off", "misconfigured", "not_applicable":
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no verdict for %s in\n%s", id, out)
		}
	}

	out, err = exec.Command(bin, "check", "--config", example, "--json", "--require", "V8,A1").Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("check --require V8,A1: %v, want exit status 1", err)
	}
	var rep struct {
		Items []struct {
			ID, Verdict, Reason string
			Tests               []string
		}
		Unmet []string
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(rep.Items) != len(ids) || strings.Join(rep.Unmet, ",") != "A1" {
		t.Errorf("--json: %d items, unmet %v; want %d and [A1]", len(rep.Items), rep.Unmet, len(ids))
	}
}
