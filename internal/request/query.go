package request

import (
	"strings"
	"unicode/utf8"
)

// unescape decodes percent-escapes leniently, as the CMS runtimes do: a
// valid %XX becomes its byte, anything else stays as sent. With plus, "+"
// is a space (form encoding); with percentU, CGI.pm's "%uXXXX" (UTF-16,
// surrogate pairs joined) becomes UTF-8.
func unescape(s string, plus, percentU bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plus || strings.IndexByte(s, '+') < 0) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plus:
			b = append(b, ' ')
			continue
		case c != '%':
			b = append(b, c)
			continue
		}
		if percentU {
			if r, n := percentUnicode(s[i:]); n > 0 {
				b = appendRune(b, r)
				i += n - 1
				continue
			}
		}
		if i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// percentUnicode reads "%uXXXX" (or a "%uD8xx%uDCxx" surrogate pair) at
// the start of s: the code point and the bytes it took, or 0 bytes.
func percentUnicode(s string) (rune, int) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '%' || (s[1] != 'u') {
			return 0, false
		}
		var r rune
		for _, c := range []byte(s[2:6]) {
			if !ishex(c) {
				return 0, false
			}
			r = r<<4 | rune(unhex(c))
		}
		return r, true
	}
	hi, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if hi >= 0xD800 && hi <= 0xDBFF {
		if lo, ok := hex4(s[6:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return 0x10000 + (hi-0xD800)*0x400 + (lo - 0xDC00), 12
		}
	}
	return hi, 6
}

// appendRune is utf8.AppendRune that also encodes a lone surrogate as
// Perl does (three bytes) instead of U+FFFD.
func appendRune(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// Unescape decodes a form-encoded name or value the lenient way every
// dialect shares: "+" is a space, valid %XX escapes are decoded, the rest
// is kept as sent.
func Unescape(s string) string { return unescape(s, true, false) }

// SplitPairs calls f for each name=value pair of a query or urlencoded
// body, split on "&" and ";" (CGI.pm splits on both; PHP on "&" only, so
// this is the union), raw (still encoded). Empty pairs are skipped.
func SplitPairs(raw string, f func(name, value string, hasValue bool)) {
	for raw != "" {
		i := strings.IndexAny(raw, "&;")
		pair := raw
		if i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		if pair == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, "=")
		f(name, value, ok)
	}
}

// parseCGI reads a query string or urlencoded body as CGI.pm's
// parse_params does: pairs split on "&" and ";", empty pairs skipped,
// names and values unescaped ("+", %XX, %uXXXX), duplicates kept in
// order. A non-empty string without "&", "=" or ";" is an <isindex>
// keyword list: the parameter "keywords", split on white space.
func parseCGI(raw string) []Field {
	if raw == "" {
		return nil
	}
	if !strings.ContainsAny(raw, "&=;") {
		s := unescape(raw, true, true)
		var out []Field
		words := splitPerlWhitespace(s)
		for _, w := range words {
			out = append(out, Field{Name: "keywords", Value: w})
		}
		return out
	}
	var out []Field
	for _, pair := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		name, value, _ := strings.Cut(pair, "=")
		out = append(out, Field{Name: unescape(name, true, true), Value: unescape(value, true, true)})
	}
	return out
}

// splitPerlWhitespace is Perl's split(/\s+/, s): a leading empty field is
// kept, trailing empty fields are dropped.
func splitPerlWhitespace(s string) []string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' }
	var out []string
	for i := 0; ; {
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		out = append(out, s[i:j])
		if j == len(s) {
			break
		}
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		i = j
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
