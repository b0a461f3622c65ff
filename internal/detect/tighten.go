package detect

import (
	"fmt"
	"strings"
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
	// 932260 (Unix command with arguments) matches "lastlog" and
	// "lastlogin" with nothing after them, so every identifier they begin
	// matched at a value's or name's start ("lastLoginType", a
	// telemetry parameter of a cloud console). A shell reads a command
	// name up to a blank or an operator: "lastloginType" runs no
	// "lastlogin". The names must end there.
	{id: 932260, edits: []edit{{
		`|log(?:in)?)|ess(?:echo`,
		`|log(?:in)?` + notIdentifier + `)|ess(?:echo`,
	}}},
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
	// 941170 (javascript:/data: URIs) and 941210 (obfuscated
	// "javascript:") match the no-op links pages write in href and
	// analytics scripts report ("javascript:void(0);", "javascript:;"):
	// a value that is wholly such a URI runs nothing. Any other text, a
	// call, an expression or a second statement still matches.
	{id: 941170, unless: javascriptNoop},
	{id: 941210, unless: javascriptNoop},
}

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
