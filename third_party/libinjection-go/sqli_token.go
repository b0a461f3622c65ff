package libinjection

import "strings"

type sqliToken struct {
	// position and length of token in original string
	pos int
	len int

	// count: in type 'v', used for number of opening '@', but maybe used in other contexts
	count int

	category byte
	strOpen  byte
	strClose byte
	val      string
}

const (
	maxTokens = 5
	tokenSize = 32
)

// Look forward for doubling of delimiter
//
// case 'foo' 'bar' -> foo' 'bar
//
// ending quote is not duplicated (i.e. escaped)
// since it's the wrong or EOL
func (t *sqliToken) parseStringCore(s string, length, pos, offset int, delimiter byte) int {
	// offset is to skip the perhaps first quote char

	str := s[pos+offset:]

	if offset > 0 {
		// this is real quote
		t.strOpen = delimiter
	} else {
		// this was a simulated quote
		t.strOpen = byteNull
	}

	// mamori: v0.3.3 found the prefix before each delimiter with
	// strings.Index(hay, str), a search of the whole rest of the input per
	// escaped quote (quadratic: 0.66 s of CPU for a 731 KB JSON beacon
	// full of \"). firstAt gives the same index (the first occurrence of
	// that suffix, which is earlier than the delimiter only when the
	// tail is periodic) in O(1) after one linear pass.
	hay := s[pos+offset:]
	var first suffixIndex
	for {
		index := strings.IndexByte(str, delimiter)
		if index != -1 {
			str = str[index:]
		}

		switch {
		case index == -1:
			// string ended with no trailing quote
			// assign what we have
			t.assign(sqliTokenTypeString, pos+offset, length-pos-offset, s[pos+offset:])
			t.strClose = byteNull
			return length
		case isBackslashEscaped(s[pos+offset : pos+offset+first.at(hay, len(hay)-len(str))]):
			// keep going, move ahead one character
			str = str[1:]
			continue
		case isDoubleDelimiterEscaped(str):
			// keep going, move ahead two characters
			str = str[2:]
			continue
		default:
			// hey it's a normal string
			t.assign(sqliTokenTypeString, pos+offset, len(s[pos+offset:])-len(str), s[pos+offset:])
			t.strClose = delimiter
			return len(s) - len(str) + 1
		}
	}
}

// suffixIndex answers strings.Index(hay, hay[k:]) for one hay (mamori).
type suffixIndex struct {
	// best[L] is the largest p >= 1 at which the reversed hay repeats its
	// first L bytes (0: none); built on the first call that needs it.
	best []int32
}

// at returns strings.Index(hay, hay[k:]) for 0 <= k < len(hay), with
// hay[k] the delimiter. An occurrence at i < k starts with the delimiter,
// so while hay[:k] holds none (the first delimiter of a string) it is k.
// Otherwise, with R the reversed hay, hay[i:i+L] == hay[k:] (L = len-k)
// exactly when R repeats its first L bytes at p = k-i (Z(R)[p] >= L): the
// first occurrence is k minus the largest such p.
func (f *suffixIndex) at(hay string, k int) int {
	if strings.IndexByte(hay[:k], hay[k]) == -1 {
		return k
	}
	n := len(hay)
	if f.best == nil {
		f.best = reversedRepeats(hay)
	}
	return k - int(f.best[n-k])
}

// reversedRepeats returns best (see suffixIndex) for hay: the Z-function of
// the reversed hay, then for each length the largest position repeating
// at least that many bytes.
func reversedRepeats(hay string) []int32 {
	n := len(hay)
	r := func(j int) byte { return hay[n-1-j] }
	z := make([]int32, n)
	best := make([]int32, n+1)
	for p, lo, hi := 1, 0, 0; p < n; p++ {
		v := 0
		if p < hi {
			v = min(hi-p, int(z[p-lo]))
		}
		for p+v < n && r(v) == r(p+v) {
			v++
		}
		if p+v > hi {
			lo, hi = p, p+v
		}
		z[p] = int32(v)
		best[v] = int32(p) // p grows: the largest for exactly v
	}
	for l := n - 1; l >= 1; l-- {
		best[l] = max(best[l], best[l+1])
	}
	return best
}

func (t *sqliToken) assign(tokenType byte, pos, length int, value string) {
	var last int
	if length < tokenSize {
		last = length
	} else {
		last = tokenSize - 1
	}

	t.category = tokenType
	t.pos = pos
	t.len = last
	t.val = value[:last]
}

//nolint:gocyclo // complexity 9, reduction tracked in #122
func (t *sqliToken) isUnaryOp() bool {
	if t.category != sqliTokenTypeOperator {
		return false
	}

	switch t.len {
	case 1:
		return t.val[0] == '+' || t.val[0] == '-' || t.val[0] == '!' || t.val[0] == '~'
	case 2:
		return t.val[0] == '!' && t.val[1] == '!'
	case 3:
		return toUpperCmp("NOT", t.val[:3])
	default:
		return false
	}
}

func (t *sqliToken) isArithmeticOp() bool {
	return t.category == sqliTokenTypeOperator && t.len == 1 &&
		(t.val[0] == '*' || t.val[0] == '/' || t.val[0] == '+' || t.val[0] == '-' || t.val[0] == '%')
}
