package accesslog

import (
	"net"
	"net/http"

	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/verdict"
)

// Record is what one request's decisions put in its access line and in
// the mamori.* fields of Caddy's own access line: the strongest verdict
// with the guard and rule that gave it (package verdict), and the WAF's
// matched rules and anomaly scores. Guards note their verdicts as the
// request goes through (Note; Set for a refusal); the WAF's verdict
// goes in through WAF.
type Record struct {
	verdict.Outcome
	// RuleIDs are the WAF rules that matched, in match order.
	RuleIDs []int
	// Inbound and Outbound are CRS's blocking anomaly scores.
	Inbound, Outbound int
}

// WAF notes the WAF's verdict: its outcome (blocked, detected, flagged
// or allowed), the rule that names it (the interrupting rule, else the
// first match; "" when none matched), every matched rule and the scores.
// The WAF becomes the line's guard only when it blocked or detected: a
// flag below the threshold does not name a guard over another's.
func (r *Record) WAF(outcome, rule string, ruleIDs []int, inbound, outbound int) {
	if len(ruleIDs) > 0 {
		r.RuleIDs, r.Inbound, r.Outbound = ruleIDs, inbound, outbound
	}
	guard := ""
	if outcome == events.VerdictBlocked || outcome == events.VerdictDetected {
		guard = "waf"
	}
	r.Note(outcome, guard, rule)
}

// CaddyFields are mamori's fields in Caddy's own access line: the
// verdict once one is noted, the guard and rule when a guard decided,
// the WAF's rules and scores when rules matched.
func (r *Record) CaddyFields() []zap.Field {
	var f []zap.Field
	if r.Verdict != "" {
		f = append(f, zap.String("mamori.verdict", r.Verdict))
	}
	if r.Guard != "" {
		f = append(f, zap.String("mamori.guard", r.Guard), zap.String("mamori.rule", r.Rule))
	}
	if len(r.RuleIDs) > 0 {
		f = append(f, zap.Ints("mamori.rule_ids", r.RuleIDs),
			zap.Int("mamori.anomaly.inbound", r.Inbound), zap.Int("mamori.anomaly.outbound", r.Outbound))
	}
	return f
}

// NewLine is the line for a request: its method, protocol, Host, target
// as sent, User-Agent, headers (masked when written), TLS version and
// the connection's port. The caller adds the request ID, the real client
// IP (after trusted proxies), the record and the answer (Answered).
func NewLine(r *http.Request) Line {
	l := Line{
		Method: r.Method, Proto: r.Proto, Host: r.Host, RequestURI: r.RequestURI,
		UserAgent: r.UserAgent(), Header: r.Header,
	}
	_, l.ClientPort, _ = net.SplitHostPort(r.RemoteAddr)
	if r.TLS != nil {
		l.TLSVersion = r.TLS.Version
	}
	return l
}

// Answered records what the client got: status and body bytes as
// written (status 0: nothing was written), the handler chain's error and
// the status Caddy's error handling answers it with (written after the
// handler, so it is the line's status when nothing was written), and
// whether the response was cut short (CutShort: the chain unwound with a
// panic, or the request's context was cancelled).
func (l *Line) Answered(status int, bytes int64, err error, errStatus int, panicking, cancelled bool) {
	l.Status, l.ResponseBodyBytes, l.Err = status, bytes, err
	if status == 0 && err != nil {
		l.Status = errStatus
	}
	// The server cancels the request's context when the client goes
	// away, also after it has read the whole answer (issue 15).
	l.Aborted = CutShort(panicking, cancelled, status, err)
}
