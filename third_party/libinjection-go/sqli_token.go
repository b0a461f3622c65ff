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
func (t *sqliToken) parseStringCore(s string, length, pos, offset int, delimiter byte, first *suffixIndex) int {
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
	// strings.Index(s[pos+offset:], str), a search of the whole rest of the
	// input per escaped quote (quadratic: 0.66 s of CPU for a 731 KB JSON
	// beacon full of \"). first.at gives the same index (the first
	// occurrence of that suffix, which is earlier than the delimiter only
	// when the input's tail is periodic) from one linear pass over the
	// input, shared by every string of it.
	seen := false // a delimiter before the current one
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
		case isBackslashEscaped(s[pos+offset : pos+offset+first.at(s, pos+offset, len(s)-len(str)-pos-offset, seen)]):
			// keep going, move ahead one character
			str = str[1:]
			seen = true
			continue
		case isDoubleDelimiterEscaped(str):
			// keep going, move ahead two characters
			str = str[2:]
			seen = true
			continue
		default:
			// hey it's a normal string
			t.assign(sqliTokenTypeString, pos+offset, len(s[pos+offset:])-len(str), s[pos+offset:])
			t.strClose = delimiter
			return len(s) - len(str) + 1
		}
	}
}

// suffixIndex answers strings.Index(s[start:], s[start+k:]) for one input
// s (mamori): the first few with strings.Index itself, as v0.3.3 did (one
// pass over the rest of the input each), then from an index of the whole
// input built once (a few passes).
type suffixIndex struct {
	searched int     // answered with strings.Index
	z        []int32 // the Z-function of the reversed input
	block    []int32 // max of z over each block of 1<<blockBits positions: a segment tree, leaves from len(block)/2
}

const (
	blockBits = 5
	// maxSearches is how many answers strings.Index gives before the
	// index is built.
	maxSearches = 8
)

// at returns strings.Index(hay, hay[k:]) for hay = s[start:] and
// 0 <= k < len(hay), hay[k] a delimiter and seen whether hay[:k] holds
// another. An occurrence at i < k starts with the delimiter, so without
// one before it is k. Otherwise, with T the reversed input and m =
// len(hay), the reversed hay is T[:m], and hay[i:i+L] == hay[k:] (L = m-k)
// exactly when T[:m] repeats its first L bytes at p = k-i, that is when
// z[p] >= L and p <= k: the first occurrence is k minus the largest such p.
func (f *suffixIndex) at(s string, start, k int, seen bool) int {
	if !seen {
		return k
	}
	if f.z == nil {
		if f.searched < maxSearches {
			f.searched++
			hay := s[start:]
			return strings.Index(hay, hay[k:])
		}
		f.build(s)
	}
	l := int32(len(s) - start - k)
	return k - f.rightmost(k, l)
}

// rightmost returns the largest p in [1, k] with z[p] >= l (l >= 1), or 0.
func (f *suffixIndex) rightmost(k int, l int32) int {
	scan := func(from, to int) int { // positions from down to to
		for p := from; p >= to; p-- {
			if f.z[p] >= l {
				return p
			}
		}
		return -1
	}
	b := k >> blockBits
	if p := scan(k, max(b<<blockBits, 1)); p >= 0 {
		return p
	}
	// the rightmost block before b whose maximum is at least l
	leaves := len(f.block) / 2
	var find func(node, lo, hi int) int
	find = func(node, lo, hi int) int {
		if lo >= b || f.block[node] < l {
			return -1
		}
		if hi-lo == 1 {
			return lo
		}
		mid := (lo + hi) / 2
		if r := find(2*node+1, mid, hi); r >= 0 {
			return r
		}
		return find(2*node, lo, mid)
	}
	if nb := find(1, 0, leaves); nb >= 0 {
		if p := scan(min((nb+1)<<blockBits-1, k), max(nb<<blockBits, 1)); p >= 0 {
			return p
		}
	}
	return 0
}

// build computes z and block for s.
func (f *suffixIndex) build(s string) {
	n := len(s)
	r := make([]byte, n)
	for i := range n {
		r[i] = s[n-1-i]
	}
	z := make([]int32, n)
	for p, lo, hi := 1, 0, 0; p < n; p++ {
		v := 0
		if p < hi {
			v = min(hi-p, int(z[p-lo]))
		}
		for p+v < n && r[v] == r[p+v] {
			v++
		}
		if p+v > hi {
			lo, hi = p, p+v
		}
		z[p] = int32(v)
	}
	leaves := 1
	for leaves<<blockBits < n {
		leaves *= 2
	}
	block := make([]int32, 2*leaves)
	for p := 1; p < n; p++ {
		i := leaves + p>>blockBits
		block[i] = max(block[i], z[p])
	}
	for i := leaves - 1; i >= 1; i-- {
		block[i] = max(block[2*i], block[2*i+1])
	}
	f.z, f.block = z, block
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
