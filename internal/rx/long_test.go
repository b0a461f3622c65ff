package rx

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"rsc.io/binaryregexp"
)

// prose is benign free text: the input the worst-case benchmark
// (internal/waf/budget_bench_test.go) sends 2 MB of.
const prose = "The committee met on Tuesday to review the annual budget and the plans for the new library wing. "

// longInputs are long values around CRS's regression inputs: prose with an
// attack (or benign) input spliced in at a random place, in its case and
// lower-cased, at the start, the middle and the very end; prose alone;
// random bytes from an alphabet of punctuation and letters; and invalid
// UTF-8. The prefilters scan windows, pairs of bytes and the ends of the
// value: a needle at the edges or across the splice must still be found.
func longInputs(t testing.TB, n int) []string {
	r := rand.New(rand.NewPCG(10, 3))
	attacks := crsInputs(t, 3)
	text := strings.Repeat(prose, 40)
	out := []string{text, strings.ToLower(text), strings.ToUpper(text)}
	for range n {
		a := attacks[r.IntN(len(attacks))]
		pre := text[:r.IntN(len(text))]
		post := text[:r.IntN(len(text))]
		switch r.IntN(4) {
		case 0:
			out = append(out, a+post)
		case 1:
			out = append(out, pre+a)
		case 2:
			out = append(out, strings.ToLower(pre+a+post))
		default:
			out = append(out, pre+a+post)
		}
	}
	alphabet := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n\r!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\x00\x0b\xbc\xbe\xc2\xb4\xe2\x80\x98\xff"
	for range n / 4 {
		b := make([]byte, 200+r.IntN(3000))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		out = append(out, string(b))
	}
	return out
}

// TestOperatorAgreesOnLongInputs is TestOperatorAgreesWithGoRegexp on long
// values: every CRS @rx expression, mamori's operator (prefilters on)
// against Coraza's engines, over longInputs.
func TestOperatorAgreesOnLongInputs(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 12
	}
	inputs := longInputs(t, n)
	matches := 0
	for _, p := range crsPatterns(t) {
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
	t.Logf("%d inputs, %d matches agreed", len(inputs), matches)
	if matches < 50 {
		t.Errorf("only %d matches: the inputs do not exercise the patterns", matches)
	}
}

// TestIndexedMatcher: the multi-needle searches (shift on pairs of bytes,
// on single bytes for one-byte needles, the automaton) agree with
// strings.Contains
// on random needles and haystacks of a small alphabet, where pairs repeat
// and needles overlap; both cases.
func TestIndexedMatcher(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := "abcAB -"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		ci := r.IntN(2) == 0
		minLen := 1 + r.IntN(4)
		needles := make([]string, 1+r.IntN(6))
		for i := range needles {
			needles[i] = word(minLen + r.IntN(3))
			if ci {
				needles[i] = strings.ToLower(needles[i])
			}
		}
		s := word(r.IntN(60))
		want := false
		for _, nd := range needles {
			h := s
			if ci {
				h = strings.ToLower(s)
			}
			want = want || strings.Contains(h, nd)
		}
		if got := newIndexedMatcher(needles, ci).match(s); got != want {
			t.Fatalf("ci=%v needles %q in %q: got %v, want %v", ci, needles, s, got, want)
		}
		if got := newACDFA(needles, ci).match(s); got != want {
			t.Fatalf("automaton: ci=%v needles %q in %q: got %v, want %v", ci, needles, s, got, want)
		}
		if got := anyMatcher(needles, ci)(s); got != want {
			t.Fatalf("anyMatcher: ci=%v needles %q in %q: got %v, want %v", ci, needles, s, got, want)
		}
	}
}

// TestMergeLiterals: joining adjacent literals keeps the expression (the
// same matches on random input) and yields the two-byte literal the
// prefilter needs.
func TestMergeLiterals(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []string{`(?:^|[/;\x5c])\.{2,3}[/;\x5c]`, `a{2}(?i:b{2,3})c`, `(?i)x{3}y|z{2}`, `\.{2}`} {
		re := mustSimplify(t, p)
		merged := regexp.MustCompile(mergeLiterals(mustSimplify(t, p)).String())
		orig := regexp.MustCompile(re.String())
		for range 5000 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = "./;\\aAbBcxXyYz"[r.IntN(14)]
			}
			if orig.MatchString(string(b)) != merged.MatchString(string(b)) {
				t.Fatalf("%q on %q: merged %v", p, b, merged.MatchString(string(b)))
			}
		}
	}
	if prefilterFunc(`(?sm)(?:^|[/;\x5c])\.{2,3}[/;\x5c]`)("a long line. With dots. And more./") {
		t.Error(`no ".." prefilter for \.{2,3}`)
	}
}

func mustSimplify(t *testing.T, p string) *syntax.Regexp {
	t.Helper()
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return re.Simplify()
}
