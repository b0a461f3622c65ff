// Package acmatch is the Aho-Corasick automaton shared by the @pm operator
// (internal/pm: does any phrase of a list occur) and the one-pass literal
// gate (internal/litgate: which of every rule's literals occur). No module
// on the proxy does case-folded byte-class Aho-Corasick with a bounded
// dense table and a which-literals bitset, so it is written here once.
package acmatch

// Automaton finds, in one pass over a value, every registered literal that
// occurs in it (ASCII case folded). It is an Aho-Corasick automaton over
// byte classes (the bytes that occur in literals, A-Z folded to a-z; every
// other byte is class 0), the first maxDenseRows
// states in breadth-first order (the shallow part of the trie, where nearly
// all input keeps it) have a full transition row, deeper states keep their
// trie children and failure link and fall back along it. A transition into
// a state where literals end is stored complemented (^s), so the scan loop
// tests one sign per byte.
type Automaton struct {
	n      int // literals covered: IDs 0..n-1
	maxLen int // the longest literal's length
	class  [256]uint8
	nclass int32
	ndense int32
	dense  []int32 // dense[s*nclass+c], s < ndense: the next state (encoded: see Build)

	// States s >= ndense, at index s-ndense: children (class, encoded
	// target) in spClass/spTo[spStart[i]:spStart[i+1]], and the failure link.
	spStart []int32
	spClass []uint8
	spTo    []int32
	spFail  []int32

	// The literals that end at state s (directly or along its failure
	// chain): outIDs[outStart[s]:outStart[s+1]].
	outStart []int32
	outIDs   []int32
}

// Fold is the case folding the automaton applies to literals and input:
// A-Z to a-z, every other byte as it is.
func Fold(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// Build compiles lits (each non-empty, lower-case); literal i gets ID i.
// maxDenseRows bounds the states given a full transition row (rows of at
// most 256 int32s); deeper states fall back along their failure links.
func Build(lits []string, maxDenseRows int) *Automaton {
	a := &Automaton{n: len(lits)}
	var seen [256]bool
	for _, p := range lits {
		a.maxLen = max(a.maxLen, len(p))
		for i := 0; i < len(p); i++ {
			seen[Fold(p[i])] = true
		}
	}
	n := 1
	var classOf [256]uint8
	for b := 0; b < 256; b++ {
		if seen[b] && Fold(byte(b)) == byte(b) {
			classOf[b] = uint8(n)
			n++
		}
	}
	for b := 0; b < 256; b++ {
		a.class[b] = classOf[Fold(byte(b))]
	}
	a.nclass = int32(n)

	type node struct {
		next map[uint8]int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, p := range lits {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			nx, ok := nodes[s].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}

	// Breadth-first order: a state's failure target is shallower, so it
	// is complete before the state; the first maxDenseRows get dense rows.
	order := make([]int32, 0, len(nodes))
	order = append(order, 0)
	for i := 0; i < len(order); i++ {
		s := order[i]
		for c := 0; c < n; c++ {
			if nx, ok := nodes[s].next[uint8(c)]; ok {
				order = append(order, nx)
			}
		}
	}
	id := make([]int32, len(nodes))
	for i, s := range order {
		id[s] = int32(i)
	}
	total := len(nodes)
	a.ndense = int32(min(total, maxDenseRows))
	a.dense = make([]int32, int(a.ndense)*n)
	nsparse := total - int(a.ndense)
	a.spStart = make([]int32, nsparse+1)
	a.spFail = make([]int32, nsparse)
	fail := make([]int32, total)
	outs := make([][]int32, total)

	// The goto of state s on class c along failure links, for a state
	// already done. Targets are stored plain while building and encoded
	// (^s where literals end) at the end.
	rawNext := func(s int32, c uint8) int32 {
		for {
			if s < a.ndense {
				return a.dense[int(s)*n+int(c)]
			}
			i := int(s - a.ndense)
			for j := a.spStart[i]; j < a.spStart[i+1]; j++ {
				if a.spClass[j] == c {
					return a.spTo[j]
				}
			}
			s = a.spFail[i]
		}
	}
	// In breadth-first order a state's failure target (shallower) is done
	// before it: its outputs, failure link and transitions follow.
	for i, old := range order {
		s := int32(i)
		nd := nodes[old]
		out := append([]int32(nil), nd.out...)
		if s != 0 {
			out = append(out, outs[fail[s]]...)
		}
		outs[s] = out
		for c := 0; c < n; c++ {
			child, ok := nd.next[uint8(c)]
			if !ok {
				continue
			}
			cs := id[child]
			if s == 0 {
				fail[cs] = 0
			} else {
				fail[cs] = rawNext(fail[s], uint8(c))
			}
		}
		// Targets' outputs are not all known yet: encoded below.
		if s < a.ndense {
			row := a.dense[int(s)*n : int(s)*n+n]
			for c := 0; c < n; c++ {
				if child, ok := nd.next[uint8(c)]; ok {
					row[c] = id[child]
				} else if s != 0 {
					row[c] = rawNext(fail[s], uint8(c))
				}
			}
		} else {
			k := int(s - a.ndense)
			a.spFail[k] = fail[s]
			for c := 0; c < n; c++ {
				if child, ok := nd.next[uint8(c)]; ok {
					a.spClass = append(a.spClass, uint8(c))
					a.spTo = append(a.spTo, id[child])
				}
			}
			a.spStart[k+1] = int32(len(a.spClass))
		}
	}
	// Encode: a target is stored premultiplied (t*nclass, the offset of
	// its dense row, so that the scan loop does no multiplication), and
	// complemented where literals end.
	enc := func(t int32) int32 {
		if len(outs[t]) > 0 {
			return ^(t * int32(n))
		}
		return t * int32(n)
	}
	for i, t := range a.dense {
		a.dense[i] = enc(t)
	}
	for i, t := range a.spTo {
		a.spTo[i] = enc(t)
	}
	a.outStart = make([]int32, total+1)
	for s := 0; s < total; s++ {
		a.outIDs = append(a.outIDs, outs[s]...)
		a.outStart[s+1] = int32(len(a.outIDs))
	}
	return a
}

// Len is the number of literals: IDs 0..Len()-1.
func (a *Automaton) Len() int { return a.n }

// Contains reports whether any literal occurs in v (folded), stopping at
// the first.
func (a *Automaton) Contains(v string) bool {
	end, dense := a.ndense*a.nclass, a.dense
	var st int32 // premultiplied: st/nclass is the state
	for i := 0; i < len(v); i++ {
		c := int32(a.class[v[i]])
		if st < end {
			st = dense[st+c]
		} else {
			st = a.step(st, uint8(c))
		}
		if st < 0 {
			return true
		}
	}
	return false
}

// Scan sets in bits (at least (Len()+63)/64 words) the ID of every literal
// that occurs in v (folded) and reports whether v has a byte outside ASCII.
func (a *Automaton) Scan(v string, bits []uint64) (nonASCII bool) {
	_, hi := a.scanFrom(0, v, bits)
	return hi >= 0x80
}

// scanFrom runs the automaton over v from st (encoded, premultiplied: 0
// is the root), setting in bits the literals that end in v; it returns
// the state reached and the OR of v's bytes.
func (a *Automaton) scanFrom(st int32, v string, bits []uint64) (int32, byte) {
	end, dense := a.ndense*a.nclass, a.dense
	var hi byte
	for i := 0; i < len(v); i++ {
		b := v[i]
		hi |= b
		c := int32(a.class[b])
		if st < end {
			st = dense[st+c]
		} else {
			st = a.step(st, uint8(c))
		}
		if st < 0 {
			st = a.emit(st, bits)
		}
	}
	return st, hi
}

// emit sets in bits the literals that end at the state a transition
// returned complemented (^st), and returns the state plain.
func (a *Automaton) emit(st int32, bits []uint64) int32 {
	st = ^st
	s := st / a.nclass
	for _, id := range a.outIDs[a.outStart[s]:a.outStart[s+1]] {
		bits[id>>6] |= 1 << (uint(id) & 63)
	}
	return st
}

// step is the transition of a sparse state (premultiplied): its trie
// child, or the transition of its failure target (encoded).
func (a *Automaton) step(st int32, c uint8) int32 {
	s := st / a.nclass
	for {
		if s < a.ndense {
			return a.dense[s*a.nclass+int32(c)]
		}
		i := s - a.ndense
		for j := a.spStart[i]; j < a.spStart[i+1]; j++ {
			if a.spClass[j] == c {
				return a.spTo[j]
			}
		}
		s = a.spFail[i]
	}
}

// ScanLanes is Scan over lanes parts of v at once (at most 4; values
// shorter than 2 × lanes × the longest literal are scanned in one pass):
// each part starts maxLen-1 bytes before its share, so every literal ends
// in the share of a lane that saw all of it. The lanes' transitions do
// not depend on each other: when the table is not in cache, their loads
// overlap instead of each waiting for the last (four lanes are unrolled).
func (a *Automaton) ScanLanes(v string, bits []uint64, lanes int) (nonASCII bool) {
	lanes = min(lanes, 4)
	if lanes <= 1 || len(v) < 2*lanes*a.maxLen {
		return a.Scan(v, bits)
	}
	share := len(v) / lanes
	var start, stop [4]int
	for j := range lanes {
		start[j] = max(0, j*share-(a.maxLen-1))
		stop[j] = (j + 1) * share
	}
	stop[lanes-1] = len(v)
	common := stop[0] - start[0] // the shortest lane
	for j := 1; j < lanes; j++ {
		common = min(common, stop[j]-start[j])
	}
	end, dense := a.ndense*a.nclass, a.dense
	var st [4]int32
	var hi byte
	if lanes == 4 {
		// Written out lane by lane: the same loop over the lanes (below,
		// for other counts) took 45 % longer on the 8 KiB page.
		v0, v1 := v[start[0]:start[0]+common], v[start[1]:start[1]+common]
		v2, v3 := v[start[2]:start[2]+common], v[start[3]:start[3]+common]
		s0, s1, s2, s3 := st[0], st[1], st[2], st[3]
		for i := 0; i < common; i++ {
			b0, b1, b2, b3 := v0[i], v1[i], v2[i], v3[i]
			hi |= b0 | b1 | b2 | b3
			c0, c1, c2, c3 := int32(a.class[b0]), int32(a.class[b1]), int32(a.class[b2]), int32(a.class[b3])
			if s0 < end {
				s0 = dense[s0+c0]
			} else {
				s0 = a.step(s0, uint8(c0))
			}
			if s1 < end {
				s1 = dense[s1+c1]
			} else {
				s1 = a.step(s1, uint8(c1))
			}
			if s2 < end {
				s2 = dense[s2+c2]
			} else {
				s2 = a.step(s2, uint8(c2))
			}
			if s3 < end {
				s3 = dense[s3+c3]
			} else {
				s3 = a.step(s3, uint8(c3))
			}
			if s0 < 0 {
				s0 = a.emit(s0, bits)
			}
			if s1 < 0 {
				s1 = a.emit(s1, bits)
			}
			if s2 < 0 {
				s2 = a.emit(s2, bits)
			}
			if s3 < 0 {
				s3 = a.emit(s3, bits)
			}
		}
		st[0], st[1], st[2], st[3] = s0, s1, s2, s3
	} else {
		for i := 0; i < common; i++ {
			for j := range lanes {
				b := v[start[j]+i]
				hi |= b
				c := int32(a.class[b])
				x := st[j]
				if x < end {
					x = dense[x+c]
				} else {
					x = a.step(x, uint8(c))
				}
				if x < 0 {
					x = a.emit(x, bits)
				}
				st[j] = x
			}
		}
	}
	// Each lane's rest, from the state it reached.
	for j := range lanes {
		_, h := a.scanFrom(st[j], v[start[j]+common:stop[j]], bits)
		hi |= h
	}
	return hi >= 0x80
}
