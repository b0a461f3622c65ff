// Package pm is mamori's @pm, @pmFromFile and @pmf operators for Coraza:
// the same phrase lists, matched by a deterministic automaton instead of
// Coraza's Aho-Corasick NFA. Importing it registers the operators for every
// WAF in the process.
//
// Why: CRS runs its phrase lists over every argument and, with response
// inspection on, over every HTML response (php-errors.data alone has 1 842
// phrases). Coraza v3.8.1 builds those lists (@pmFromFile) as an NFA that
// walks failure links byte by byte and allocates an iterator per call: 11 %
// of mamori's CPU on the load benchmark. Nearly every value holds no
// phrase, which a DFA finds in one table look-up per input byte with no
// allocation; only a value that holds one and a rule that captures need
// the matches themselves.
//
// The semantics are Coraza's: phrases are lowercased (strings.ToLower),
// input is compared ASCII-case-insensitively, an input shorter than the
// shortest phrase does not match. When a phrase occurs and the rule
// captures (TX:0-9 get up to ten leftmost-longest matches), and for a list
// with an empty phrase, Coraza's own matcher decides
// (github.com/petar-dambovaliev/aho-corasick with Coraza's options, built
// on first use).
package pm

import (
	"github.com/mamori-waf/mamori/internal/acmatch"

	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/mamori-waf/mamori/internal/litgate"
)

func init() {
	plugins.RegisterOperator("pm", newPM)
	plugins.RegisterOperator("pmFromFile", newPMFromFile)
	plugins.RegisterOperator("pmf", newPMFromFile)
}

// matcher is one compiled phrase list, shared (memoized) by every rule that
// uses the same list.
type matcher struct {
	phrases []string           // lowercased
	dfa     *acmatch.Automaton // nil when a phrase is empty
	minLen  int
	dfaOpt  bool // Coraza's DFA option for its own matcher (@pm: on, @pmFromFile: off)
	// gate: the phrases in the shared one-pass scan of long values
	// (internal/litgate); nil when a phrase is too short for it.
	gate *litgate.Gate

	once sync.Once
	ac   ahocorasick.AhoCorasick // Coraza's matcher, for captures
}

type pm struct{ m *matcher }

func memoize(m plugintypes.Memoizer, key string, fn func() (any, error)) (any, error) {
	if m == nil {
		return fn()
	}
	return m.Do(key, fn)
}

func newMatcher(phrases []string, dfaOpt bool) *matcher {
	m := &matcher{phrases: phrases, minLen: minPatternLen(phrases), dfaOpt: dfaOpt}
	empty := len(phrases) == 0
	for _, p := range phrases {
		if p == "" {
			empty = true
		}
	}
	if !empty {
		m.dfa = acmatch.Build(phrases, maxDense)
		m.gate = litgate.NewPhraseGate(phrases)
	}
	return m
}

func newPM(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := strings.ToLower(options.Arguments)
	m, err := memoize(options.Memoizer, "mamori-pm:"+data, func() (any, error) {
		return newMatcher(strings.Split(data, " "), true), nil
	})
	if err != nil {
		return nil, err
	}
	return &pm{m: m.(*matcher)}, nil
}

func newPMFromFile(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data, err := loadFromFile(options.Arguments, options.Path, options.Root)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		lines = append(lines, strings.ToLower(l))
	}
	key := "mamori-pmf:" + strings.Join(options.Path, ",") + options.Arguments + "\x00" + string(data)
	m, err := memoize(options.Memoizer, key, func() (any, error) {
		return newMatcher(lines, false), nil
	})
	if err != nil {
		return nil, err
	}
	return &pm{m: m.(*matcher)}, nil
}

func (o *pm) Evaluate(tx plugintypes.TransactionState, value string) bool {
	m := o.m
	if len(value) < m.minLen {
		return false
	}
	if m.dfa != nil {
		// A long value is scanned once for every rule's phrases
		// (internal/litgate); a list none of which occurs stops here.
		if !m.gate.Pass(tx, value) {
			return false
		}
		// Most values hold no phrase: the automaton says so, captures or
		// not. A rule that captures needs Coraza's matches when one does.
		if !m.dfa.Contains(value) {
			return false
		}
		if !tx.Capturing() {
			return true
		}
	}
	return m.evaluateAC(tx, value)
}

// evaluateAC is Coraza's @pm evaluation (internal/operators/pm.go).
func (m *matcher) evaluateAC(tx plugintypes.TransactionState, value string) bool {
	m.once.Do(func() {
		builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
			AsciiCaseInsensitive: true,
			MatchKind:            ahocorasick.LeftMostLongestMatch,
			DFA:                  m.dfaOpt,
		})
		m.ac = builder.Build(m.phrases)
	})
	iter := m.ac.Iter(value)
	if !tx.Capturing() {
		return iter.Next() != nil
	}
	n := 0
	for {
		match := iter.Next()
		if match == nil {
			break
		}
		tx.CaptureField(n, value[match.Start():match.End()])
		n++
		if n == 10 {
			return true
		}
	}
	return n > 0
}

// minPatternLen is the length of the shortest phrase, 0 if one is empty.
func minPatternLen(patterns []string) int {
	n := 0
	for _, p := range patterns {
		if p == "" {
			return 0
		}
		if n == 0 || len(p) < n {
			n = len(p)
		}
	}
	return n
}

// maxDense bounds an automaton's dense rows: 4096 rows of at most 256
// int32s is 4 MiB in the worst case, a few hundred KiB for CRS's lists.
const maxDense = 4096

var errEmptyDirs = errors.New("empty dirs")

// loadFromFile is Coraza's (internal/operators/from_file.go): an absolute
// name is read from the root file system, a relative one from the first
// directory of the rule files that has it.
func loadFromFile(name string, dirs []string, root fs.FS) ([]byte, error) {
	if path.IsAbs(name) {
		return fs.ReadFile(root, name)
	}
	if len(dirs) == 0 {
		return nil, errEmptyDirs
	}
	var err error
	for _, p := range dirs {
		var content []byte
		content, err = fs.ReadFile(root, path.Join(p, name))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		return content, nil
	}
	return nil, err
}
