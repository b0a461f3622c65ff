// Package eval runs mamori's evaluation suite (internal/evalcorpus)
// through real mamori processes in front of the real upstream: mamori's
// defaults (CRS PL1 plus mamori's detection layers) and, for comparison in
// the same run, plain CRS at paranoia levels 1 and 2 with mamori's layers
// off. It prints, per configuration, detection and false-positive rates
// per category, placement and encoding, the misses, and a summary line
// (checklist V2, V3, V4, V9, V10, V11).
//
//	go test -count=1 -v ./tests/eval/
package eval

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/evalcorpus"
	"github.com/mamori-waf/mamori/tests/harness"
)

const caddyfile = `{
	admin off
	log default {
		output stderr
		level ERROR
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		OPTIONS
	}
	reverse_proxy {UPSTREAM}
}
`

// configs are the configurations measured, in report order.
var configs = []struct {
	label, options string
	// targets are checked for mamori's defaults only.
	targets bool
}{
	{label: "mamori", options: "mode block", targets: true},
	{label: "crs-pl1", options: "detection off"},
	{label: "crs-pl2", options: "paranoia 2\n\t\tdetection off"},
}

// Targets for mamori's defaults: issue 6's detection targets; for false
// positives, issue 11's rule that a layer adds detection and never
// removes CRS's: CRS PL1's own false positives on this benign corpus
// (technical prose, code samples) stay, and mamori's layers may add at
// most maxAddedFalsePositives points to them.
const (
	minDetection           = 95.0
	minCategoryDetection   = 85.0
	maxAddedFalsePositives = 0.5
)

func TestEvaluation(t *testing.T) {
	cases, err := evalcorpus.Suite(evalcorpus.DefaultSeed, evalcorpus.DefaultPerCell)
	if err != nil {
		t.Fatal(err)
	}
	upstream := harness.Upstream(t)
	var reports []*evalcorpus.Report
	for _, c := range configs {
		m := harness.StartMamori(t, strings.Replace(caddyfile, "OPTIONS", c.options, 1), upstream)
		// A host name, as real visitors send: CRS scores a numeric Host
		// (920350) as a warning, which would add to every request here.
		base := strings.Replace(m.URL, "127.0.0.1", "localhost", 1)
		r := &evalcorpus.Runner{Base: base, Concurrency: 4}
		rep := evalcorpus.Summarize(c.label, r.Run(context.Background(), cases))
		// Cases are listed from the tuning part only (issue 11): the
		// held-out part's figures are printed, its cases never.
		rep.TuningCasesOnly()
		rep.WriteText(os.Stdout, 40)
		reports = append(reports, rep)
		if rep.Errors > 0 {
			t.Errorf("%s: %d requests got no answer", c.label, rep.Errors)
		}
		if !c.targets {
			continue
		}
		if d := rep.Detection.Percent(); d < minDetection {
			t.Errorf("%s: detection %.2f%% < %.0f%%", c.label, d, minDetection)
		}
		for cat, rate := range rep.ByCategory {
			if rate.Percent() < minCategoryDetection {
				t.Errorf("%s: %s detection %.2f%% < %.0f%%", c.label, cat, rate.Percent(), minCategoryDetection)
			}
		}
	}
	if m, crs := reports[0].FalsePositives.Percent(), reports[1].FalsePositives.Percent(); m > crs+maxAddedFalsePositives {
		t.Errorf("mamori: false positives %.2f%% > CRS PL1's %.2f%% + %.1f", m, crs, maxAddedFalsePositives)
	}
	// The summary lines last, together.
	for _, rep := range reports {
		t.Log(rep.PartsLine())
		t.Log(rep.SummaryLine())
	}
}
