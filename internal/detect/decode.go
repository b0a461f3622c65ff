// Package detect is mamori's detection beyond CRS (checklist V2, V3, V4,
// V9, V10): decoding layers, inspection of every placement, libinjection
// and CRS's own rules applied to the decoded forms, and a scoring that
// keeps long free text from tripping rules written for short parameters.
// It registers Coraza transformations and operators (process-wide, as
// internal/rx does) and generates the SecLang that internal/waf loads
// between CRS's detection rules and its blocking evaluation.
package detect

import (
	"encoding/base64"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRounds bounds the decoding: an attacker can nest encodings, but each
// round costs a pass over the value. Four covers double URL encoding
// under Base64 under HTML entities.
const maxRounds = 4

// maxDecodeLen is the longest value decoded; longer values (article
// bodies, uploads) are inspected as they are by CRS.
const maxDecodeLen = 64 << 10

// Sep separates the parts of a decoded value (NUL: no decoding layer
// produces it on purpose, and a NUL in a value is itself an evasion).
const Sep = "\x00"

// Decode returns the decoded forms of v: the value with every layer of
// URL encoding, HTML/XML entities, JS/JSON escapes, overlong UTF-8 and
// Base64 removed, repeatedly (bounded), followed by the string literals of
// a GraphQL document. It returns v itself alone when nothing decodes.
func Decode(v string) []string {
	if len(v) > maxDecodeLen {
		return []string{v}
	}
	return decodeFrom(v, decodeOnce(v))
}

// decodeFrom is Decode of v (at most maxDecodeLen bytes) whose first
// round, decodeOnce(v), is once: a caller that has it does not pay for it
// twice.
func decodeFrom(v, once string) []string {
	d := v
	for round := range maxRounds {
		next := once
		if round > 0 {
			next = decodeOnce(d)
		}
		if next == d {
			break
		}
		d = next
	}
	parts := []string{d}
	// The literals are read from the value as sent: decoding the whole
	// document first would unescape the quotes that delimit them.
	lits := graphQLStrings(v)
	if len(lits) == 0 && d != v {
		lits = graphQLStrings(d)
	}
	for _, l := range lits {
		parts = append(parts, Decode(l)...)
	}
	return parts
}

// decodeOnce removes one layer of each encoding that the value shows.
func decodeOnce(s string) string {
	if strings.IndexByte(s, '%') >= 0 {
		s = urlDecode(s)
	}
	if strings.IndexByte(s, '&') >= 0 && strings.IndexByte(s, ';') >= 0 {
		s = html.UnescapeString(s)
	}
	if strings.IndexByte(s, '\\') >= 0 {
		s = jsUnescape(s)
	}
	s = fixOverlong(s)
	return base64Decode(s)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// urlDecode decodes %XX and IIS's %uXXXX, leaving malformed escapes and
// '+' alone (url.QueryUnescape fails on the first bad escape, which an
// attacker would add on purpose).
func urlDecode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			if r, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
				b.WriteRune(rune(r))
				i += 5
				continue
			}
		}
		if i+2 < len(s) {
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(h<<4 | l)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// jsUnescape decodes \uXXXX, \u{X...}, \xXX and the one-letter escapes of
// JavaScript and JSON strings.
func jsUnescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case 'u':
			if i+2 < len(s) && s[i+2] == '{' {
				if end := strings.IndexByte(s[i+3:], '}'); end > 0 && end <= 6 {
					if r, err := strconv.ParseUint(s[i+3:i+3+end], 16, 32); err == nil && r <= unicode.MaxRune {
						b.WriteRune(rune(r))
						i += 3 + end
						continue
					}
				}
			}
			if i+5 < len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 5
					continue
				}
			}
		case 'x':
			if i+3 < len(s) {
				h, ok1 := unhex(s[i+2])
				l, ok2 := unhex(s[i+3])
				if ok1 && ok2 {
					b.WriteByte(h<<4 | l)
					i += 3
					continue
				}
			}
		case 'n', 'r', 't', '"', '\'', '/', '\\':
			b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\'': '\'', '/': '/', '\\': '\\'}[n])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// fixOverlong replaces overlong UTF-8 encodings of ASCII (C0 AF for '/',
// E0 80 AF) by the characters they stand for, as lenient decoders do.
func fixOverlong(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == 0xC0 || c == 0xC1) && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			b.WriteByte((c&0x1F)<<6 | s[i+1]&0x3F)
			i++
		case c == 0xE0 && i+2 < len(s) && s[i+1]&0xE0 == 0x80 && s[i+2]&0xC0 == 0x80:
			b.WriteByte((s[i+1]&0x3F)<<6 | s[i+2]&0x3F)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// minBase64 is the shortest token tried as Base64: shorter tokens are
// ordinary words far more often than hidden payloads.
const minBase64 = 8

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// base64Decode replaces each token of Base64 (standard or URL alphabet,
// padded or not) that decodes to printable UTF-8 text by that text.
// Tokens that decode to binary (random identifiers, hashes) stay.
func base64Decode(s string) string {
	// Most values hold no token that decodes: nothing is copied until one
	// does (copied marks how much of s is in b).
	var b strings.Builder
	copied := 0
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		end := j
		for end < len(s) && end-j < 2 && s[end] == '=' {
			end++
		}
		if dec, ok := decodeB64Token(s[i:end]); ok {
			b.WriteString(s[copied:i])
			b.WriteString(dec)
			copied = end
		}
		i = end
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

func decodeB64Token(tok string) (string, bool) {
	raw := strings.TrimRight(tok, "=")
	if len(raw) < minBase64 || len(raw)%4 == 1 {
		return "", false
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(raw, "-_") {
		if strings.ContainsAny(raw, "+/") {
			return "", false
		}
		enc = base64.RawURLEncoding
	}
	// Most candidates are words or identifiers that decode to binary:
	// short ones are decoded on the stack, and only text is kept.
	var stack [96]byte
	var buf []byte
	if n := enc.DecodedLen(len(raw)); n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	n, err := enc.Decode(buf, []byte(raw))
	if err != nil || !printable(buf[:n]) {
		return "", false
	}
	return string(buf[:n]), true
}

// printable reports text: valid UTF-8, no control characters but
// whitespace, and at least one letter or punctuation mark.
func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// graphQLStrings returns the string literals of a GraphQL document (a value
// that starts with query, mutation, subscription or "{"), unescaped.
func graphQLStrings(s string) []string {
	t := strings.TrimSpace(s)
	if !(strings.HasPrefix(t, "query") || strings.HasPrefix(t, "mutation") ||
		strings.HasPrefix(t, "subscription") || strings.HasPrefix(t, "{")) || !strings.Contains(t, "\"") {
		return nil
	}
	var out []string
	for i := 0; i < len(t); i++ {
		if t[i] == '#' { // comment to end of line
			for i < len(t) && t[i] != '\n' {
				i++
			}
			continue
		}
		if t[i] != '"' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(t) && t[j] != '"'; j++ {
			if t[j] == '\\' && j+1 < len(t) {
				b.WriteByte(t[j])
				j++
			}
			b.WriteByte(t[j])
		}
		out = append(out, jsUnescape(b.String()))
		i = j
		if len(out) >= 64 {
			break
		}
	}
	return out
}

// PathSegments returns the decoded segments of a raw request target's
// path (the query string cut off): "/a/b%2Fc" gives "a", "b/c".
func PathSegments(uri string) []string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	var out []string
	for _, seg := range strings.Split(uri, "/") {
		if seg == "" {
			continue
		}
		out = append(out, Decode(seg)...)
	}
	return out
}

// LongText reports free text: article bodies, comments, code samples.
// CRS's generic command, code and SQL patterns match such text by
// accident; in it, mamori's gated rules give way to the specific ones.
// Free text is prose (40+ bytes, 5+ words, at least half of them plain
// words; or 10+ CJK characters, half the text), several lines (40+ bytes, 2+ lines, 4+ words), or long
// (100+ bytes, 10+ words). Attack payloads are short single lines of
// operators, paths and URLs; one padded into long text is left to the
// rules that are not gated (libinjection's XSS, CRS's specific SQL,
// traversal, Java and PHP patterns, mamori's signatures).
func LongText(s string) bool { return longText(s, 40) }

// LongProse is LongText with prose from 60 bytes: the gate of
// libinjection, which judges a short SQL statement ("1' UNION SELECT
// name, password FROM users--") better than any pattern.
func LongProse(s string) bool { return longText(s, 60) }

func longText(s string, minProse int) bool {
	if len(s) < 40 {
		return false
	}
	if cjkText(s) {
		return true
	}
	words := strings.Fields(s)
	switch {
	case len(s) >= 100 && len(words) >= 10:
		return true
	case strings.Count(s, "\n") >= 1 && len(words) >= 4:
		return true
	case len(s) < minProse || len(words) < 5:
		return false
	}
	plain := 0
	for _, w := range words {
		if plainWord(w) {
			plain++
		}
	}
	return plain*2 >= len(words)
}

// cjkText reports Japanese or Chinese prose: 10+ CJK characters making
// at least half of the runes. Such text has no spaces between words.
func cjkText(s string) bool {
	cjk, all := 0, 0
	for _, r := range s {
		all++
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			cjk++
		}
	}
	return cjk >= 10 && cjk*2 >= all
}

// plainWord reports a word of letters (any script) that starts with a
// letter (not an option such as -f), hyphens and apostrophes allowed,
// with trailing punctuation.
func plainWord(w string) bool {
	w = strings.TrimRight(w, ".,:;!?)")
	w = strings.TrimLeft(w, "(")
	if w == "" || !unicode.IsLetter([]rune(w)[0]) {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '-' && r != '\'' {
			return false
		}
	}
	return true
}

// MaxDepth is the most encoding layers Decode removes from a value; a
// value still encoded after that many is deeper than any benign value.
const MaxDepth = maxRounds

// DecodeCost is the work Decode does on v, for the per-request work
// budget (internal/waf): the bytes its decoding rounds produce and how
// many layers it removes. deeper is set when v is still encoded after
// MaxDepth layers (Decode inspects the value as it stands then). Values
// longer than Decode takes cost nothing here.
func DecodeCost(v string) (decoded int, depth int, deeper bool) {
	if len(v) > maxDecodeLen {
		return 0, 0, false
	}
	d := v
	for depth < maxRounds {
		next := decodeOnce(d)
		if next == d {
			return decoded, depth, false
		}
		decoded += len(next)
		depth++
		d = next
	}
	return decoded, depth, decodeOnce(d) != d
}
