package rx

import (
	"regexp/syntax"
	"unicode"
)

// The byte filter is the prefilter for expressions without a required
// literal (prefilter.go finds none in about a third of CRS's): the set of
// bytes of which any match must contain at least one. `[\n\r]` needs a
// line break, `~[\+\-](?:$|[0-9]+)` a tilde, and CRS's shell and SQL
// expressions one of a few punctuation bytes (`;`, `|`, `&`, `` ` ``, a
// quote): an ordinary value ("november") has none, and the expression is
// not run. Without it, these expressions ran on every value (on the
// 20-parameter GET, 800 RE2 runs per request, each a call into the
// WebAssembly module).
//
// Soundness: a set is only claimed where every match contains one of its
// bytes; anything else yields nil (no filter). Non-ASCII is coarse on
// purpose: any rune at or above U+0080 (and U+FFFD, which Go's regexp
// matches against an invalid byte) adds every byte from 0x80 up, and a
// case-folded letter adds the first byte of each rune it folds to (k: the
// Kelvin sign, s: ſ). TestOperatorAgreesWithGoRegexp runs every CRS
// expression over CRS's regression inputs with and without it.

type byteSet [256]bool

// requiredBytes returns the bytes of which every match of re contains at
// least one, or nil where there is no such set worth checking.
func requiredBytes(re *syntax.Regexp) *byteSet {
	s := reqBytes(re)
	if s == nil {
		return nil
	}
	n := 0
	for _, b := range s {
		if b {
			n++
		}
	}
	// A set holding most bytes rejects almost nothing and costs a scan.
	if n == 0 || n > 128 {
		return nil
	}
	return s
}

func reqBytes(re *syntax.Regexp) *byteSet {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		s := new(byteSet)
		addRune(s, re.Rune[0], re.Flags&syntax.FoldCase != 0)
		return s
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return nil // matches nothing; leave it to the expression
		}
		s := new(byteSet)
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < 0x80; r++ {
				s[r] = true
			}
			if hi >= 0x80 {
				addHigh(s)
			}
		}
		return s
	case syntax.OpCapture, syntax.OpPlus:
		return reqBytes(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reqBytes(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		// Any one child's set is required; the smallest filters most.
		var best *byteSet
		bestN := 257
		for _, sub := range re.Sub {
			s := reqBytes(sub)
			if s == nil {
				continue
			}
			n := 0
			for _, b := range s {
				if b {
					n++
				}
			}
			if n < bestN {
				best, bestN = s, n
			}
		}
		return best
	case syntax.OpAlternate:
		// Each branch needs one of its own set: the union is required.
		u := new(byteSet)
		for _, sub := range re.Sub {
			s := reqBytes(sub)
			if s == nil {
				return nil
			}
			for i, b := range s {
				if b {
					u[i] = true
				}
			}
		}
		return u
	default:
		// Star, quest, empty-width assertions, any character: no byte is
		// required.
		return nil
	}
}

// addRune adds the first byte of r's UTF-8 form and, when folding, of every
// rune in r's case-folding orbit.
func addRune(s *byteSet, r rune, fold bool) {
	add := func(r rune) {
		if r < 0x80 && r >= 0 {
			s[r] = true
		} else {
			addHigh(s)
		}
	}
	add(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(f)
		}
	}
}

func addHigh(s *byteSet) {
	for b := 0x80; b < 0x100; b++ {
		s[b] = true
	}
}

func (s *byteSet) any(v string) bool {
	for i := 0; i < len(v); i++ {
		if s[v[i]] {
			return true
		}
	}
	return false
}

// byteFilterFunc is the byte filter of an expression, nil if it has none.
func byteFilterFunc(pattern string) func(string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	s := requiredBytes(re.Simplify())
	if s == nil {
		return nil
	}
	return s.any
}
