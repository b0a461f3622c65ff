package litgate

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/mamori-waf/mamori/internal/crscorpus"
	"github.com/mamori-waf/mamori/internal/rx"
)

// TestGateNeverHidesACRSMatch runs every CRS @rx expression that gets a
// gate over CRS's regression inputs made long enough to be scanned (padded
// with spaces or line breaks, or repeated): wherever mamori's @rx operator
// (without the gate) matches, the gate must pass. A literal wrongly taken
// as required would be a missed attack; this is where it shows.
func TestGateNeverHidesACRSMatch(t *testing.T) {
	patterns := crsPatterns(t)
	every := 5
	if testing.Short() {
		every = 50
	}
	inputs := crsInputs(t, every)
	if len(patterns) < 250 || len(inputs) < 100 {
		t.Fatalf("only %d patterns and %d inputs: the extraction broke", len(patterns), len(inputs))
	}
	var long []string
	pad := strings.Repeat(" ", MinLen)
	nl := strings.Repeat("\n", MinLen)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		rep := in
		for len(rep) < MinLen {
			rep += in
		}
		long = append(long, pad+in, in+nl, rep, strings.ToUpper(in)+pad)
	}
	type gatedPattern struct {
		p    string
		lits []string
		g    *Gate
	}
	var gps []gatedPattern
	for _, p := range patterns {
		lits, exotic, ok := required("(?sm)" + p)
		if !ok {
			continue
		}
		if g := newGate(lits, exotic); g != nil {
			gps = append(gps, gatedPattern{p, lits, g})
		}
	}
	Prepare()
	gated, checked, matches := len(gps), 0, 0
	tx := &fakeTx{} // each input is scanned once
	for _, gp := range gps {
		p, lits, g := gp.p, gp.lits, gp.g
		op, err := rx.New(plugintypes.OperatorOptions{Arguments: p})
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for _, in := range long {
			if g.Pass(tx, in) {
				continue
			}
			checked++
			if op.Evaluate(noCapture{tx}, in) {
				matches++
				t.Errorf("pattern %.80q matches %.80q, which its gate %q refused", p, strings.TrimSpace(in), lits)
			}
		}
	}
	t.Logf("%d of %d patterns gated; %d refusals over %d long inputs checked against the operator", gated, len(patterns), checked, len(long))
	if gated < 100 {
		t.Errorf("only %d patterns gated: the literal extraction broke", gated)
	}
}

type noCapture struct{ plugintypes.TransactionState }

func (noCapture) Capturing() bool { return false }

// crsPatterns and crsInputs: CRS's @rx expressions and inputs from its
// regression tests (URIs and bodies, raw and URL-decoded, and header values).
func crsPatterns(t testing.TB) []string {
	out, err := crscorpus.Patterns()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func crsInputs(t testing.TB, every int) []string {
	stages, err := crscorpus.Stages(every)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range stages {
		for _, v := range []string{st.URI, st.Data} {
			if v == "" {
				continue
			}
			out = append(out, v)
			if d, err := url.QueryUnescape(v); err == nil && d != v {
				out = append(out, d)
			}
		}
		out = append(out, st.Headers...)
	}
	return out
}

// BenchmarkScan: one scan of prose and of an HTML page by the automaton
// of every CRS @rx expression's literals (make bench's values: its form's
// text field and its page are of this kind), in one pass and in
// scanLanes lanes, with the table in cache ("hot") and after 16 MiB of
// other memory was touched ("cold", as after the rest of a request).
func BenchmarkScan(b *testing.B) {
	for _, p := range crsPatterns(b) {
		if lits, exotic, ok := required("(?sm)" + p); ok {
			newGate(lits, exotic)
		}
	}
	Prepare()
	a := cur.Load()
	prose := strings.Repeat("The community garden opens every Saturday morning from early spring until the first frost. Volunteers water the raised beds, turn the compost and share seedlings with new members. ", 11)
	page := strings.Repeat(`<article id="news-1"><h2>Garden note 1</h2><p>`+prose[:180]+"</p></article>\n", 36)
	other := make([]byte, 16<<20)
	for _, v := range []struct{ name, v string }{{"prose", prose}, {"page", page}} {
		for _, lanes := range []int{1, scanLanes} {
			for _, cold := range []bool{false, true} {
				name := fmt.Sprintf("%s/lanes=%d/hot", v.name, lanes)
				if cold {
					name = strings.TrimSuffix(name, "hot") + "cold"
				}
				b.Run(name, func(b *testing.B) {
					bits := make([]uint64, (a.Len()+63)/64)
					b.SetBytes(int64(len(v.v)))
					for b.Loop() {
						if cold {
							b.StopTimer()
							for i := 0; i < len(other); i += 64 {
								other[i]++
							}
							b.StartTimer()
						}
						a.ScanLanes(v.v, bits, lanes)
					}
				})
			}
		}
	}
}
