package detect

import (
	"io/fs"
	"path"
	"regexp/syntax"
	"strings"
	"unicode"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// Token gates (docs/detection.md, "What the layers cost"). Most header
// values, query values and path segments of benign requests are tokens:
// words, numbers, host names, slugs. A value made only of tokenByte
// characters cannot match most attack rules (they need an operator,
// quote, bracket, slash or space), and for those rules the whole block of
// copies is skipped by one gate rule when every value the block reads,
// after mamori's decoding, is a token. Which rules those are is decided
// from the rule itself, never by hand: its operator's patterns or
// keywords are analysed (matchesTokens), and a rule is gated only when
// none of them can match a string of token characters.

// tokenClass is the gate's expression: a character outside the token
// alphabet (ASCII letters, digits, "._~-"). NUL (Sep, between decoded
// parts) and any non-ASCII byte open the gate too.
const tokenClass = `[^A-Za-z0-9._~\-]`

func tokenRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '~' || r == '-'
}

// tokenClosed are the transformations that, given a string of token
// characters, give one again (they only decode escapes that need a
// character outside the alphabet, delete characters or change case).
// Decoders that turn letters into other bytes (base64Decode, hexDecode,
// sqlHexDecode) and anything not listed make a rule ungated.
var tokenClosed = map[string]bool{
	"none": true, "lowercase": true, "urlDecode": true, "urlDecodeUni": true,
	"htmlEntityDecode": true, "jsDecode": true, "cssDecode": true, "utf8toUnicode": true,
	"cmdLine": true, "compressWhitespace": true, "removeWhitespace": true,
	"normalizePath": true, "normalizePathWin": true, "removeCommentsChar": true,
	"replaceComments": true, "removeNulls": true, "removeComments": true,
	"trim": true, "trimLeft": true, "trimRight": true,
	// mamori's own: the gate judges their output.
	"mamoriDecode": true, "mamoriDecodeAll": true, "mamoriDecodeURL": true, "mamoriHeader": true, "mamoriPath": true,
	"mamoriTextGate": true, "mamoriProseGate": true,
}

// matchesTokens reports whether r may match a value made only of token
// characters; unknown operators and transformations count as matching.
func (r crsRule) matchesTokens() bool {
	for _, a := range r.Actions {
		if t, ok := strings.CutPrefix(a, "t:"); ok && !tokenClosed[t] {
			return true
		}
	}
	return operatorMatchesTokens(r.Operator)
}

// operatorMatchesTokens analyses a SecLang operator as written (escapes
// kept): @rx by its syntax tree, @pm and @pmFromFile by their keywords.
func operatorMatchesTokens(op string) bool {
	name, arg, _ := strings.Cut(op, " ")
	switch name {
	case "@rx":
		return regexMatchesTokens(arg)
	case "@pm":
		return keywordsMatchTokens(strings.Fields(arg))
	case "@pmFromFile":
		b, err := fs.ReadFile(coreruleset.FS, path.Join("@owasp_crs", arg))
		if err != nil {
			return true
		}
		var words []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				words = append(words, l)
			}
		}
		return keywordsMatchTokens(words)
	}
	return true // libinjection and anything else: judged able to match
}

// keywordsMatchTokens reports a keyword made only of token characters
// (@pm matches keywords anywhere in the value).
func keywordsMatchTokens(words []string) bool {
	for _, w := range words {
		if w == "" || strings.IndexFunc(w, func(r rune) bool { return !tokenRune(r) }) < 0 {
			return true
		}
	}
	return false
}

// regexMatchesTokens reports whether the expression can match some
// string of token characters (the empty string included). Assertions
// (^, $, \b) are taken as satisfiable; an expression that does not parse
// counts as matching.
func regexMatchesTokens(expr string) bool {
	// SecLang keeps \" in the operator; RE2 reads it as a quote too.
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return true
	}
	return reTokens(re)
}

func reTokens(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if !tokenRune(r) && !(re.Flags&syntax.FoldCase != 0 && foldTokens(r)) {
				return false
			}
		}
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r < 0x80; r++ {
				if tokenRune(r) {
					return true
				}
			}
		}
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return reTokens(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || reTokens(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !reTokens(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if reTokens(s) {
				return true
			}
		}
		return false
	}
	// OpEmptyMatch, OpStar, OpQuest, OpAnyChar(NotNL) and the assertions.
	return true
}

// foldTokens reports a case variant of r in the token alphabet.
func foldTokens(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if tokenRune(f) {
			return true
		}
	}
	return false
}
