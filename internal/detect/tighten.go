package detect

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// A tightening replaces a CRS paranoia-level-1 rule by a tighter form of
// itself, the way 920470 (protocol.go) and the file-name rules
// (filenames.go) are replaced: same ID, variables, transformations and
// actions, loaded after SecRuleRemoveById of CRS's own. Each stops
// matching only inputs that cannot be the attack the rule exists for
// (docs/detection.md, "CRS rules mamori tightens", says why for each);
// mamori's copies of the rule (decoded, header, path) use the tightened
// operator too.
type tightening struct {
	id int
	// edits rewrite CRS's operator, in order. Each old text must occur
	// exactly once in it: a CRS upgrade that changes the rule makes Rules
	// fail, so that the replacement is looked at again.
	edits []edit
	// endNames makes every name of the command-name list that ends
	// CRS's expression end there (after the edits): a name not already
	// followed by a separator in CRS's expression must be followed by
	// notIdentifier. Names that end in a non-identifier character
	// ("docker-") and those CRS follows by a separator are left as they
	// are.
	endNames bool
	// unless, when set, is an expression that a matched value (after the
	// rule's transformations) matching it wholly does not count: the
	// replacement is chained to "SecRule MATCHED_VARS !@rx unless", so
	// the rule still matches when any one of its matched values is not
	// such an input.
	unless string
}

type edit struct{ old, new string }

// notIdentifier ends a name: the next character is none of an
// identifier's, or there is none. (Go's expressions have no look-ahead;
// \z, as Coraza's @rx matches $ at every line end.)
const notIdentifier = `(?:[^0-9A-Z_a-z]|\z)`

// tightenings are the CRS rules mamori tightens.
var tightenings = []tightening{
	// 930100 (path traversal) takes "?" for a dot ("/??/" as "/../"), so
	// the combo URLs of CDNs that serve several files in one response
	// ("/??/a/x.js,b/y.js": the path ends at the first "?") matched. No
	// file API or shell reads "??" as "..": globs never match "." or
	// "..", and a URL's query is no path. A match does not count when
	// the value is wholly such a URL: "/??" once, every other segment of
	// name characters with single dots between them (no "..", no "%",
	// backslash, other "?" or ":"), so every encoded or doubled-dot
	// traversal still matches.
	{id: 930100, unless: comboURL},
	// 932260 (Unix command with arguments) matches command names such as
	// "lastlog", "lastlogin" or "base64" with nothing after them, so
	// every identifier they begin matched at a value's or name's start
	// ("lastLoginType", a telemetry parameter of a cloud console). A
	// shell reads a command name up to a blank or an operator:
	// "lastloginType" runs no "lastlogin". Every name of the rule's list
	// must end there.
	{id: 932260, endNames: true},
	// 942290 (MongoDB operator injection) matches an operator's name with
	// nothing after it, so "$setOnce", "$login_aid" (as "$log"),
	// "$instance" (as "$in") and GraphQL's "$lastSeen" (as "$last")
	// matched. MongoDB recognises an operator by its exact name: a longer
	// name is not that operator. The name must end there ("$ne]",
	// "$ne\"", "$ne" at the end still match).
	{id: 942290, edits: []edit{{
		`|w(?:eek|here)|zip)\]?`,
		`|w(?:eek|here)|zip)\]?` + notIdentifier,
	}}},
	// 932370 (Windows command injection) takes its names from LOLBAS,
	// where "url" is the library url.dll (run as "rundll32
	// url.dll,OpenURL …"): cmd.exe and PowerShell run no "url" (a DLL is
	// no command without rundll32, which the list names itself). So
	// "type:resperr;url:/mp/…", a script's error report, matched. The
	// name must be written with its extension.
	{id: 932370, edits: []edit{{
		`|r[\"\^]*l|t[\"\^]*i[\"\^]*l`,
		`|r[\"\^]*l[\"\^]*\.[\"\^]*d[\"\^]*l[\"\^]*l|t[\"\^]*i[\"\^]*l`,
	}}},
	// 941170 (javascript:/data: URIs) and 941210 (obfuscated
	// "javascript:") match the no-op links pages write in href and
	// analytics scripts report ("javascript:void(0);", "javascript:;"):
	// a value that is wholly such a URI runs nothing. Any other text, a
	// call, an expression or a second statement still matches.
	{id: 941170, unless: javascriptNoop},
	{id: 941210, unless: javascriptNoop},
}

// comboURL is a whole value that is a path, "/??", and a list of paths:
// segments of name characters (letters, digits, _~,=&+@-) with single
// dots between them, and no "0x" (930100 reads 0x2e as a dot and 0x2f
// as a slash).
const comboURL = `\A(?:` + comboSegment + `)*/\?\?(?:` + comboSegment + `)*\z`

// comboSegment is "/", a name, and names after single dots.
const comboSegment = `/` + comboName + `(?:\.(?:[1-9A-Za-z_~,=&+@-]` + comboName + `|0+(?:[1-9A-WYZa-wyz_~,=&+@-]` + comboName + `)?))*`

// comboName is a run of name characters, maybe empty, in which no "0" is
// followed by "x" or "X".
const comboName = `(?:[1-9A-Za-z_~,=&+@-]|0+[1-9A-WYZa-wyz_~,=&+@-])*0*`

// javascriptNoop is a whole value that is a javascript: URI doing
// nothing: empty, ";", "void(0)" or "void 0", with blanks and a final
// semicolon. (\A and \z: Coraza's @rx matches ^ and $ at line ends.)
const javascriptNoop = `\A\s*(?i:javascript)\s*:\s*(?:void\s*(?:\(\s*0\s*\)|\s0)\s*)?;?\s*\z`

// tighten returns r with its tightened operator and the SecLang that
// replaces CRS's rule, or ok false when mamori does not tighten r.
func tighten(r crsRule) (out crsRule, rule string, ok bool, err error) {
	for _, t := range tightenings {
		if t.id != r.ID {
			continue
		}
		if r.Level != 1 {
			return r, "", false, fmt.Errorf("CRS rule %d is not at paranoia level 1: mamori's tightening of it must be looked at again", r.ID)
		}
		op := r.Operator
		for _, e := range t.edits {
			if n := strings.Count(op, e.old); n != 1 {
				return r, "", false, fmt.Errorf("CRS rule %d is not the one mamori tightens: %q occurs %d times", r.ID, e.old, n)
			}
			op = strings.Replace(op, e.old, e.new, 1)
		}
		if t.endNames {
			var err error
			if op, err = endNames(op); err != nil {
				return r, "", false, fmt.Errorf("CRS rule %d: %w", r.ID, err)
			}
		}
		r.Operator = op
		if t.unless == "" {
			return r, fmt.Sprintf("SecRule %s \"%s\" \"%s\"\n", r.Variables, op, strings.Join(r.Actions, ",")), true, nil
		}
		// A chain's head runs its non-disruptive actions on its own
		// match: the scores move to the chained rule, as CRS writes its
		// chains.
		var head, scores []string
		for _, a := range r.Actions {
			if strings.HasPrefix(a, "setvar:") {
				scores = append(scores, a)
			} else {
				head = append(head, a)
			}
		}
		return r, fmt.Sprintf("SecRule %s \"%s\" \"%s,chain\"\n\tSecRule MATCHED_VARS \"!@rx %s\" \"%s\"\n",
			r.Variables, op, strings.Join(head, ","), t.unless, strings.Join(append([]string{"t:none"}, scores...), ",")), true, nil
	}
	return r, "", false, nil
}

// listStart precedes the command-name list that ends CRS's generated
// command rules (932260): optional quotes and backslashes, then the list.
const listStart = `[\"'\x5c]*(?:`

// endNames rewrites the list that ends op (an "@rx (?i)…" operator) so
// that each of its names is followed by notIdentifier unless it already
// ends in a separator or a non-identifier character.
func endNames(op string) (string, error) {
	i := strings.LastIndex(op, listStart)
	if i < 0 || !strings.HasPrefix(op, "@rx (?i)") {
		return "", fmt.Errorf("no command-name list")
	}
	head, list := op[:i+len(listStart)-len("(?:")], op[i+len(listStart)-len("(?:"):]
	re, err := syntax.Parse("(?i)"+strings.ReplaceAll(list, `\"`, `"`), syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("command-name list: %w", err)
	}
	if re.Op != syntax.OpAlternate && re.Op != syntax.OpConcat {
		return "", fmt.Errorf("command-name list is a %v", re.Op)
	}
	notIdent, err := syntax.Parse(notIdentifier, syntax.Perl)
	if err != nil {
		return "", err
	}
	// Grouped: String writes a top-level alternation bare.
	out := "(?:" + endEach(re, notIdent).String() + ")"
	return head + strings.ReplaceAll(out, `"`, `\"`), nil
}

// endEach appends end to every way re can finish that does not end in a
// non-identifier character.
func endEach(re, end *syntax.Regexp) *syntax.Regexp {
	switch re.Op {
	case syntax.OpAlternate:
		if !anyEnds(re) {
			// No branch ends a name: end once, after the group.
			return &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{re, end}}
		}
		for i, s := range re.Sub {
			re.Sub[i] = endEach(s, end)
		}
		return re
	case syntax.OpCapture:
		re.Sub[0] = endEach(re.Sub[0], end)
		return re
	case syntax.OpConcat:
		last := re.Sub[len(re.Sub)-1]
		switch {
		case endsName(last):
			return re
		case last.Op == syntax.OpAlternate || last.Op == syntax.OpCapture || last.Op == syntax.OpConcat:
			re.Sub[len(re.Sub)-1] = endEach(last, end)
			return re
		}
		re.Sub = append(re.Sub, end)
		return re
	}
	if endsName(re) {
		return re
	}
	return &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{re, end}}
}

// endsName reports an expression whose matches end in a character that
// is no identifier's (a separator class, "docker-") or at a word
// boundary.
func endsName(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary:
		return true
	case syntax.OpLiteral:
		return len(re.Rune) > 0 && !isIdentifierRune(re.Rune[len(re.Rune)-1])
	case syntax.OpCharClass:
		// A class holding a separator is CRS's end of a name (some add
		// "_", "-" or "." to the separators: left as CRS writes them); a
		// class of identifier characters only ("python[23]") is not.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				if !isIdentifierRune(c) {
					return true
				}
			}
		}
		return false
	case syntax.OpRepeat:
		return re.Min > 0 && endsName(re.Sub[0])
	case syntax.OpPlus:
		return endsName(re.Sub[0])
	case syntax.OpConcat:
		return endsName(re.Sub[len(re.Sub)-1])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !endsName(s) {
				return false
			}
		}
		return true
	}
	return false
}

// anyEnds reports an expression some of whose matches may end as
// endsName says.
func anyEnds(re *syntax.Regexp) bool {
	if endsName(re) {
		return true
	}
	switch re.Op {
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if anyEnds(s) {
				return true
			}
		}
	case syntax.OpConcat, syntax.OpCapture, syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		return anyEnds(re.Sub[len(re.Sub)-1])
	}
	return false
}

func isIdentifierRune(c rune) bool {
	return c == '_' || c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))
}
