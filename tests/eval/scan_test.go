package eval

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// scanReport is the part of `mamori scan --json` the test reads.
type scanReport struct {
	URL       string `json:"url"`
	Passed    bool   `json:"passed"`
	Detection struct {
		Hits  int `json:"hits"`
		Total int `json:"total"`
	} `json:"detection"`
	FalsePositives struct {
		Hits  int `json:"hits"`
		Total int `json:"total"`
	} `json:"false_positives"`
	ByCategory map[string]struct {
		Total int `json:"total"`
	} `json:"by_category"`
	Shortfalls []string `json:"shortfalls"`
}

// `mamori scan` (V11) passes against mamori with its default thresholds
// and exits 1 against the bare upstream, whose detection is nil.
func TestScanCommand(t *testing.T) {
	bin, _ := harness.Binaries(t)
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(caddyfile, "OPTIONS", "mode block", 1), upstream)
	site := strings.Replace(m.URL, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name, url string
		status    int
		passed    bool
	}{
		{"mamori", site, 0, true},
		// Issue 15: by its loopback address it passes as by name (CRS
		// 920350, numeric Host, no longer adds to every request).
		{"mamori_by_ip", m.URL, 0, true},
		{"no WAF", "http://" + strings.Replace(upstream, "127.0.0.1", "localhost", 1), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, "scan", "--json", "--per-cell", "1", tc.url).Output()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			var rep scanReport
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("exit %d, not JSON: %v\n%.500s", status, err, out)
			}
			if status != tc.status || rep.Passed != tc.passed {
				t.Fatalf("exit %d passed %v, want %d %v; shortfalls %v", status, rep.Passed, tc.status, tc.passed, rep.Shortfalls)
			}
			if rep.URL != tc.url || len(rep.ByCategory) != 16 || rep.Detection.Total < 1500 || rep.FalsePositives.Total < 3000 {
				t.Errorf("report: url %q, %d categories, %d attacks, %d benign", rep.URL, len(rep.ByCategory), rep.Detection.Total, rep.FalsePositives.Total)
			}
			if !tc.passed && (rep.Detection.Hits != 0 || len(rep.Shortfalls) == 0) {
				t.Errorf("without a WAF: %d attacks refused, shortfalls %v", rep.Detection.Hits, rep.Shortfalls)
			}
		})
	}
}
