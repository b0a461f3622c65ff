// Package litgate is a one-pass literal prefilter shared by every rule: the
// literals each @rx and @pm rule requires (one of them must occur for the
// rule to match) are gathered into one Aho-Corasick automaton, a long value
// is scanned once per transaction for all of them, and a rule whose
// literals are all absent from the value skips its operator.
//
// Why: CRS runs ≈ 250 rules over each argument and, with response
// inspection on, ≈ 60 over each HTML response. Each @rx had its own
// prefilter (internal/rx) and each @pm its own automaton (internal/pm), so
// a 2 KiB form field or an 8 KiB page was read again by every rule: tens of
// passes over the same bytes. Here the first rule that meets a value scans
// it once (the scan is kept in the transaction, keyed by the value) and
// every later rule over the same value, under any variable, looks up its
// literals' bits. Values shorter than MinLen skip the gate: the per-rule
// filters are cheaper there than the shared look-up.
//
// The gate only ever says "cannot match" when no required literal is in
// the value (compared ASCII case-insensitively, which finds a superset of
// the exact occurrences); otherwise the operator runs as before, so
// detection is unchanged. Single-byte literals and regular
// expressions without a required literal are not gated, nor are
// case-insensitive literals with k or s on a value holding U+212A (Kelvin
// sign) or U+017F (long s), the only runes Unicode folds to ASCII letters.
//
// The literal table is process-wide and append-only (a literal is stored
// once whatever the number of rule sets using it); the automaton is rebuilt
// when a compiled rule set added literals (Prepare, after compiling).
package litgate

import (
	"github.com/mamori-waf/mamori/internal/acmatch"

	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// MinLen is the shortest value the gate scans.
const MinLen = 128

// minLiteral is the shortest literal the gate uses: single bytes occur in
// most text (internal/rx's byte filter handles them).
const minLiteral = 2

// maxLiteral is the longest literal the automaton holds: a longer one
// (CRS's web-shell signatures hold page fragments of up to 2 KiB) is
// registered by its first maxLiteral bytes, which occur wherever it does,
// so the gate still never refuses a value the literal is in. It bounds
// how far back each lane of a scan starts (scanLanes).
const maxLiteral = 64

// scanLanes is how many parts of a long value the automaton scans at once
// (acmatch.ScanLanes). A scan's transitions form a chain of dependent
// loads, and between requests the table's rows leave the cache: one chain
// waits for each miss in turn, four overlap them (BenchmarkScan, an 8 KiB
// page: 30 µs in one pass, 19 µs in four lanes after other memory was
// touched; 21 and 12 µs in cache).
const scanLanes = 4

// maxDenseRows bounds the automaton's dense rows (8192 rows of at most 256
// int32s: 8 MiB in the worst case, about 2 MiB for CRS's literals).
const maxDenseRows = 8192

var (
	mu    sync.Mutex
	lits  []string             // folded literals, ID = index
	index = map[string]int32{} // folded literal → ID
	cur   atomic.Pointer[acmatch.Automaton]
)

// Gate is one rule operator's required literals: at least one must occur in
// a value for the operator to match.
type Gate struct {
	ids []int32
	max int32
	// exotic: case-insensitive literals with k or s, which Unicode
	// folding matches to U+212A and U+017F: the gate does not hold on a
	// value with either.
	exotic bool
}

// newGate registers lits (a disjunction; folded to lower case here) and
// returns their gate, or nil when one is shorter than minLiteral or there
// are none.
func newGate(literals []string, exotic bool) *Gate {
	if len(literals) == 0 {
		return nil
	}
	for _, l := range literals {
		if len(l) < minLiteral {
			return nil
		}
	}
	g := &Gate{exotic: exotic}
	mu.Lock()
	defer mu.Unlock()
	seen := map[int32]bool{}
	for _, l := range literals {
		f := foldString(l)
		if len(f) > maxLiteral {
			// Its first maxLiteral bytes occur wherever it does.
			f = f[:maxLiteral]
		}
		id, ok := index[f]
		if !ok {
			id = int32(len(lits))
			lits = append(lits, f)
			index[f] = id
		}
		if !seen[id] {
			seen[id] = true
			g.ids = append(g.ids, id)
			g.max = max(g.max, id)
		}
	}
	return g
}

// NewPhraseGate is the gate of a phrase list matched ASCII
// case-insensitively (@pm): one phrase must occur.
func NewPhraseGate(phrases []string) *Gate {
	return newGate(phrases, false)
}

func foldString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = acmatch.Fold(c)
	}
	return string(b)
}

// Prepare builds the automaton over every literal registered so far, if
// any were added since the last build. Call it after compiling a rule set,
// so that no request pays for the build.
func Prepare() {
	mu.Lock()
	defer mu.Unlock()
	prepareLocked()
}

func prepareLocked() *acmatch.Automaton {
	a := cur.Load()
	if a != nil && a.Len() == len(lits) {
		return a
	}
	a = acmatch.Build(lits, maxDenseRows)
	cur.Store(a)
	return a
}

// automatonFor returns an automaton that covers g's literals.
func automatonFor(g *Gate) *acmatch.Automaton {
	a := cur.Load()
	if a != nil && int(g.max) < a.Len() {
		return a
	}
	mu.Lock()
	defer mu.Unlock()
	return prepareLocked()
}

// pluginState is the hook the Coraza patch adds to transactions
// (third_party/coraza.patch): per-transaction state for plugins.
type pluginState interface {
	PluginState() map[any]any
}

type stateKey struct{}

// valueKey identifies a value by its bytes' address and length: the
// entries keep their values alive, so within a transaction the same key is
// the same content (strings are immutable).
type valueKey struct {
	p *byte
	n int
}

type scanned struct {
	a      *acmatch.Automaton
	bits   []uint64
	exotic bool // the value holds U+212A or U+017F
}

// addrEntry is the scan of the value v (kept alive: see valueKey).
type addrEntry struct {
	v string
	s *scanned
}

// txScans are a transaction's scans, found by the value's address (one
// cheap look-up per rule) and, for a value not seen at that address, by
// its content: a transformation that leaves a value as it was often
// returns a copy (t:cmdLine, t:replaceComments, t:compressWhitespace on
// prose), and different chains give equal results (t:removeWhitespace at
// different steps). Hashing a value is far cheaper than scanning it.
type txScans struct {
	byAddr    map[valueKey]addrEntry
	byContent map[string]*scanned
}

// Pass reports whether the operator may match v: false only when none of
// the gate's literals occurs in v. A nil gate, a short value or a
// transaction without plugin state passes.
func (g *Gate) Pass(tx plugintypes.TransactionState, v string) bool {
	if g == nil || len(v) < MinLen {
		return true
	}
	ps, ok := tx.(pluginState)
	if !ok {
		return true
	}
	state := ps.PluginState()
	scans, _ := state[stateKey{}].(*txScans)
	if scans == nil {
		scans = &txScans{byAddr: map[valueKey]addrEntry{}, byContent: map[string]*scanned{}}
		state[stateKey{}] = scans
	}
	k := valueKey{unsafe.StringData(v), len(v)}
	s := scans.byAddr[k].s
	if s == nil || int(g.max) >= s.a.Len() {
		s = scans.byContent[v]
		if s == nil || int(g.max) >= s.a.Len() {
			a := automatonFor(g)
			s = &scanned{a: a, bits: make([]uint64, (a.Len()+63)/64)}
			if a.ScanLanes(v, s.bits, scanLanes) {
				s.exotic = strings.Contains(v, "\u212A") || strings.Contains(v, "\u017F")
			}
			scans.byContent[v] = s
		}
		scans.byAddr[k] = addrEntry{v: v, s: s}
	}
	if g.exotic && s.exotic {
		return true
	}
	for _, id := range g.ids {
		if s.bits[id>>6]&(1<<(uint(id)&63)) != 0 {
			return true
		}
	}
	return false
}
