package litgate

import (
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/coreruleset/go-ftw/test"

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

var rxInRule = regexp.MustCompile(`"@rx ((?:[^"\\]|\\.)*)"`)

// crsPatterns and crsInputs are internal/rx's (rx_test.go): CRS's @rx
// expressions and inputs from its regression tests.
func crsPatterns(t testing.TB) []string {
	var out []string
	err := fs.WalkDir(coreruleset.FS, "@owasp_crs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".conf") {
			return err
		}
		b, err := fs.ReadFile(coreruleset.FS, path)
		if err != nil {
			return err
		}
		for _, m := range rxInRule.FindAllStringSubmatch(string(b), -1) {
			p := strings.ReplaceAll(m[1], `\"`, `"`)
			if strings.Contains(p, "%{") {
				continue
			}
			if _, err := regexp.Compile("(?sm)" + p); err == nil {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func crsInputs(t testing.TB, every int) []string {
	var out []string
	n := 0
	err := fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, _ := fs.ReadFile(crstests.FS, path)
		ft, err := test.GetTestFromYaml(b, path)
		if err != nil {
			return nil
		}
		for _, tc := range ft.Tests {
			for _, st := range tc.Stages {
				n++
				if n%every != 0 {
					continue
				}
				in := (*test.Input)(&st.Input)
				for _, v := range []string{in.GetURI(), string(in.GetData())} {
					if v == "" {
						continue
					}
					out = append(out, v)
					if d, err := url.QueryUnescape(v); err == nil && d != v {
						out = append(out, d)
					}
				}
				for _, h := range in.GetHeaders() {
					out = append(out, h)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkScan: one scan of prose and of an HTML page by the automaton
// of every CRS @rx expression's literals (make bench's values: its form's
// text field and its page are of this kind).
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
	for _, v := range []struct{ name, v string }{{"prose", prose}, {"page", page}} {
		b.Run(v.name, func(b *testing.B) {
			bits := make([]uint64, (a.Len()+63)/64)
			b.SetBytes(int64(len(v.v)))
			for b.Loop() {
				a.Scan(v.v, bits)
			}
		})
	}
}
