package pm

import (
	"io/fs"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// capture is the transaction state the operator sees; only Capturing and
// CaptureField are used.
type capture struct {
	plugintypes.TransactionState
	on     bool
	fields map[int]string
}

func (c *capture) Capturing() bool { return c.on }
func (c *capture) CaptureField(i int, v string) {
	if c.fields == nil {
		c.fields = map[int]string{}
	}
	c.fields[i] = v
}

// corazaMatch is Coraza v3.8.1's @pm answer for a non-capturing rule.
func corazaMatch(ac ahocorasick.AhoCorasick, minLen int, v string) bool {
	if len(v) < minLen {
		return false
	}
	return ac.Iter(v).Next() != nil
}

func corazaAC(phrases []string, dfaOpt bool) ahocorasick.AhoCorasick {
	builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
		AsciiCaseInsensitive: true,
		MatchKind:            ahocorasick.LeftMostLongestMatch,
		DFA:                  dfaOpt,
	})
	return builder.Build(phrases)
}

// crsLists returns CRS's phrase lists: every .data file (as @pmFromFile
// reads it) and every @pm argument of its rule files.
func crsLists(t *testing.T) map[string][]string {
	lists := map[string][]string{}
	pmArg := regexp.MustCompile(`"@pm ([^"]*)"`)
	err := fs.WalkDir(coreruleset.FS, "@owasp_crs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(coreruleset.FS, p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".data"):
			var lines []string
			for _, l := range strings.Split(string(data), "\n") {
				l = strings.TrimSpace(l)
				if l != "" && l[0] != '#' {
					lines = append(lines, strings.ToLower(l))
				}
			}
			lists[p] = lines
		case strings.HasSuffix(p, ".conf"):
			for _, m := range pmArg.FindAllStringSubmatch(string(data), -1) {
				lists[p+" @pm "+m[1]] = strings.Split(strings.ToLower(m[1]), " ")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) < 20 {
		t.Fatalf("found only %d CRS phrase lists", len(lists))
	}
	return lists
}

// inputs are strings built from the list's own phrases (whole, cut, case
// changed, embedded in text and binary noise) and unrelated text.
func inputs(r *rand.Rand, phrases []string) []string {
	noise := []string{"", "the garden club met on a sunny afternoon ", "\x00\xff\xc3\xa9", "<p>", "%2f", "ÄÖÜ İ ſ K "}
	var out []string
	for i := 0; i < 300; i++ {
		p := phrases[r.IntN(len(phrases))]
		switch r.IntN(5) {
		case 0: // a phrase cut short
			if len(p) > 1 {
				p = p[:r.IntN(len(p))]
			}
		case 1: // upper case
			p = strings.ToUpper(p)
		case 2: // one byte changed
			if len(p) > 0 {
				b := []byte(p)
				b[r.IntN(len(b))] = byte(r.IntN(256))
				p = string(b)
			}
		}
		out = append(out, noise[r.IntN(len(noise))]+p+noise[r.IntN(len(noise))])
		// Two phrase prefixes run together: exercises failure links.
		q := phrases[r.IntN(len(phrases))]
		if len(q) > 2 {
			out = append(out, q[:len(q)/2]+p)
		}
	}
	return append(out, "", "a", strings.Repeat("x", 5000), benignPage)
}

const benignPage = `<!DOCTYPE html><html><head><title>Riverside Community Garden</title></head><body>
<p>The community garden opens every Saturday morning from early spring until the first frost.
Volunteers water the raised beds, turn the compost and share seedlings with new members.</p></body></html>`

// TestSameAnswersAsCoraza: for every CRS phrase list, the automaton and
// Coraza's own matcher agree on inputs made of the list's phrases.
func TestSameAnswersAsCoraza(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	matched := 0
	for name, phrases := range crsLists(t) {
		m := newMatcher(phrases, false)
		if m.dfa == nil {
			t.Fatalf("%s: no automaton (empty phrase?)", name)
		}
		ac := corazaAC(phrases, false)
		for _, in := range inputs(r, phrases) {
			want := corazaMatch(ac, minPatternLen(phrases), in)
			if got := (&pm{m: m}).Evaluate(&capture{}, in); got != want {
				t.Fatalf("%s: %q: got %v, Coraza %v", name, in, got, want)
			}
			if want {
				matched++
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d inputs matched: the test inputs miss the phrases", matched)
	}
}

// TestOperator covers the operator as rules call it: @pm with its
// space-separated list, captures (Coraza's leftmost-longest matches), short
// input, an empty phrase (Coraza's matcher decides).
func TestOperator(t *testing.T) {
	tests := []struct {
		name, args, input string
		capture           bool
		want              bool
		fields            map[int]string
	}{
		{"word", "union select", "1 UNION ALL", false, true, nil},
		{"absent", "union select", "the garden", false, false, nil},
		{"shorter than every phrase", "union select", "uni", false, false, nil},
		{"case of the list", "WebZIP WebCopier", "Mozilla webcopier/1.0", false, true, nil},
		{"overlap via failure link", "abcd bc", "xabcx", false, true, nil},
		{"capture leftmost-longest", "ab abc bc", "xxabcbc", true, true, map[int]string{0: "abc", 1: "bc"}},
		{"capture none", "ab", "xx", true, false, nil},
		{"capture upper case", "webzip", "a WEBZIP b", true, true, map[int]string{0: "WEBZIP"}},
		{"non-ASCII phrase", "café", "un CAFé noir", false, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := newPM(plugintypes.OperatorOptions{Arguments: tc.args})
			if err != nil {
				t.Fatal(err)
			}
			st := &capture{on: tc.capture}
			if got := op.Evaluate(st, tc.input); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i, v := range tc.fields {
				if st.fields[i] != v {
					t.Errorf("TX:%d = %q, want %q (all: %v)", i, st.fields[i], v, st.fields)
				}
			}
		})
	}
	// An empty phrase (two spaces): Coraza's matcher decides, as before.
	op, err := newPM(plugintypes.OperatorOptions{Arguments: "a  b"})
	if err != nil {
		t.Fatal(err)
	}
	if op.(*pm).m.dfa != nil {
		t.Fatal("an empty phrase must leave the decision to Coraza's matcher")
	}
	ac := corazaAC([]string{"a", "", "b"}, true)
	for _, in := range []string{"", "x", "a"} {
		if got, want := op.Evaluate(&capture{}, in), corazaMatch(ac, 0, in); got != want {
			t.Errorf("empty phrase, %q: got %v, Coraza %v", in, got, want)
		}
	}
}

// TestFromFile reads a list as @pmFromFile does: relative to the rule
// files' directories, comments and blank lines skipped.
func TestFromFile(t *testing.T) {
	op, err := newPMFromFile(plugintypes.OperatorOptions{
		Arguments: "unix-shell.data",
		Path:      []string{"@owasp_crs"},
		Root:      coreruleset.FS,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !op.Evaluate(&capture{}, "x;/bin/bash -c id") {
		t.Error("bin/bash not found")
	}
	if op.Evaluate(&capture{}, "the garden club") {
		t.Error("benign text matched")
	}
	if _, err := newPMFromFile(plugintypes.OperatorOptions{Arguments: "missing.data", Path: []string{"@owasp_crs"}, Root: coreruleset.FS}); err == nil {
		t.Error("a missing file loaded")
	}
}

// BenchmarkResponsePage is php-errors.data (the largest list, run over
// every HTML response) over an 8 KiB benign page: the automaton against
// Coraza's matcher.
func BenchmarkResponsePage(b *testing.B) {
	data, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/php-errors.data")
	if err != nil {
		b.Fatal(err)
	}
	var phrases []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			phrases = append(phrases, strings.ToLower(l))
		}
	}
	page := strings.Repeat(benignPage, 8192/len(benignPage)+1)[:8192]
	m := newMatcher(phrases, false)
	ac := corazaAC(phrases, false)
	b.Run("mamori", func(b *testing.B) {
		for b.Loop() {
			m.dfa.Contains(page)
		}
	})
	b.Run("coraza", func(b *testing.B) {
		for b.Loop() {
			corazaMatch(ac, 0, page)
		}
	})
}
