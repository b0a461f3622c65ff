package rx

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
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
	matches := agreements(t, crsPatterns(t), inputs)
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

// captures records what the operator captures.
type captures struct {
	plugintypes.TransactionState
	got map[int]string
}

func (*captures) Capturing() bool { return true }
func (c *captures) CaptureField(i int, v string) {
	c.got[i] = v
}

// TestInvalidUTF8 runs every CRS expression over CRS's regression inputs
// with bytes that are not UTF-8 put in (alone, truncated sequences, a run):
// the operator (RE2 on the value with those bytes as U+FFFD) must match as
// Go's regexp does on the value, and capture the same substrings of it.
func TestInvalidUTF8(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	every := 10
	if testing.Short() {
		every = 40
	}
	var inputs []string
	bad := []string{"\xff", "\xe2\x80", "\xc3", "\x80\x80\x80", "\xed\xa0\x80", "\xbc", "\xa0"}
	for _, in := range crsInputs(t, every) {
		for range 2 {
			i := r.IntN(len(in) + 1)
			in = in[:i] + bad[r.IntN(len(bad))] + in[i:]
		}
		inputs = append(inputs, in)
	}
	matches := 0
	for _, p := range crsPatterns(t) {
		if matchesArbitraryBytes("(?sm)" + p) {
			continue // binaryregexp, not RE2
		}
		std := regexp.MustCompile("(?sm)" + p)
		op := operator(t, p, true)
		for _, in := range inputs {
			m := std.FindStringSubmatch(in)
			c := &captures{got: map[int]string{}}
			got := op.Evaluate(c, in)
			if got != (m != nil) {
				t.Errorf("pattern %.80q on %.80q: operator %v, Go regexp %v", p, in, got, m != nil)
				continue
			}
			if m == nil {
				continue
			}
			matches++
			for i := 0; i < len(m) && i < 9; i++ {
				if c.got[i] != m[i] {
					t.Errorf("pattern %.80q on %.80q: capture %d %q, Go regexp %q", p, in, i, c.got[i], m[i])
				}
			}
		}
	}
	t.Logf("%d inputs, %d matches and their captures agreed", len(inputs), matches)
	if matches < 100 {
		t.Errorf("only %d matches", matches)
	}
}

// TestInvalidUTF8Runes: each invalid byte is one rune, as for Go's regexp
// (a run of three is three runes, a truncated sequence two), and captures
// are the value's own bytes.
func TestInvalidUTF8Runes(t *testing.T) {
	tests := []struct{ pattern, input string }{
		{`^.{3}$`, "\x80\x80\x80"},
		{`^.{2}$`, "\xe2\x80"},
		{`^a.b$`, "a\xffb"},
		{`^a..b$`, "a\xff\xfeb"},
		{`a(.)b(.+)c`, "xa\xffb\xe2\x80\x98\xc3c"},
		{"(\uFFFD+)z", "\xff\xfe\xfdz"},
		{`(é)(.)`, "xé\xc3"},
		{`\bword\b`, "\xffword\xff"},
	}
	for _, tc := range tests {
		std := regexp.MustCompile("(?sm)" + tc.pattern)
		m := std.FindStringSubmatch(tc.input)
		if m == nil {
			t.Fatalf("%q does not match %q: the test is wrong", tc.pattern, tc.input)
		}
		c := &captures{got: map[int]string{}}
		if !operator(t, tc.pattern, true).Evaluate(c, tc.input) {
			t.Errorf("%q on %q: no match", tc.pattern, tc.input)
			continue
		}
		for i := range m {
			if c.got[i] != m[i] {
				t.Errorf("%q on %q: capture %d %q, Go regexp %q", tc.pattern, tc.input, i, c.got[i], m[i])
			}
		}
	}
}
