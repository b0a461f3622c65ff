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
	n, end, dense := a.nclass, a.ndense*a.nclass, a.dense
	var st int32 // premultiplied: st/n is the state
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
			st = ^st
			s := st / n
			for _, id := range a.outIDs[a.outStart[s]:a.outStart[s+1]] {
				bits[id>>6] |= 1 << (uint(id) & 63)
			}
		}
	}
	return hi >= 0x80
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
