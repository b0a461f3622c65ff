package rx

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"rsc.io/binaryregexp"

	"github.com/mamori-waf/mamori/internal/crscorpus"
)

// noCapture is the transaction state the operator sees when a rule does not
// capture; nothing else of it is used.
type noCapture struct{ plugintypes.TransactionState }

func (noCapture) Capturing() bool { return false }

func operator(t testing.TB, pattern string, prefilter bool) plugintypes.Operator {
	t.Helper()
	op, err := newRX(plugintypes.OperatorOptions{Arguments: pattern, RxPreFilterEnabled: prefilter})
	if err != nil {
		t.Fatalf("%q: %v", pattern, err)
	}
	return op
}

// TestPrefilterRegressions: the two CRS regression tests Coraza v3.8.1's
// prefilter makes @rx miss (942220-2, 932311-7) match with mamori's.
func TestPrefilterRegressions(t *testing.T) {
	tests := []struct{ name, pattern, input string }{
		{"942220_php_strtod", `^(?i:-0000023456|4294967295|4294967296|2147483648|2147483647|0000012345|-2147483648|-2147483649|0000023456|2.2250738585072007e-308|2.2250738585072011e-308|1e309)$`, "2.2250738585072011e-308"},
		{"932311_imap_store", `(?is)\r\n[0-9A-Z_a-z]{1,50}\b (?:A(?:PPEND (?:[\"-#%-&\*\--9A-Z\^-z\|~]+|\"(?:[^\"\\]|\\\\[\"\\])+\") \(|UTHENTICATE [\-0-9A-Z_]{1,20}\r\n)|L(?:SUB (?:[\"-#%-&\*\--9A-Z\^-z\|~]+|\"(?:[^\"\\]|\\\\[\"\\])+\") (?:[\"-#%-\*\--9A-Z\^-z\|~]+|\"(?:[^\"\\]|\\\\[\"\\])+\")|OGIN [\--\.0-9A-Z_a-z]{1,40} .*)\r\n|S(?:TORE [\*,-:]+ [\+\-]?FLAGS(?:\.SILENT)? (?:\(\\[a-z]{1,20}\))?|TARTTLS\r\n))`, "\r\nd store 2 +flags (\\deleted)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !regexp.MustCompile("(?sm)" + tc.pattern).MatchString(tc.input) {
				t.Fatal("Go's regexp does not match: the test input is wrong")
			}
			for _, prefilter := range []bool{false, true} {
				if !operator(t, tc.pattern, prefilter).Evaluate(noCapture{}, tc.input) {
					t.Errorf("prefilter=%v: no match", prefilter)
				}
			}
		})
	}
}

// crsPatterns returns every @rx expression in CRS's rule files.
func crsPatterns(t testing.TB) []string {
	out, err := crscorpus.Patterns()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// crsInputs returns request parts from CRS's regression tests (URIs and
// bodies, raw, URL-decoded and lower-cased): attacks and benign requests.
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
			out = append(out, v, strings.ToLower(v))
			if d, err := url.QueryUnescape(v); err == nil && d != v {
				out = append(out, d, strings.ToLower(d))
			}
		}
	}
	return out
}

// TestOperatorAgreesWithGoRegexp runs every CRS @rx expression, as mamori's
// operator (RE2 behind the prefilter) and as Go's regexp (Coraza's own
// engine), over inputs from CRS's regression tests: a prefilter or RE2
// difference that loses a match fails here.
func TestOperatorAgreesWithGoRegexp(t *testing.T) {
	patterns := crsPatterns(t)
	every := 7
	if testing.Short() {
		every = 50
	}
	inputs := crsInputs(t, every)
	if len(patterns) < 250 || len(inputs) < 100 {
		t.Fatalf("only %d patterns and %d inputs: the extraction broke", len(patterns), len(inputs))
	}
	matches := agreements(t, patterns, inputs)
	t.Logf("%d patterns × %d inputs, %d matches agreed", len(patterns), len(inputs), matches)
	if matches < 100 {
		t.Errorf("only %d matches: the inputs do not exercise the patterns", matches)
	}
}

// agreements runs every pattern as mamori's operator (prefilters on) and
// as Coraza's engine over every input, reports each disagreement and
// returns how many matches agreed. Coraza's reference: byte patterns
// (\xNN not forming UTF-8) run on binaryregexp, everything else on Go's
// regexp with (?sm).
func agreements(t *testing.T, patterns, inputs []string) int {
	t.Helper()
	matches := 0
	for _, p := range patterns {
		var std interface{ MatchString(string) bool } = regexp.MustCompile("(?sm)" + p)
		if matchesArbitraryBytes("(?sm)" + p) {
			std = binaryregexp.MustCompile(p)
		}
		op := operator(t, p, true)
		for _, in := range inputs {
			want := std.MatchString(in)
			if want {
				matches++
			}
			if got := op.Evaluate(noCapture{}, in); got != want {
				t.Errorf("pattern %.80q on %d bytes %.80q: operator %v, Go regexp %v", p, len(in), in, got, want)
			}
		}
	}
	return matches
}
