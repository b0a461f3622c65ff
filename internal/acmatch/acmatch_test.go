package acmatch

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestAutomatonFindsEveryLiteral compares the one-pass scan with
// strings.Contains on folded text, for random literals and inputs over a
// small alphabet (many overlaps, shared prefixes and suffixes), with the
// dense part of the automaton both covering and not covering the trie.
func TestAutomatonFindsEveryLiteral(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcAB<>\x80é"
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for round := range 200 {
		var lits []string
		for range 1 + rng.IntN(40) {
			lits = append(lits, foldString(word(1+rng.IntN(6))))
		}
		a := Build(lits, 8192)
		if round%2 == 1 {
			// Force sparse states below the root's row.
			a = Build(lits, 2)
		}
		for range 20 {
			v := word(rng.IntN(400))
			bits := make([]uint64, (len(lits)+63)/64)
			nonASCII := a.Scan(v, bits)
			// The lanes find the same literals (inputs of 48 bytes and
			// more are split: 2 × the lanes × the longest literal).
			for _, lanes := range []int{2, 3, 4, 5} {
				got := make([]uint64, len(bits))
				if a.ScanLanes(v, got, lanes) != nonASCII || !slices.Equal(got, bits) {
					t.Fatalf("round %d: %d lanes over %q: %x, one pass %x", round, lanes, v, got, bits)
				}
			}
			want := false
			for i := 0; i < len(v); i++ {
				want = want || v[i] >= 0x80
			}
			if nonASCII != want {
				t.Fatalf("nonASCII(%q) = %v", v, nonASCII)
			}
			fv := foldString(v)
			found := false
			for id, l := range lits {
				got := bits[id>>6]&(1<<(uint(id)&63)) != 0
				if want := strings.Contains(fv, l); got != want {
					t.Fatalf("round %d: literal %q in %q: got %v, want %v", round, l, v, got, want)
				}
				found = found || got
			}
			if got := a.Contains(v); got != found {
				t.Fatalf("round %d: Contains(%q) = %v, want %v", round, v, got, found)
			}
		}
	}
}

func foldString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = Fold(c)
	}
	return string(b)
}
