package evalcorpus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A site that refuses every request whose URL, headers or body hold
// "script": the runner counts what it refuses per category and placement,
// lists the rest as misses, and the thresholds judge the report.
func TestRunnerAgainstASite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var hdr bytes.Buffer
		_ = r.Header.Write(&hdr)
		if strings.Contains(r.URL.RawQuery+r.URL.RawPath+r.URL.Path+hdr.String()+string(body), "script") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	cases := []Case{
		{ID: "a1", Attack: true, Category: "xss", Placement: "query", Encoding: "plain", Value: "<script>"},
		{ID: "a2", Attack: true, Category: "xss", Placement: "form", Encoding: "plain", Value: "<script>"},
		{ID: "a3", Attack: true, Category: "sqli", Placement: "header", Encoding: "plain", Value: "' OR 1=1"},
		{ID: "b1", Category: "prose", Placement: "json-value", Encoding: "plain", Value: "Use the <script> element."},
		{ID: "b2", Category: "prose", Placement: "cookie", Encoding: "plain", Value: "hello"},
		{ID: "b3", Category: "upload", Placement: "upload", Encoding: "plain", Value: "notes"},
	}
	results := (&Runner{Base: srv.URL, Concurrency: 2}).Run(context.Background(), cases)
	rep := Summarize("site", results)
	if rep.Detection != (Rate{Hits: 2, Total: 3}) || rep.FalsePositives != (Rate{Hits: 1, Total: 3}) || rep.Errors != 0 {
		t.Fatalf("detection %v false positives %v errors %d", rep.Detection, rep.FalsePositives, rep.Errors)
	}
	if rep.ByCategory["xss"] != (Rate{2, 2}) || rep.ByCategory["sqli"] != (Rate{0, 1}) || rep.ByPlacement["header"] != (Rate{0, 1}) {
		t.Errorf("by category %v, by placement %v", rep.ByCategory, rep.ByPlacement)
	}
	if len(rep.Misses) != 1 || rep.Misses[0].ID != "a3" || rep.Misses[0].Status != 200 {
		t.Errorf("misses %+v", rep.Misses)
	}
	if len(rep.FalsePositiveCases) != 1 || rep.FalsePositiveCases[0].ID != "b1" {
		t.Errorf("false positives %+v", rep.FalsePositiveCases)
	}
	// The parts add up to the whole, each case in the part its ID hashes
	// to; TuningCasesOnly keeps the tuning part's cases in the lists.
	var want [2]PartRates // [0] tune, [1] held-out
	for _, res := range results {
		p := &want[1]
		if TuningPart(res.ID) {
			p = &want[0]
		}
		r := &p.FalsePositives
		if res.Attack {
			r = &p.Detection
		}
		r.Total++
		if res.Blocked {
			r.Hits++
		}
	}
	if rep.Tune != want[0] || rep.HeldOut != want[1] {
		t.Errorf("parts: tune %+v held-out %+v, want %+v %+v", rep.Tune, rep.HeldOut, want[0], want[1])
	}
	if !strings.Contains(rep.PartsLine(), "tune: detection") || !strings.Contains(rep.PartsLine(), "| held-out: detection") {
		t.Errorf("parts line %q", rep.PartsLine())
	}
	listed := *rep
	listed.TuningCasesOnly()
	for _, res := range append(listed.Misses, listed.FalsePositiveCases...) {
		if !res.Tune() {
			t.Errorf("%s: a held-out case listed", res.ID)
		}
	}
	if n := len(listed.Misses) + len(listed.FalsePositiveCases); n != len(rep.Misses)+len(rep.FalsePositiveCases)-countHeldOut(rep) {
		t.Errorf("TuningCasesOnly kept %d cases", n)
	}
	var text bytes.Buffer
	rep.WriteText(&text, 10)
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "SUMMARY site") || !strings.Contains(last, "66.67% (2/3)") {
		t.Errorf("last line %q", last)
	}
	for _, tc := range []struct {
		th   Thresholds
		fail int
	}{
		{Thresholds{MinDetection: 60, MaxFalsePositives: 40}, 0},
		{Thresholds{MinDetection: 95, MaxFalsePositives: 40}, 1},
		{Thresholds{MinDetection: 95, MaxFalsePositives: 0.5}, 2},
	} {
		if got := tc.th.Check(rep); len(got) != tc.fail {
			t.Errorf("%+v: shortfalls %v, want %d", tc.th, got, tc.fail)
		}
	}
}

// A site that does not answer is reported as errors, which fail any
// thresholds.
func TestRunnerUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	results := (&Runner{Base: base}).Run(context.Background(), []Case{{ID: "a", Attack: true, Category: "xss", Placement: "query", Value: "x"}})
	rep := Summarize("down", results)
	if rep.Errors != 1 || len((Thresholds{}).Check(rep)) == 0 {
		t.Errorf("errors %d, shortfalls %v", rep.Errors, (Thresholds{}).Check(rep))
	}
}

func countHeldOut(r *Report) int {
	n := 0
	for _, res := range append(append([]Result{}, r.Misses...), r.FalsePositiveCases...) {
		if !res.Tune() {
			n++
		}
	}
	return n
}
