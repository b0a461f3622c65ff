package rx

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"rsc.io/binaryregexp"
)

// TestByteFilter: the filter rejects values without the bytes a match
// needs, and never a value the expression matches (case folding beyond
// ASCII, non-ASCII classes, invalid UTF-8 included).
func TestByteFilter(t *testing.T) {
	tests := []filterCase{
		{`[\n\r]`, true, []string{"november", "a b"}, []string{"a\nb"}},
		{`~[\+\-](?:$|[0-9]+)`, true, []string{"alpha"}, []string{"~+", "x~-12"}},
		{`(?i)k[a-z]*;`, true, []string{"alpha"}, []string{"KILL;", "\u212aill;"}},
		{`(?i)s\d+;`, true, []string{"alpha"}, []string{"\u017f12;", "S1;"}},
		{`[^']*'`, true, []string{"alpha"}, []string{"'", "\xff'"}},
		{`^(?:[^']*'|[^"]*"|[^` + "`" + `]*` + "`" + `)[\s\x0b]*;`, true, []string{"alpha", "a'b"}, []string{"a'\t;", "\xff\"  ;"}},
		{`[é]x`, true, []string{"alpha"}, []string{"éx"}},
		{`a?b*`, false, nil, []string{""}},
		{`x|y*`, false, nil, []string{""}},
		{`.{3}`, false, nil, []string{"abc"}},
		{`(?:ab|cd){2,}`, true, []string{"xyz", "bd"}, []string{"abcd"}},
		{`[\x{fffd}]`, true, []string{"alpha"}, []string{"\xff"}},
		// One set per part of a concatenation: a dot and a slash.
		{`(?:^|[/;\x5c])\.{2,3}[/;\x5c]`, true, []string{"wing. The", "a/b", "x;y"}, []string{"../", "x;..\\", "..\n/../"}},
		{`^\(\s*\)\s+\{`, true, []string{"(a) x", "() x", "{}"}, []string{"() {", "x\n( ) \t{"}},
		{`(?i)(?:select|;)[\s\x0b]+(?:benchmark|if|sleep)[\s\x0b]*?\(`, true, []string{"select if x", "; sleep"}, []string{"SELECT SLEEP(", "; if ("}},
	}
	for _, tc := range tests {
		re := regexp.MustCompile("(?sm)" + tc.pattern)
		f := byteFilterFunc("(?sm)" + tc.pattern).check
		tc.check(t, re, f)
	}
}

// TestContainsFoldASCII: the case-insensitive search agrees with
// lowercasing and strings.Contains, with both cases of the first byte
// spread through the input (the positions it remembers between
// candidates).
func TestContainsFoldASCII(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := "eEtTxX -"
	for range 20000 {
		n := r.IntN(40)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		needle := []string{"e", "et", "ete", "ex-", "t e", "xx"}[r.IntN(6)]
		want := strings.Contains(strings.ToLower(s), needle)
		if got := containsFoldASCII(s, needle); got != want {
			t.Fatalf("%q in %q: got %v, want %v", needle, s, got, want)
		}
	}
}

// TestBinaryByteFilter: the byte filter of expressions binaryregexp runs
// (each byte a character from U+0000 to U+00FF), against binaryregexp.
func TestBinaryByteFilter(t *testing.T) {
	tests := []filterCase{
		// CRS 941310: needs 0xbc or '<' (the UTF-8 rules added 0x80-0xff
		// for \x{bc} and gave up).
		{`\x{bc}[^>\x{be}]*[>\x{be}]|<[^\x{be}]*\x{be}`, true, []string{"The committee met.", "a > b", "\xc2\xbd"}, []string{"\xbc>", "<a\xbe", "x\xbc\xbe"}},
		// Case folding within Latin-1: \xe9 (e acute) and \xc9.
		{`(?i)\x{e9}x`, true, []string{"ex", "\xe8x"}, []string{"\xc9X", "\xe9x"}},
		// A class of runes above U+00FF matches no byte: left to the
		// expression, the other part filters.
		{`[\x{100}-\x{200}]*ab\xff`, true, []string{"xyz"}, []string{"ab\xff"}},
		{`\xac\xed\x00\x05`, true, []string{"alpha", "\xed"}, []string{"\xac\xed\x00\x05"}},
		{`.\xff*`, false, nil, []string{"a"}},
	}
	for _, tc := range tests {
		if !matchesArbitraryBytes("(?sm)" + tc.pattern) {
			t.Fatalf("%q: not a binary expression", tc.pattern)
		}
		re := binaryregexp.MustCompile(tc.pattern)
		f := binaryByteFilterFunc(tc.pattern)
		tc.check(t, re, f)
	}
}

// filterCase is one expression of the byte-filter tests: whether it gets a
// filter, values the filter must reject (the expression does not match
// them) and values it must let through (the expression matches them).
type filterCase struct {
	pattern string
	filter  bool
	reject  []string
	match   []string
}

// check judges filter f (nil: none) of tc's expression, compiled as re.
func (tc filterCase) check(t *testing.T, re interface{ MatchString(string) bool }, f func(string) bool) {
	t.Helper()
	if (f != nil) != tc.filter {
		t.Errorf("%q: filter %v, want %v", tc.pattern, f != nil, tc.filter)
		return
	}
	for _, v := range tc.match {
		if !re.MatchString(v) {
			t.Fatalf("%q does not match %q: the test is wrong", tc.pattern, v)
		}
		if f != nil && !f(v) {
			t.Errorf("%q: filter rejects %q, which matches", tc.pattern, v)
		}
	}
	for _, v := range tc.reject {
		if re.MatchString(v) {
			t.Fatalf("%q matches %q: the test is wrong", tc.pattern, v)
		}
		if f(v) {
			t.Errorf("%q: filter lets %q through", tc.pattern, v)
		}
	}
}
