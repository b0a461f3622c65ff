// Package verdict ranks the verdicts of one request's decisions and keeps
// the strongest, with the guard and rule that gave it: what the access
// line's mamori.verdict, mamori.guard and rule.id say. Several guards and
// the WAF decide about one request; a guard's detect-mode decision before
// the WAF must not be overwritten by the WAF's "allowed".
package verdict

import "github.com/mamori-waf/mamori/internal/events"

// Rank orders verdicts by strength: allowed < flagged < detected <
// blocked; an unknown or empty verdict ranks below all of them.
func Rank(v string) int {
	switch v {
	case events.VerdictAllowed:
		return 1
	case events.VerdictFlagged:
		return 2
	case events.VerdictDetected:
		return 3
	case events.VerdictBlocked:
		return 4
	}
	return 0
}

// Outcome is the strongest verdict noted for one request.
type Outcome struct {
	// Verdict is the strongest verdict noted ("" before the first).
	Verdict string
	// Guard and Rule gave Verdict (empty for "allowed").
	Guard, Rule string
}

// Note keeps verdict, with its guard and rule, when it is stronger than
// the one kept; an equal or weaker verdict changes nothing.
func (o *Outcome) Note(verdict, guard, rule string) {
	if Rank(verdict) <= Rank(o.Verdict) {
		return
	}
	o.Verdict = verdict
	if guard != "" && verdict != events.VerdictAllowed {
		o.Guard, o.Rule = guard, rule
	}
}

// Set replaces the outcome whatever was noted before: a refusal, which
// ends the request, or an answer mamori put in place of the upstream's.
func (o *Outcome) Set(verdict, guard, rule string) {
	o.Verdict, o.Guard, o.Rule = verdict, guard, rule
}

// Final is the access line's verdict: "allowed" when nothing was noted.
func (o *Outcome) Final() string {
	if o.Verdict == "" {
		return events.VerdictAllowed
	}
	return o.Verdict
}
