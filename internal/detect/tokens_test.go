package detect

import (
	"io/fs"
	"path"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

func TestRegexMatchesTokens(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`<script`, false},
		{`(?i)java\.lang\.(?:runtime|processbuilder)`, true},
		{`union.*?select`, true},
		{`\bunion\s+select\b`, false},
		{`[;|&]\s*id\b`, false},
		{`(?:^|[;|])\s*wget`, true}, // ^ then a token
		{`[^a-z]`, true},            // digits and "._~-" are tokens
		{`[\s"'<>]`, false},
		{`a*`, true},           // matches the empty string, so every value
		{`(?i)\x{212A}`, true}, // Kelvin sign folds to k
		{`(`, true},            // does not parse: judged able to match
	} {
		if got := regexMatchesTokens(tc.expr); got != tc.want {
			t.Errorf("regexMatchesTokens(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
	if !keywordsMatchTokens([]string{"?>", "phpinfo"}) || keywordsMatchTokens([]string{"?>", "<?php"}) {
		t.Error("keywordsMatchTokens")
	}
	if !operatorMatchesTokens("@detectSQLi") || !operatorMatchesTokens("@pmFromFile java-classes.data") {
		t.Error("libinjection and java-classes.data can match tokens")
	}
}

// The analysis cross-checked by matching: no rule the token gates skip
// matches any token built from the words of CRS (every data file, every
// literal of every pattern), as written and lowercased, alone and in
// runs joined by the token punctuation.
func TestTokenGateSound(t *testing.T) {
	crs, err := loadCRS()
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	addWords := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !tokenRune(r) }) {
			words[w] = true
			words[strings.ToLower(w)] = true
		}
	}
	entries, _ := fs.ReadDir(coreruleset.FS, "@owasp_crs")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".data") {
			b, _ := fs.ReadFile(coreruleset.FS, path.Join("@owasp_crs", e.Name()))
			addWords(string(b))
		}
	}
	var literals func(*syntax.Regexp)
	literals = func(re *syntax.Regexp) {
		if re.Op == syntax.OpLiteral {
			addWords(string(re.Rune))
		}
		for _, s := range re.Sub {
			literals(s)
		}
	}
	type gatedRule struct {
		id       int
		re       *regexp.Regexp
		anchored bool // tried on each word alone too
	}
	var gated []gatedRule
	for _, r := range crs {
		if !r.isAttackRule() || r.Level > 2 {
			continue
		}
		expr, ok := strings.CutPrefix(r.Operator, "@rx ")
		if !ok {
			continue
		}
		re, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			continue
		}
		literals(re.Simplify())
		if !r.matchesTokens() {
			gated = append(gated, gatedRule{r.ID, regexp.MustCompile(expr), strings.ContainsAny(expr, "^$")})
		}
	}
	for _, s := range signatureList {
		re, _ := syntax.Parse(s.pattern, syntax.Perl)
		literals(re.Simplify())
		if !s.matchesTokens() {
			gated = append(gated, gatedRule{s.id, regexp.MustCompile(s.pattern), strings.ContainsAny(s.pattern, "^$")})
		}
	}
	if len(gated) < 40 {
		t.Fatalf("only %d rules gated: the analysis is broken", len(gated))
	}
	// All words in runs joined by each token separator (a run is a
	// token too, and it holds every pair of neighbours), and each word
	// alone for the patterns with anchors.
	list := make([]string, 0, len(words))
	for w := range words {
		list = append(list, w)
	}
	var runs []string
	for _, sep := range []string{"", ".", "-", "_", "~"} {
		for i := 0; i < len(list); i += 200 {
			runs = append(runs, strings.Join(list[i:min(i+200, len(list))], sep))
		}
	}
	for _, g := range gated {
		values := runs
		if g.anchored {
			values = append(list, runs...)
		}
		for _, v := range values {
			if g.re.MatchString(v) {
				t.Errorf("gated rule %d matches the token %q", g.id, v)
				break
			}
		}
	}
}
