// Package ascii holds the one test the byte-level fast paths of mamori's
// operators and transformations (internal/rx, internal/transform) share:
// whether a value is pure ASCII, so that byte and rune semantics agree.
package ascii

import "unicode/utf8"

// Only reports whether s holds no byte from 0x80 up, eight bytes at a time:
// it runs over whole request values before every case-insensitive
// prefilter and every replaced transformation.
func Only(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
