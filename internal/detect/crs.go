package detect

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// crsRule is one non-chained CRS attack rule, as its file writes it.
type crsRule struct {
	ID        int
	Level     int // paranoia level, from its tag
	Phase     string
	Variables string
	Operator  string   // as written between the quotes, escapes kept
	Actions   []string // as written, quotes kept
}

// crsFiles are the request rule files whose attack rules mamori reapplies.
var crsFiles = regexp.MustCompile(`^REQUEST-9(21|3[0-4]|4[1-4])-.*\.conf$`)

var (
	crsOnce  sync.Once
	crsRules []crsRule
	crsErr   error
)

// loadCRS parses CRS's request attack rules from the embedded rule set,
// once: SecRule lines with their continuations, split into variables,
// operator and actions.
func loadCRS() ([]crsRule, error) {
	crsOnce.Do(func() {
		entries, err := fs.ReadDir(coreruleset.FS, "@owasp_crs")
		if err != nil {
			crsErr = err
			return
		}
		for _, e := range entries {
			if !crsFiles.MatchString(e.Name()) {
				continue
			}
			b, err := fs.ReadFile(coreruleset.FS, path.Join("@owasp_crs", e.Name()))
			if err != nil {
				crsErr = err
				return
			}
			rules, err := parseRules(string(b))
			if err != nil {
				crsErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			crsRules = append(crsRules, rules...)
		}
		sort.Slice(crsRules, func(i, j int) bool { return crsRules[i].ID < crsRules[j].ID })
	})
	return crsRules, crsErr
}

// parseRules reads the SecRule directives of a rule file, dropping chained
// rules (the chain head and its links) and rules without an ID.
func parseRules(text string) ([]crsRule, error) {
	var out []crsRule
	var cur strings.Builder
	chained := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\"))
			continue
		}
		cur.WriteString(t)
		directive := cur.String()
		cur.Reset()
		if !strings.HasPrefix(directive, "SecRule ") {
			continue
		}
		args, err := splitArgs(strings.TrimPrefix(directive, "SecRule "))
		if err != nil || len(args) != 3 {
			return nil, fmt.Errorf("cannot parse %.80q", directive)
		}
		actions := splitActions(args[2])
		isChain := false
		r := crsRule{Variables: args[0], Operator: args[1]}
		for _, a := range actions {
			k, v, _ := strings.Cut(a, ":")
			switch k {
			case "chain":
				isChain = true
			case "id":
				r.ID, _ = strconv.Atoi(v)
			case "phase":
				r.Phase = v
			case "tag":
				if lvl, ok := strings.CutPrefix(strings.Trim(v, "'"), "paranoia-level/"); ok {
					r.Level, _ = strconv.Atoi(lvl)
				}
			}
		}
		r.Actions = actions
		link := chained
		chained = isChain
		if link || isChain || r.ID == 0 {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// splitArgs splits a directive's arguments: bare words or double-quoted
// strings with backslash escapes, which are kept as written.
func splitArgs(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\t':
			i++
		case s[i] == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote")
			}
			args = append(args, s[i+1:j])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			args = append(args, s[i:j])
			i = j
		}
	}
	return args, nil
}

// splitActions splits an action list at commas outside single quotes.
func splitActions(s string) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// isAttackRule reports a rule that scores a request (block and a
// severity), runs in phase 2 and reads ARGS.
func (r crsRule) isAttackRule() bool {
	block, severity := false, false
	for _, a := range r.Actions {
		switch {
		case a == "block":
			block = true
		case strings.HasPrefix(a, "severity:"):
			severity = true
		case strings.HasPrefix(a, "ctl:"), strings.HasPrefix(a, "skipAfter:"):
			return false
		}
	}
	return block && severity && r.Phase == "2" && strings.Contains(r.Variables, "ARGS")
}
