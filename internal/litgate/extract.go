package litgate

import (
	"github.com/mamori-waf/mamori/internal/acmatch"

	"regexp/syntax"
	"unicode"
)

// maxAlternatives bounds the literals of one expression's gate.
const maxAlternatives = 1024

// required returns literals one of which occurs (ASCII case folded) in
// every match of expr, and whether one is case-insensitive with a letter
// Unicode folds outside ASCII (k, s: see Gate.exotic); ok is
// false when no such set of literals of at least minLiteral bytes is found.
// Only ASCII literals are used, so the set holds for Go's regexp, RE2 and
// binaryregexp alike.
func required(expr string) (lits []string, asciiOnly, ok bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false, false
	}
	s, ok := necessary(re.Simplify())
	if !ok {
		return nil, false, false
	}
	return s.lits, s.asciiOnly, true
}

type litSet struct {
	lits      []string
	asciiOnly bool
}

// shortest is the length of the set's shortest literal.
func (s litSet) shortest() int {
	m := -1
	for _, l := range s.lits {
		if m < 0 || len(l) < m {
			m = len(l)
		}
	}
	return m
}

// necessary walks the expression: a literal requires itself, a
// concatenation the best of its parts' sets, an alternation the union of
// its branches' sets, a capture or a repetition of at least one its body;
// anything else (optional parts, classes, anchors) requires nothing.
func necessary(re *syntax.Regexp) (litSet, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		b := make([]byte, 0, len(re.Rune))
		asciiOnly := false
		for _, r := range re.Rune {
			if r >= utf8RuneSelf || r == unicode.ReplacementChar {
				return litSet{}, false
			}
			if fold && foldsOutsideASCII(r) {
				asciiOnly = true
			}
			b = append(b, acmatch.Fold(byte(r)))
		}
		if len(b) < minLiteral {
			return litSet{}, false
		}
		return litSet{lits: []string{string(b)}, asciiOnly: asciiOnly}, true
	case syntax.OpCapture, syntax.OpPlus:
		return necessary(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return necessary(re.Sub[0])
		}
		return litSet{}, false
	case syntax.OpConcat:
		var best litSet
		found := false
		consider := func(s litSet) {
			if !found || better(s, best) {
				best, found = s, true
			}
		}
		// Runs of parts that match one of a few exact strings make
		// longer literals together: (?:pos|ge)t is post or get.
		var run litSet
		inRun := false
		flush := func() {
			if inRun && len(run.lits) > 0 && run.shortest() >= minLiteral {
				consider(run)
			}
			inRun = false
		}
		for _, sub := range re.Sub {
			if s, ok := necessary(sub); ok {
				consider(s)
			}
			e, ok := exact(sub)
			if !ok {
				flush()
				continue
			}
			if !inRun {
				run, inRun = e, true
				continue
			}
			p, ok := product(run, e)
			if !ok {
				flush()
				run, inRun = e, true
				continue
			}
			run = p
		}
		flush()
		return best, found
	case syntax.OpAlternate:
		u, ok := union(re.Sub, necessary, maxAlternatives)
		return u, ok && len(u.lits) > 0
	}
	return litSet{}, false
}

// union is the literal set of an alternation: every alternative's set
// (each found by of), false when one has none or there are more than max.
func union(subs []*syntax.Regexp, of func(*syntax.Regexp) (litSet, bool), max int) (litSet, bool) {
	var u litSet
	for _, sub := range subs {
		s, ok := of(sub)
		if !ok {
			return litSet{}, false
		}
		u.lits = append(u.lits, s.lits...)
		u.asciiOnly = u.asciiOnly || s.asciiOnly
		if len(u.lits) > max {
			return litSet{}, false
		}
	}
	return u, true
}

const utf8RuneSelf = 0x80

// better prefers the set whose shortest literal is longer (rarer in
// text), then the smaller set, then one that holds on any input.
func better(a, b litSet) bool {
	if sa, sb := a.shortest(), b.shortest(); sa != sb {
		return sa > sb
	}
	if len(a.lits) != len(b.lits) {
		return len(a.lits) < len(b.lits)
	}
	return !a.asciiOnly && b.asciiOnly
}

// foldsOutsideASCII reports an ASCII rune that Unicode case folding
// matches to a non-ASCII one (k and K to U+212A, s and S to U+017F).
func foldsOutsideASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8RuneSelf {
			return true
		}
	}
	return false
}

// maxExact bounds the strings of an exact set.
const maxExact = 256

// exact returns every string re can match (ASCII case folded), when they
// are few: literals, small ASCII classes, and alternations, optional parts
// and concatenations of those.
func exact(re *syntax.Regexp) (litSet, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return litSet{lits: []string{""}}, true
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		b := make([]byte, 0, len(re.Rune))
		exotic := false
		for _, r := range re.Rune {
			if r >= utf8RuneSelf {
				return litSet{}, false
			}
			exotic = exotic || fold && foldsOutsideASCII(r)
			b = append(b, acmatch.Fold(byte(r)))
		}
		return litSet{lits: []string{string(b)}, asciiOnly: exotic}, true
	case syntax.OpCharClass:
		seen := map[string]bool{}
		var out litSet
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= utf8RuneSelf || hi-lo > 8 {
				return litSet{}, false
			}
			for r := lo; r <= hi; r++ {
				c := string(acmatch.Fold(byte(r)))
				if !seen[c] {
					seen[c] = true
					out.lits = append(out.lits, c)
				}
			}
			if len(out.lits) > 8 {
				return litSet{}, false
			}
		}
		return out, len(out.lits) > 0
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		e, ok := exact(re.Sub[0])
		if !ok {
			return litSet{}, false
		}
		e.lits = append([]string{""}, e.lits...)
		return e, true
	case syntax.OpAlternate:
		return union(re.Sub, exact, maxExact)
	case syntax.OpConcat:
		run := litSet{lits: []string{""}}
		for _, sub := range re.Sub {
			e, ok := exact(sub)
			if !ok {
				return litSet{}, false
			}
			if run, ok = product(run, e); !ok {
				return litSet{}, false
			}
		}
		return run, true
	}
	return litSet{}, false
}

// product is every string of a followed by every string of b.
func product(a, b litSet) (litSet, bool) {
	if len(a.lits)*len(b.lits) > maxExact {
		return litSet{}, false
	}
	out := litSet{asciiOnly: a.asciiOnly || b.asciiOnly}
	for _, x := range a.lits {
		for _, y := range b.lits {
			out.lits = append(out.lits, x+y)
		}
	}
	return out, true
}
