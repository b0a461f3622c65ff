package rx

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"

	bsyntax "rsc.io/binaryregexp/syntax"
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

// size is the number of bytes in s.
func (s *byteSet) size() int {
	n := 0
	for _, b := range s {
		if b {
			n++
		}
	}
	return n
}

// weight ranks a set by how likely text is to hold one of its bytes:
// letters, digits and white space count four, any other byte one (the
// punctuation an attack needs is what prose and names lack).
func (s *byteSet) weight() int {
	w := 0
	for b, in := range s {
		switch {
		case !in:
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == ' ', b == '\t', b == '\n', b == '\r':
			w += 4
		default:
			w++
		}
	}
	return w
}

// maxSets is how many sets a filter checks at most.
const maxSets = 3

// requiredBytes returns sets of bytes such that every match of re contains
// at least one byte of each: one per child of a top-level concatenation
// (each child matches a part of the match), lightest first, or nil where
// there is no set worth checking. (?:^|[/;\\])\.{2,3}[/;\\] needs a dot
// and one of / ; \: prose has dots, and the slash set rejects it.
func requiredBytes(re *syntax.Regexp, latin1 bool) []*byteSet {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	var sets []*byteSet
	for _, part := range parts {
		s := reqBytes(part, latin1)
		// A set holding most bytes rejects almost nothing and costs a
		// scan; an empty one (a literal binaryregexp cannot match) is left
		// to the expression.
		if s == nil || s.size() == 0 || s.size() > 128 || slices.ContainsFunc(sets, func(t *byteSet) bool { return *t == *s }) {
			continue
		}
		sets = append(sets, s)
	}
	slices.SortStableFunc(sets, func(a, b *byteSet) int { return a.weight() - b.weight() })
	if len(sets) > maxSets {
		sets = sets[:maxSets]
	}
	return sets
}

// reqBytes is requiredBytes without the size limit. latin1: the
// expression runs on binaryregexp, where each input byte is one
// character (U+0000-U+00FF): a rune below 256 is exactly that byte, and a
// rune above can match nothing.
func reqBytes(re *syntax.Regexp, latin1 bool) *byteSet {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		// Every rune of the literal is required: the set of the one text
		// is least likely to hold (the colon of javascript:).
		var best *byteSet
		for _, r := range re.Rune {
			s := new(byteSet)
			if latin1 {
				addLatin1(s, r, re.Flags&syntax.FoldCase != 0)
			} else {
				addRune(s, r, re.Flags&syntax.FoldCase != 0)
			}
			if best == nil || s.weight() < best.weight() {
				best = s
			}
		}
		return best
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return nil // matches nothing; leave it to the expression
		}
		s := new(byteSet)
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if latin1 {
				for r := lo; r <= hi && r < 0x100; r++ {
					s[r] = true
				}
				continue
			}
			for r := lo; r <= hi && r < 0x80; r++ {
				s[r] = true
			}
			if hi >= 0x80 {
				addHigh(s)
			}
		}
		return s
	case syntax.OpCapture, syntax.OpPlus:
		return reqBytes(re.Sub[0], latin1)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reqBytes(re.Sub[0], latin1)
		}
		return nil
	case syntax.OpConcat:
		// Any one child's set is required; the lightest filters most.
		var best *byteSet
		for _, sub := range re.Sub {
			s := reqBytes(sub, latin1)
			if s != nil && (best == nil || s.weight() < best.weight()) {
				best = s
			}
		}
		return best
	case syntax.OpAlternate:
		// Each branch needs one of its own set: the union is required.
		u := new(byteSet)
		for _, sub := range re.Sub {
			s := reqBytes(sub, latin1)
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

// addLatin1 adds r and, when folding, every rune of its case-folding orbit,
// as the bytes binaryregexp matches them against: those below 256.
func addLatin1(s *byteSet, r rune, fold bool) {
	if r >= 0 && r < 0x100 {
		s[r] = true
	}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f >= 0 && f < 0x100 {
				s[f] = true
			}
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

// anyOf is any for a set of a few bytes: one strings.IndexByte (vectorised)
// per byte beats a table lookup per input byte.
func anyOf(members []byte) func(string) bool {
	return func(v string) bool {
		for _, b := range members {
			if strings.IndexByte(v, b) >= 0 {
				return true
			}
		}
		return false
	}
}

// fewBytes is the largest set checked with anyOf.
const fewBytes = 8

// filter is the check for s: anyOf for a few bytes, any above.
func (s *byteSet) filter() func(string) bool {
	var members []byte
	for b, in := range s {
		if in {
			members = append(members, byte(b))
		}
	}
	if len(members) <= fewBytes {
		return anyOf(members)
	}
	return s.any
}

// byteFilter is a filter of sets: the value holds a byte of each. cheap:
// every set is checked with anyOf (a few vectorised scans), cheaper than a
// literal prefilter's scan.
type byteFilter struct {
	check func(string) bool
	cheap bool
}

func newByteFilter(sets []*byteSet) byteFilter {
	if len(sets) == 0 {
		return byteFilter{}
	}
	checks := make([]func(string) bool, len(sets))
	cheap := true
	for i, s := range sets {
		checks[i] = s.filter()
		cheap = cheap && s.size() <= fewBytes
	}
	if len(checks) == 1 {
		return byteFilter{checks[0], cheap}
	}
	return byteFilter{func(v string) bool {
		for _, c := range checks {
			if !c(v) {
				return false
			}
		}
		return true
	}, cheap}
}

// byteFilterFunc is the byte filter of an expression (check nil if it has
// none).
func byteFilterFunc(pattern string) byteFilter {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return byteFilter{}
	}
	return newByteFilter(requiredBytes(re.Simplify(), false))
}

// binaryByteFilterFunc is the byte filter of an expression binaryregexp
// runs (rx.go: \xNN escapes that are not UTF-8), parsed by binaryregexp's
// own parser, without Coraza's (?sm) prefix as binaryRX compiles it. CRS's
// 941310 (\x{bc}...|<...\x{be}) had none under the UTF-8 rules (any rune
// from U+0080 adds half the bytes) and ran binaryregexp's NFA over every
// value: 0.13 s of a 2 MB form of prose.
func binaryByteFilterFunc(pattern string) func(string) bool {
	re, err := bsyntax.Parse(pattern, bsyntax.Perl)
	if err != nil {
		return nil
	}
	std, ok := fromBinary(re.Simplify())
	if !ok {
		return nil
	}
	return newByteFilter(requiredBytes(std, true)).check
}

// fromBinary copies a binaryregexp syntax tree into regexp/syntax's types
// (the same parser, forked; the operators are mapped by name, not number).
// ok is false on an operator it does not know.
func fromBinary(b *bsyntax.Regexp) (*syntax.Regexp, bool) {
	var op syntax.Op
	switch b.Op {
	case bsyntax.OpNoMatch:
		op = syntax.OpNoMatch
	case bsyntax.OpEmptyMatch:
		op = syntax.OpEmptyMatch
	case bsyntax.OpLiteral:
		op = syntax.OpLiteral
	case bsyntax.OpCharClass:
		op = syntax.OpCharClass
	case bsyntax.OpAnyCharNotNL:
		op = syntax.OpAnyCharNotNL
	case bsyntax.OpAnyChar:
		op = syntax.OpAnyChar
	case bsyntax.OpBeginLine:
		op = syntax.OpBeginLine
	case bsyntax.OpEndLine:
		op = syntax.OpEndLine
	case bsyntax.OpBeginText:
		op = syntax.OpBeginText
	case bsyntax.OpEndText:
		op = syntax.OpEndText
	case bsyntax.OpWordBoundary:
		op = syntax.OpWordBoundary
	case bsyntax.OpNoWordBoundary:
		op = syntax.OpNoWordBoundary
	case bsyntax.OpCapture:
		op = syntax.OpCapture
	case bsyntax.OpStar:
		op = syntax.OpStar
	case bsyntax.OpPlus:
		op = syntax.OpPlus
	case bsyntax.OpQuest:
		op = syntax.OpQuest
	case bsyntax.OpRepeat:
		op = syntax.OpRepeat
	case bsyntax.OpConcat:
		op = syntax.OpConcat
	case bsyntax.OpAlternate:
		op = syntax.OpAlternate
	default:
		return nil, false
	}
	var flags syntax.Flags
	if b.Flags&bsyntax.FoldCase != 0 {
		flags |= syntax.FoldCase
	}
	out := &syntax.Regexp{Op: op, Flags: flags, Rune: b.Rune, Min: b.Min, Max: b.Max}
	for _, sub := range b.Sub {
		c, ok := fromBinary(sub)
		if !ok {
			return nil, false
		}
		out.Sub = append(out.Sub, c)
	}
	return out, true
}
