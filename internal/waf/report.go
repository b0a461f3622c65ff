package waf

import (
	"net/http"
	"strconv"

	"github.com/mamori-waf/mamori/internal/events"
)

// Outcome classifies the verdict: blocked, detected (detect mode, would
// have blocked), flagged (rules matched below the threshold) or allowed.
func (v Verdict) Outcome() string {
	switch {
	case v.Interruption != nil:
		return events.VerdictBlocked
	case v.WouldInterrupt:
		return events.VerdictDetected
	case len(v.Matches) > 0:
		return events.VerdictFlagged
	}
	return events.VerdictAllowed
}

// RuleIDs lists the matched rules' IDs in match order.
func (v Verdict) RuleIDs() []int {
	ids := make([]int, len(v.Matches))
	for i, m := range v.Matches {
		ids[i] = m.ID
	}
	return ids
}

// Event is the security event for the verdict, nil for an allowed request.
// status is what the client got; matched values are truncated and redacted.
func (v Verdict) Event(r *http.Request, requestID, clientIP string, status int) *events.Event {
	outcome := v.Outcome()
	if outcome == events.VerdictAllowed {
		return nil
	}
	e := events.ForRequest(r, requestID, clientIP)
	e.Guard, e.Verdict, e.Status = "waf", outcome, status
	e.InboundScore, e.OutboundScore = v.InboundScore, v.OutboundScore
	e.Rules = make([]events.Rule, 0, len(v.Matches))
	for _, m := range v.Matches {
		e.Rules = append(e.Rules, events.Rule{
			ID:       m.ID,
			Message:  m.Message,
			Severity: m.Severity,
			Tags:     m.Tags,
			Phase:    m.Phase,
			Target:   m.Target,
			Match:    events.MatchValue(m.Target, m.Value),
			Data:     events.MatchValue(m.Target, m.Data),
		})
	}
	if i := v.decider(); i >= 0 {
		e.RuleID = strconv.Itoa(v.Matches[i].ID)
		e.RuleName = v.Matches[i].Message
	} else if v.Interruption != nil {
		e.RuleID = strconv.Itoa(v.Interruption.RuleID)
	}
	return e
}

// LogRule is the rule the access line names for the verdict: the one
// that interrupted, else the first match; "" when nothing matched.
func (v Verdict) LogRule() string {
	if v.Interruption != nil {
		return strconv.Itoa(v.Interruption.RuleID)
	}
	if len(v.Matches) > 0 {
		return strconv.Itoa(v.Matches[0].ID)
	}
	return ""
}

// decider is the index of the rule that decided: the one that interrupted,
// else the first disruptive one (detect mode), else the first match; -1 if
// nothing matched.
func (v Verdict) decider() int {
	for i, m := range v.Matches {
		if (v.Interruption != nil && m.ID == v.Interruption.RuleID) || (v.Interruption == nil && m.Disruptive) {
			return i
		}
	}
	if len(v.Matches) > 0 {
		return 0
	}
	return -1
}
