package transform

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/mamori-waf/mamori/internal/ascii"
)

// Coraza's implementations (v3.8.1, internal/transformations), the
// reference the replacements must equal on every input.
func refLowerCase(data string) (string, bool, error) {
	t := strings.ToLower(data)
	return t, data != t, nil
}

func refRemoveWhitespace(data string) (string, bool, error) {
	changed := false
	t := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			changed = true
			return -1
		}
		return r
	}, data)
	return t, changed, nil
}

// TestSameAsCoraza: each replacement gives Coraza's result and changed
// flag on random values (ASCII, and with the bytes and runes where the
// algorithms differ: U+0085, U+00A0, a bare 0xA0, U+2028, invalid UTF-8,
// U+FFFD), on the empty value and on long prose.
func TestSameAsCoraza(t *testing.T) {
	tests := []struct {
		name     string
		got, ref plugintypes.Transformation
	}{
		{"lowercase", lowerCase, refLowerCase},
		{"removeWhitespace", removeWhitespace, refRemoveWhitespace},
		{"compressWhitespace", compressWhitespace, compressWhitespaceRunes},
	}
	pieces := []string{"a", "Z", "q", "É", "é", " ", "  ", "\t", "\n", "\v", "\f", "\r", "\u0085", "\u00a0", "\xa0", "\x85", "\u2028", "\u3000", "\xff", "\xc3", "\ufffd", "İ", "K", "x y", "-", "\x00"}
	r := rand.New(rand.NewPCG(1, 2))
	inputs := []string{"", "abc", "ABC", "a b", strings.Repeat("The committee met on Tuesday.  Next\tweek\r\n", 2000)}
	for range 30000 {
		var b strings.Builder
		asciiOnly := r.IntN(2) == 0
		for range r.IntN(12) {
			p := pieces[r.IntN(len(pieces))]
			if asciiOnly && !ascii.Only(p) {
				continue
			}
			b.WriteString(p)
		}
		inputs = append(inputs, b.String())
	}
	for _, tc := range tests {
		for _, in := range inputs {
			got, gotChanged, err := tc.got(in)
			want, wantChanged, _ := tc.ref(in)
			if err != nil || got != want || gotChanged != wantChanged {
				t.Fatalf("%s(%q) = %q, %v; Coraza: %q, %v", tc.name, in, got, gotChanged, want, wantChanged)
			}
		}
	}
}

// BenchmarkProse: each replacement and Coraza's on 1 MB of prose.
//
//	go test ./internal/transform -run '^$' -bench .
func BenchmarkProse(b *testing.B) {
	v := strings.Repeat("The committee met on Tuesday to review the annual budget and the plans for the new library wing. ", 10700)
	for _, tc := range []struct {
		name string
		fn   plugintypes.Transformation
	}{
		{"lowercase", lowerCase}, {"lowercase-coraza", refLowerCase},
		{"removeWhitespace", removeWhitespace}, {"removeWhitespace-coraza", refRemoveWhitespace},
		{"compressWhitespace", compressWhitespace}, {"compressWhitespace-coraza", compressWhitespaceRunes},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			for b.Loop() {
				_, _, _ = tc.fn(v)
			}
		})
	}
}
