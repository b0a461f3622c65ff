package rx

// acDFA is an Aho-Corasick automaton over all needles of an anyRequired
// set, compiled into a table: one lookup per input byte, whatever the
// needles. The pair-shift search (indexedMatcher) skips ahead by up to
// minLen-1 bytes, which is nothing when a needle is two or three bytes
// long (CRS's sets hold "sy", "if", "07", "lo"): it then examines every
// byte at several times this cost.
type acDFA struct {
	class [256]uint8 // byte → column; 0: no needle holds the byte
	cols  int
	// next is the transition table, rows of cols entries, each entry
	// the offset of the next state's row. Accepting states are numbered
	// last: an offset from acceptFrom on means a needle ended here.
	next       []uint32
	acceptFrom uint32
}

// maxDFAEntries bounds a table (4 bytes an entry); larger sets keep the
// pair-shift search.
const maxDFAEntries = 1 << 15

// newACDFA builds the automaton, nil when it would be too large. Needles
// must be lower-case when ci; input bytes A-Z are then folded as
// equalFoldASCIIBytes does, and no other byte.
func newACDFA(needles []string, ci bool) *acDFA {
	d := &acDFA{}
	fold := &identity
	if ci {
		fold = &lowerASCII
	}
	cols := 1
	for _, n := range needles {
		if len(n) == 0 {
			return nil // matches everything: leave it to the caller
		}
		for i := 0; i < len(n); i++ {
			if d.class[n[i]] == 0 {
				if cols == 256 {
					return nil
				}
				d.class[n[i]] = uint8(cols)
				cols++
			}
		}
	}
	if ci {
		for b := 'A'; b <= 'Z'; b++ {
			d.class[b] = d.class[fold[b]]
		}
	}
	d.cols = cols

	// The trie, state 0 the root.
	type state struct {
		next   []int32 // by column, -1: none
		fail   int32
		accept bool
	}
	newState := func() state {
		s := state{next: make([]int32, cols)}
		for i := range s.next {
			s.next[i] = -1
		}
		return s
	}
	states := []state{newState()}
	for _, n := range needles {
		cur := int32(0)
		for i := 0; i < len(n); i++ {
			c := d.class[n[i]]
			if states[cur].next[c] < 0 {
				states = append(states, newState())
				states[cur].next[c] = int32(len(states) - 1)
			}
			cur = states[cur].next[c]
		}
		states[cur].accept = true
		if len(states)*cols > maxDFAEntries {
			return nil
		}
	}
	// Failure links breadth first, completing the transitions into a
	// DFA; a state is accepting if its failure state is.
	var queue []int32
	for c := range cols {
		if t := states[0].next[c]; t < 0 {
			states[0].next[c] = 0
		} else {
			states[t].fail = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := states[s].fail
		states[s].accept = states[s].accept || states[f].accept
		for c := range cols {
			if t := states[s].next[c]; t < 0 {
				states[s].next[c] = states[f].next[c]
			} else {
				states[t].fail = states[f].next[c]
				queue = append(queue, t)
			}
		}
	}
	// Number the accepting states last.
	order := make([]int32, len(states)) // old → new
	n := int32(0)
	for i := range states {
		if !states[i].accept {
			order[i] = n
			n++
		}
	}
	d.acceptFrom = uint32(n) * uint32(cols)
	for i := range states {
		if states[i].accept {
			order[i] = n
			n++
		}
	}
	d.next = make([]uint32, len(states)*cols)
	for i := range states {
		row := int(order[i]) * cols
		for c := range cols {
			d.next[row+c] = uint32(order[states[i].next[c]]) * uint32(cols)
		}
	}
	return d
}

func (d *acDFA) match(s string) bool {
	row := uint32(0) // the root never accepts: no needle is empty
	for i := 0; i < len(s); i++ {
		row = d.next[row+uint32(d.class[s[i]])]
		if row >= d.acceptFrom {
			return true
		}
	}
	return false
}

// anyMatcher is the search for any of needles (lower-case when ci): the
// automaton when the shortest needle is too short for the pair-shift
// search to skip, the pair-shift search otherwise.
func anyMatcher(needles []string, ci bool) func(string) bool {
	im := newIndexedMatcher(needles, ci)
	if im.minLen <= 3 {
		if d := newACDFA(im.normalized(), ci); d != nil {
			return d.match
		}
	}
	return im.match
}
