package libinjection

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// parseStringCoreV033 is v0.3.3's parseStringCore, unchanged: the reference
// the patched one must agree with.
func (t *sqliToken) parseStringCoreV033(s string, length, pos, offset int, delimiter byte) int {
	str := s[pos+offset:]
	if offset > 0 {
		t.strOpen = delimiter
	} else {
		t.strOpen = byteNull
	}
	for {
		index := strings.IndexByte(str, delimiter)
		if index != -1 {
			str = str[index:]
		}
		switch {
		case index == -1:
			t.assign(sqliTokenTypeString, pos+offset, length-pos-offset, s[pos+offset:])
			t.strClose = byteNull
			return length
		case isBackslashEscapedV033(s[pos+offset : pos+offset+strings.Index(s[pos+offset:], str)]):
			str = str[1:]
			continue
		case isDoubleDelimiterEscaped(str):
			str = str[2:]
			continue
		default:
			t.assign(sqliTokenTypeString, pos+offset, len(s[pos+offset:])-len(str), s[pos+offset:])
			t.strClose = delimiter
			return len(s) - len(str) + 1
		}
	}
}

func isBackslashEscapedV033(str string) bool {
	if strings.IndexByte(str, '\\') == -1 {
		return false
	}
	count := 0
	for i := len(str) - 1; i >= 0; i-- {
		if str[i] == '\\' {
			count++
		} else {
			break
		}
	}
	return count%2 != 0
}

// TestParseStringCoreAgreesWithV033: the same token and end position as
// v0.3.3 on random strings of quotes, backslashes and letters (periodic
// tails included, where the first occurrence of the rest of the input is
// before the delimiter) and on every start and offset.
func TestParseStringCoreAgreesWithV033(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabets := []string{`'\a`, `"\'`, `'\`, `'"\ab`, `''\\`}
	var inputs []string
	for range 20000 {
		a := alphabets[rnd.IntN(len(alphabets))]
		b := make([]byte, rnd.IntN(24))
		for i := range b {
			b[i] = a[rnd.IntN(len(a))]
		}
		inputs = append(inputs, string(b))
		// periodic tails: a unit repeated after a random head
		unit := string(b[:min(len(b), 1+rnd.IntN(4))])
		inputs = append(inputs, string(b[:len(b)/2])+strings.Repeat(unit, 1+rnd.IntN(6)))
	}
	// longer inputs, for the block maxima (32 positions a block)
	for range 400 {
		a := alphabets[rnd.IntN(len(alphabets))]
		unit := make([]byte, 1+rnd.IntN(5))
		for i := range unit {
			unit[i] = a[rnd.IntN(len(a))]
		}
		head := make([]byte, rnd.IntN(80))
		for i := range head {
			head[i] = a[rnd.IntN(len(a))]
		}
		inputs = append(inputs, string(head)+strings.Repeat(string(unit), 1+rnd.IntN(60)))
	}
	for _, s := range inputs {
		var idx suffixIndex // one per input, as in sqliState
		for pos := range len(s) {
			for _, offset := range []int{0, 1, 2} {
				if pos+offset > len(s) {
					continue
				}
				for _, d := range []byte{'\'', '"'} {
					var got, want sqliToken
					g := got.parseStringCore(s, len(s), pos, offset, d, &idx)
					w := want.parseStringCoreV033(s, len(s), pos, offset, d)
					if g != w || got != want {
						t.Fatalf("%q pos %d offset %d delim %c: got %d %+v, want %d %+v", s, pos, offset, d, g, got, w, want)
					}
				}
			}
		}
	}
}

// TestParseStringCoreLinear: a long string of escaped quotes (a JSON
// document inside a JSON string) is tokenized in linear time; v0.3.3
// searched the rest of the input once per quote (here about 10^11
// byte comparisons: the test would not finish).
func TestParseStringCoreLinear(t *testing.T) {
	s := `'` + strings.Repeat(`{\"name\":\"value\"},`, 50000) + `'`
	var tok sqliToken
	if end := tok.parseStringCore(s, len(s), 0, 1, '\'', &suffixIndex{}); end != len(s) || tok.strClose != '\'' {
		t.Fatalf("end %d of %d, close %q", end, len(s), tok.strClose)
	}
	// Many strings, each with an escaped quote: folded one after the
	// other ("ss" -> "s"), each read to its end.
	if ok, _ := IsSQLi(strings.Repeat(`'a\'b' `, 100000)); ok {
		t.Logf("fingerprint matched (not the point: that it returns)")
	}
}
