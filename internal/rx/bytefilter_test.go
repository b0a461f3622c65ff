package rx

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestByteFilter: the filter rejects values without the bytes a match
// needs, and never a value the expression matches (case folding beyond
// ASCII, non-ASCII classes, invalid UTF-8 included).
func TestByteFilter(t *testing.T) {
	tests := []struct {
		pattern string
		filter  bool     // a filter exists
		reject  []string // values the filter rejects (the expression must not match them)
		match   []string // values the expression matches (the filter must let them through)
	}{
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
	}
	for _, tc := range tests {
		re := regexp.MustCompile("(?sm)" + tc.pattern)
		f := byteFilterFunc("(?sm)" + tc.pattern)
		if (f != nil) != tc.filter {
			t.Errorf("%q: filter %v, want %v", tc.pattern, f != nil, tc.filter)
			continue
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
