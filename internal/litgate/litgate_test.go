package litgate

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// TestRequired checks the literals found for expressions like CRS's; a
// wrong set would be a missed attack, so each case is also checked against
// the regexp on matching inputs.
func TestRequired(t *testing.T) {
	tests := []struct {
		expr      string
		lits      []string // nil: no gate
		asciiOnly bool
		matches   []string
	}{
		{expr: `(?i)Dynamic SQL Error`, lits: []string{"dynamic sql error"}, asciiOnly: true, matches: []string{"x DYNAMIC sql ERROR y"}},
		{expr: `(?i)JET Database Engine|Access Database Engine`, lits: []string{"jet database engine", "access database engine"}, asciiOnly: true, matches: []string{"jEt database engine"}},
		{expr: `sleep\s*\(`, lits: []string{"sleep"}, matches: []string{"sleep   ("}},
		{expr: `<title>r57 Shell Version [0-9.]+</title>|<title>r57 shell</title>`, lits: []string{"shell version ", "shell</title>"}, matches: []string{"<title>r57 shell</title>"}},
		{expr: `(?i)\bORA-[0-9]{5}:|java\.sql\.SQLException`, lits: []string{"ora-", "java.sql.sqlexception"}, asciiOnly: true, matches: []string{"ORA-12345:"}},
		// k folds to the Kelvin sign: the gate holds on ASCII input only.
		{expr: `(?i)kill`, lits: []string{"kill"}, asciiOnly: true, matches: []string{"\u212Aill"}},
		{expr: `(?i)<script`, lits: []string{"<script"}, asciiOnly: true, matches: []string{"<ſcript"}},
		{expr: `ab`, lits: []string{"ab"}, matches: []string{"xaby"}},
		{expr: `a`}, // too short
		{expr: `(?:abc)?def|x[yz]w`, lits: []string{"def", "xyw", "xzw"}, matches: []string{"xzw"}},
		{expr: `(?:abc)?d|x[yz]w`}, // a branch without a literal of 2 bytes
		{expr: `\x{e9}t\x{e9}`},    // non-ASCII
		{expr: `(?:union)*select`, lits: []string{"select"}, matches: []string{"select"}},
		{expr: `a{0,3}bcd{2}`, lits: []string{"bcdd", "abcdd", "aabcdd", "aaabcdd"}, matches: []string{"aabcdd"}},
		{expr: `\$_(?:(?:pos|ge)t|session)\b`, lits: []string{"$_post", "$_get", "$_session"}, matches: []string{"$_get"}},
		{expr: `a[^b]c`}, // a negated class
		{expr: `(?i)DB2 SQL error|CLI Driver.*DB2`, lits: []string{"db2 sql error", "cli driver"}, asciiOnly: true, matches: []string{"CLI DRIVER x DB2"}},
		{expr: `(?:foo|bar){2,}`, lits: []string{"foo", "bar"}, matches: []string{"barfoo"}},
	}
	for _, tc := range tests {
		lits, asciiOnly, ok := required("(?sm)" + tc.expr)
		if tc.lits == nil {
			if ok {
				t.Errorf("%s: got %q, want no gate", tc.expr, lits)
			}
			continue
		}
		if !ok || strings.Join(lits, "|") != strings.Join(tc.lits, "|") || asciiOnly != tc.asciiOnly {
			t.Errorf("%s: got %q ascii-only %v (%v), want %q %v", tc.expr, lits, asciiOnly, ok, tc.lits, tc.asciiOnly)
			continue
		}
		re := regexp.MustCompile("(?sm)" + tc.expr)
		for _, m := range tc.matches {
			if !re.MatchString(m) {
				t.Fatalf("%s does not match %q", tc.expr, m)
			}
			nonASCII := strings.ContainsAny(m, "\u212A\u017F")
			found := false
			for _, l := range lits {
				found = found || strings.Contains(foldString(m), l)
			}
			if !found && !(asciiOnly && nonASCII) {
				t.Errorf("%s: the gate would reject %q, which matches", tc.expr, m)
			}
		}
	}
}

// fakeTx is a transaction with plugin state, as the Coraza patch gives.
type fakeTx struct {
	plugintypes.TransactionState
	state map[any]any
}

func (f *fakeTx) PluginState() map[any]any {
	if f.state == nil {
		f.state = map[any]any{}
	}
	return f.state
}

// TestGatePass: a long value without the literals is refused, with one
// (in any case) passes, a short value always passes, and a non-ASCII value
// passes an ASCII-only gate.
func TestGatePass(t *testing.T) {
	g := newGate([]string{"Needle-One", "needle-two"}, false)
	gk := newGate([]string{"kill"}, true)
	Prepare()
	tx := &fakeTx{}
	filler := strings.Repeat("plain text ", 20)
	tests := []struct {
		g    *Gate
		v    string
		want bool
	}{
		{g, filler, false},
		{g, filler + "NEEDLE-one", true},
		{g, "needle", true}, // short: not scanned
		{gk, filler + "é", false},
		{gk, filler + "\u212Aill", true},
		{gk, filler, false},
		{gk, filler + "KiLL", true},
		{nil, filler, true},
	}
	for _, tc := range tests {
		if got := tc.g.Pass(tx, tc.v); got != tc.want {
			t.Errorf("Pass(%.20q…) = %v, want %v", tc.v, got, tc.want)
		}
		// The cached scan gives the same answer.
		if got := tc.g.Pass(tx, tc.v); got != tc.want {
			t.Errorf("cached Pass(%.20q…) = %v, want %v", tc.v, got, tc.want)
		}
	}
	// A gate registered after the scan (a new rule set) rescans.
	g2 := newGate([]string{"plain text"}, false)
	if !g2.Pass(tx, filler) {
		t.Errorf("a gate added after the scan refused a value holding its literal")
	}
}

// TestExoticFolds: U+212A and U+017F are the only runes Unicode case
// folding matches to ASCII letters (k and s); Gate.exotic relies on it.
func TestExoticFolds(t *testing.T) {
	var got []rune
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < 0x80 {
				got = append(got, r)
				break
			}
		}
	}
	if len(got) != 2 || got[0] != 0x17F || got[1] != 0x212A {
		t.Fatalf("non-ASCII runes folding to ASCII: %U", got)
	}
	for r := rune('A'); r <= 'z'; r++ {
		if want := r == 'k' || r == 'K' || r == 's' || r == 'S'; foldsOutsideASCII(r) != want {
			t.Errorf("foldsOutsideASCII(%q) = %v", r, !want)
		}
	}
}

// TestGateScansByContent: a copy of a value (another address, the same
// bytes) reuses the first one's scan and gets the same answers; a prefix
// of a value (the same address, shorter) is a value of its own.
func TestGateScansByContent(t *testing.T) {
	g := newGate([]string{"needle-three"}, false)
	Prepare()
	tx := &fakeTx{}
	v := strings.Repeat("plain text ", 20) + "needle-three"
	c := strings.Clone(v)
	prefix := v[:len(v)-len("needle-three")]
	for _, tc := range []struct {
		v    string
		want bool
	}{{v, true}, {c, true}, {prefix, false}, {strings.Clone(prefix), false}} {
		if got := g.Pass(tx, tc.v); got != tc.want {
			t.Errorf("Pass(…%q, %d bytes) = %v, want %v", tc.v[len(tc.v)-12:], len(tc.v), got, tc.want)
		}
	}
	scans := tx.state[stateKey{}].(*txScans)
	if len(scans.byAddr) != 4 || len(scans.byContent) != 2 {
		t.Errorf("%d values by address, %d scans; want 4 and 2 (copies share a scan)", len(scans.byAddr), len(scans.byContent))
	}
}

// TestLongLiterals: a literal longer than maxLiteral is gated by its first
// maxLiteral bytes (a value holding only that prefix passes too: the
// operator decides), and a long value is scanned in lanes, so a literal
// across the border of two lanes' shares is found wherever it lies.
func TestLongLiterals(t *testing.T) {
	long := "<link rel='shortcut icon' href='data:image/png;base64," + strings.Repeat("ivborw0kggo", 20) + "'>"
	g := newGate([]string{long, "needle-four"}, false)
	Prepare()
	filler := strings.Repeat("plain text ", 600) // 6600 bytes: four lanes
	if len(filler) < 2*scanLanes*maxLiteral {
		t.Fatal("the filler is too short to be scanned in lanes")
	}
	for at := 0; at <= len(filler); at += 97 {
		for _, lit := range []string{long, strings.ToUpper(long[:maxLiteral]), "needle-four"} {
			v := filler[:at] + lit + filler[at:]
			if !g.Pass(&fakeTx{}, v) {
				t.Fatalf("%.20q… at %d of %d bytes: refused", lit, at, len(v))
			}
		}
		if v := filler[:at] + long[:maxLiteral-1] + filler[at:]; g.Pass(&fakeTx{}, v) {
			t.Fatalf("a value with less than the literal's first %d bytes passed", maxLiteral)
		}
	}
}
