package evalcorpus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	"sync"
	"time"
)

// DefaultBlockStatuses are the response statuses that mean "the WAF refused
// the request": mamori answers 403 (rules) and 400 (bodies that do not
// parse); other WAFs also use 406 and 501.
var DefaultBlockStatuses = []int{400, 403, 406, 501}

// Runner sends cases to a site and records which were refused.
type Runner struct {
	// Base is the site's URL (scheme://host[:port][/prefix]).
	Base string
	// Client sends the requests (default: 10 s timeout, no redirects).
	Client *http.Client
	// Concurrency is how many requests are in flight at once (default 4).
	Concurrency int
	// BlockStatuses are the statuses counted as refused (default
	// DefaultBlockStatuses).
	BlockStatuses []int
}

// Result is one case's outcome.
type Result struct {
	Case
	// Status is the response status (0 when the request failed).
	Status int `json:"status"`
	// Blocked is true when Status is one of the block statuses.
	Blocked bool `json:"blocked"`
	// Error is why the request failed, if it did.
	Error string `json:"error,omitempty"`
}

// NewClient returns the runner's default client: the timeout, redirects
// not followed (a redirect is the site's answer).
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Run sends every case and returns the results in case order.
func (r *Runner) Run(ctx context.Context, cases []Case) []Result {
	client := r.Client
	if client == nil {
		client = NewClient(10 * time.Second)
	}
	n := r.Concurrency
	if n <= 0 {
		n = 4
	}
	block := map[int]bool{}
	statuses := r.BlockStatuses
	if len(statuses) == 0 {
		statuses = DefaultBlockStatuses
	}
	for _, s := range statuses {
		block[s] = true
	}
	results := make([]Result, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = r.send(ctx, client, cases[i], block)
			}
		}()
	}
	for i := range cases {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return results
}

func (r *Runner) send(ctx context.Context, client *http.Client, c Case, block map[int]bool) Result {
	res := Result{Case: c}
	p, ok := PlacementByName(c.Placement)
	if c.Placement == "upload" {
		p, ok = upload, true
	}
	if !ok {
		res.Error = "unknown placement " + c.Placement
		return res
	}
	req, err := p.Request(r.Base, c.Value)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.Blocked = block[resp.StatusCode]
	return res
}

// Rate is a count of hits out of a total.
type Rate struct {
	Hits  int `json:"hits"`
	Total int `json:"total"`
}

// Percent is the rate in per cent (0 for an empty total).
func (r Rate) Percent() float64 {
	if r.Total == 0 {
		return 0
	}
	return 100 * float64(r.Hits) / float64(r.Total)
}

func (r Rate) String() string {
	return fmt.Sprintf("%6.2f%% (%d/%d)", r.Percent(), r.Hits, r.Total)
}

// Report sums up a run: detection rates of the attacks and false-positive
// rates of the benign cases, overall and per category, placement and
// encoding, with the misses and false positives listed.
type Report struct {
	// Label names the configuration measured.
	Label string `json:"label"`
	// Detection is the share of attack cases refused.
	Detection Rate `json:"detection"`
	// FalsePositives is the share of benign cases refused.
	FalsePositives Rate `json:"false_positives"`
	// Errors counts requests that got no answer.
	Errors int `json:"errors"`
	// ByCategory, ByPlacement, ByEncoding: detection per attack category,
	// placement and encoding.
	ByCategory  map[string]Rate `json:"by_category"`
	ByPlacement map[string]Rate `json:"by_placement"`
	ByEncoding  map[string]Rate `json:"by_encoding"`
	// BenignByKind, BenignByPlacement: false positives per kind of text
	// and per placement.
	BenignByKind      map[string]Rate `json:"benign_by_kind"`
	BenignByPlacement map[string]Rate `json:"benign_by_placement"`
	// Tune and HeldOut are the detection and false-positive rates of the
	// suite's two parts (Case.Tune): the part rules, thresholds and
	// exclusions may be chosen on, and the part only ever measured.
	Tune    PartRates `json:"tune"`
	HeldOut PartRates `json:"held_out"`
	// Misses are the attack cases let through; FalsePositiveCases the
	// benign cases refused.
	Misses             []Result `json:"misses"`
	FalsePositiveCases []Result `json:"false_positive_cases"`
}

// PartRates are one part's figures.
type PartRates struct {
	// Detection is the share of the part's attack cases refused.
	Detection Rate `json:"detection"`
	// FalsePositives is the share of the part's benign cases refused.
	FalsePositives Rate `json:"false_positives"`
}

// Summarize builds the report of a run.
func Summarize(label string, results []Result) *Report {
	rep := &Report{Label: label, ByCategory: map[string]Rate{}, ByPlacement: map[string]Rate{},
		ByEncoding: map[string]Rate{}, BenignByKind: map[string]Rate{}, BenignByPlacement: map[string]Rate{}}
	add := func(m map[string]Rate, k string, hit bool) {
		r := m[k]
		r.Total++
		if hit {
			r.Hits++
		}
		m[k] = r
	}
	for _, res := range results {
		if res.Error != "" {
			rep.Errors++
		}
		part := &rep.HeldOut
		if res.Tune() {
			part = &rep.Tune
		}
		if res.Attack {
			part.Detection.Total++
			if res.Blocked {
				part.Detection.Hits++
			}
			rep.Detection.Total++
			if res.Blocked {
				rep.Detection.Hits++
			} else {
				rep.Misses = append(rep.Misses, res)
			}
			add(rep.ByCategory, res.Category, res.Blocked)
			add(rep.ByPlacement, res.Placement, res.Blocked)
			add(rep.ByEncoding, res.Encoding, res.Blocked)
			continue
		}
		rep.FalsePositives.Total++
		part.FalsePositives.Total++
		if res.Blocked {
			part.FalsePositives.Hits++
			rep.FalsePositives.Hits++
			rep.FalsePositiveCases = append(rep.FalsePositiveCases, res)
		}
		add(rep.BenignByKind, res.Category, res.Blocked)
		add(rep.BenignByPlacement, res.Placement, res.Blocked)
	}
	return rep
}

// SummaryLine is the one-line result.
func (r *Report) SummaryLine() string {
	return fmt.Sprintf("SUMMARY %-14s detection %s  false positives %s  errors %d",
		r.Label, r.Detection, r.FalsePositives, r.Errors)
}

// PartsLine is the one-line result of the two parts side by side.
func (r *Report) PartsLine() string {
	return fmt.Sprintf("PARTS   %-14s tune: detection %s  false positives %s | held-out: detection %s  false positives %s",
		r.Label, r.Tune.Detection, r.Tune.FalsePositives, r.HeldOut.Detection, r.HeldOut.FalsePositives)
}

// TuningCasesOnly drops the held-out part's cases from the lists of
// misses and false positives (their counts stay in the rates), for
// reports read while tuning: held-out cases are measured, never looked at.
func (r *Report) TuningCasesOnly() {
	keep := func(rs []Result) []Result {
		var out []Result
		for _, res := range rs {
			if res.Tune() {
				out = append(out, res)
			}
		}
		return out
	}
	r.Misses, r.FalsePositiveCases = keep(r.Misses), keep(r.FalsePositiveCases)
}

// WriteText writes the human report: the tables, up to maxList misses and
// false positives, and the summary line last.
func (r *Report) WriteText(w io.Writer, maxList int) {
	fmt.Fprintf(w, "== %s ==\n", r.Label)
	table := func(title string, m map[string]Rate, order []string) {
		fmt.Fprintf(w, "%s\n", title)
		for _, k := range orderedKeys(m, order) {
			fmt.Fprintf(w, "  %-16s %s\n", k, m[k])
		}
	}
	placements := make([]string, len(Placements))
	for i, p := range Placements {
		placements[i] = p.Name
	}
	table("detection by category:", r.ByCategory, Categories)
	table("detection by placement:", r.ByPlacement, placements)
	table("detection by encoding:", r.ByEncoding, Encodings)
	table("false positives by kind of text:", r.BenignByKind, nil)
	table("false positives by placement:", r.BenignByPlacement, placements)
	list := func(title string, rs []Result) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", title, len(rs))
		for i, res := range rs {
			if maxList >= 0 && i >= maxList {
				fmt.Fprintf(w, "  ... %d more\n", len(rs)-i)
				break
			}
			v := res.Value
			if len(v) > 100 {
				v = v[:100] + "…"
			}
			src := ""
			if res.Source != "" {
				src = "  [" + res.Source + "]"
			}
			fmt.Fprintf(w, "  %-40s %3d %q%s\n", res.ID, res.Status, v, src)
		}
	}
	list("misses", r.Misses)
	list("false positives", r.FalsePositiveCases)
	fmt.Fprintln(w, r.PartsLine())
	fmt.Fprintln(w, r.SummaryLine())
}

// orderedKeys lists m's keys in order's order, then the rest sorted.
func orderedKeys(m map[string]Rate, order []string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// Thresholds are an operator's pass marks for a run.
type Thresholds struct {
	// MinDetection is the lowest acceptable detection rate, in per cent.
	MinDetection float64
	// MaxFalsePositives is the highest acceptable false-positive rate, in
	// per cent.
	MaxFalsePositives float64
}

// Check returns what in r falls short of t, or nil.
func (t Thresholds) Check(r *Report) []string {
	var bad []string
	if d := r.Detection.Percent(); d < t.MinDetection {
		bad = append(bad, fmt.Sprintf("detection %.2f%% is below %.2f%%", d, t.MinDetection))
	}
	if f := r.FalsePositives.Percent(); f > t.MaxFalsePositives {
		bad = append(bad, fmt.Sprintf("false positives %.2f%% are above %.2f%%", f, t.MaxFalsePositives))
	}
	if r.Errors > 0 {
		bad = append(bad, fmt.Sprintf("%d requests got no answer", r.Errors))
	}
	return bad
}

// Suite returns the default suite: the attack corpus with perCell payloads
// per category × placement × encoding (seeded), and the benign corpus.
func Suite(seed uint64, perCell int) ([]Case, error) {
	benign, err := Benign()
	if err != nil {
		return nil, err
	}
	return append(Attacks(seed, perCell), benign...), nil
}

// DefaultSeed and DefaultPerCell make the default suite (about 3,200
// attacks, 3,400 benign requests).
const (
	DefaultSeed    = 20261126
	DefaultPerCell = 2
)
