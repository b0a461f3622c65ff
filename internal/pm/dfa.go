package pm

// dfa answers "does any phrase occur in the input" (ASCII case folded) in
// one pass. It is an Aho-Corasick automaton over byte classes (the bytes
// that occur in phrases, A-Z folded to a-z; every other byte is class 0)
// whose first states (the shallow part of the trie, where nearly all input
// keeps it) have a full transition row; deeper states keep their trie
// children and failure link and fall back along it. The memory is bounded
// (at most maxDense rows) whatever the list's size.
type dfa struct {
	class  [256]uint8
	nclass int
	// dense[s*nclass+c] is the next state for s < ndense, -1 where a
	// phrase ends.
	dense  []int32
	ndense int
	// For s >= ndense: the trie children and the failure link.
	sparse []sparseState
	match  []bool // a phrase ends here (or at a state on its failure chain)
}

type sparseState struct {
	fail     int32
	classes  []uint8
	children []int32
}

// maxDense bounds the dense rows: 4096 rows of at most 256 int32s is 4 MiB
// in the worst case, a few hundred KiB for CRS's lists.
const maxDense = 4096

func buildDFA(phrases []string) *dfa {
	d := &dfa{}
	// Byte classes: every distinct (folded) byte of the phrases.
	var seen [256]bool
	for _, p := range phrases {
		for i := 0; i < len(p); i++ {
			seen[fold(p[i])] = true
		}
	}
	n := 1
	var classOf [256]uint8
	for b := 0; b < 256; b++ {
		if seen[b] && fold(byte(b)) == byte(b) {
			classOf[b] = uint8(n)
			n++
		}
	}
	for b := 0; b < 256; b++ {
		d.class[b] = classOf[fold(byte(b))]
	}
	d.nclass = n

	// The trie. Phrases are lowercased by the caller; fold makes an
	// uppercase byte left in a phrase (none after strings.ToLower) harmless.
	type node struct {
		next  map[uint8]int32
		depth int
		out   bool
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for _, p := range phrases {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := d.class[p[i]]
			nx, ok := nodes[s].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}, depth: nodes[s].depth + 1})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		nodes[s].out = true
	}

	// Breadth-first order: a state's failure target is shallower, so it
	// comes first; the first maxDense states get dense rows.
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
	// Renumber states in breadth-first order.
	id := make([]int32, len(nodes))
	for i, s := range order {
		id[s] = int32(i)
	}
	total := len(nodes)
	d.ndense = min(total, maxDense)
	d.dense = make([]int32, d.ndense*n)
	d.sparse = make([]sparseState, total-d.ndense)
	d.match = make([]bool, total)
	fail := make([]int32, total)

	// goto along failure links, for a state whose failure target is done.
	next := func(s int32, c uint8) int32 {
		for {
			if int(s) < d.ndense {
				return d.dense[int(s)*n+int(c)]
			}
			sp := &d.sparse[int(s)-d.ndense]
			for i, cc := range sp.classes {
				if cc == c {
					return sp.children[i]
				}
			}
			s = sp.fail
		}
	}
	for i, old := range order {
		s := int32(i)
		nd := nodes[old]
		if s == 0 {
			fail[0] = 0
		}
		d.match[s] = nd.out || d.match[fail[s]]
		// Children's failure links: the failure of s followed by c.
		for c := 0; c < n; c++ {
			if child, ok := nd.next[uint8(c)]; ok {
				cs := id[child]
				if s == 0 {
					fail[cs] = 0
				} else {
					fail[cs] = next(fail[s], uint8(c))
				}
			}
		}
		if int(s) < d.ndense {
			row := d.dense[int(s)*n : int(s)*n+n]
			for c := 0; c < n; c++ {
				if child, ok := nd.next[uint8(c)]; ok {
					row[c] = id[child]
				} else if s != 0 {
					row[c] = next(fail[s], uint8(c))
				}
			}
		} else {
			sp := &d.sparse[int(s)-d.ndense]
			sp.fail = fail[s]
			for c := 0; c < n; c++ {
				if child, ok := nd.next[uint8(c)]; ok {
					sp.classes = append(sp.classes, uint8(c))
					sp.children = append(sp.children, id[child])
				}
			}
		}
	}
	// A transition into a state where a phrase ends is -1: contains stops
	// there, so the state itself is never needed.
	for i, t := range d.dense {
		if d.match[t] {
			d.dense[i] = -1
		}
	}
	return d
}

func fold(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// contains reports whether any phrase occurs in s.
func (d *dfa) contains(s string) bool {
	n, nd, dense := d.nclass, int32(d.ndense), d.dense
	var st int32
	for i := 0; i < len(s); i++ {
		c := int32(d.class[s[i]])
		if st < nd {
			st = dense[st*int32(n)+c]
			if st < 0 {
				return true
			}
			continue
		}
		st = d.step(st, uint8(c))
		if st < 0 || d.match[st] {
			return true
		}
	}
	return false
}

// step is the transition of a sparse state: its trie child, or the
// transition of its failure target. It returns -1 where a dense row says
// a phrase ends.
func (d *dfa) step(s int32, c uint8) int32 {
	for {
		if int(s) < d.ndense {
			return d.dense[int(s)*d.nclass+int(c)]
		}
		sp := &d.sparse[int(s)-d.ndense]
		for i, cc := range sp.classes {
			if cc == c {
				return sp.children[i]
			}
		}
		s = sp.fail
	}
}
