package auth

import (
	"context"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/session"
)

// LoginStage recognises the profile's login requests (A2, S11, B4) on
// the request view: the method, the script the path runs (View.Script:
// /cgi-bin/mt//mt.cgi and /cgi-bin/mt/mt.cgi/ reach the same script and
// must not escape the throttle) and the form the CMS reads
// (View.Values, the body read once through ReadBody). One per request;
// it never refuses. Done judges the attempt from the response.
type LoginStage struct {
	// Profile says what a login request is.
	Profile *profile.Profile
	// Throttle settles the attempt's count in Done; nil when off.
	Throttle *Throttle
	// Attempt is set by Decide when the request is a login.
	Attempt *Attempt
}

// Name is "auth".
func (s *LoginStage) Name() string { return "auth" }

// Decide recognises a login; see LoginStage.
func (s *LoginStage) Decide(_ context.Context, req *pipeline.Request) pipeline.Decision {
	if s.Profile == nil || !s.mayBeLogin(req.HTTP.Method, req.View.Script) {
		return pipeline.Decision{}
	}
	// Errors leave what was read: a body over the limit is refused by the
	// WAF (413) before it reaches the CMS.
	_ = req.Body()
	s.Attempt = Match(s.Profile, req.HTTP.Method, req.View.Script, req.View.Values())
	return pipeline.Decision{}
}

// mayBeLogin is the cheap test before reading a body.
func (s *LoginStage) mayBeLogin(method, script string) bool {
	for _, l := range s.Profile.Logins {
		if l.MatchesMethod(method) && l.MatchesPath(script) {
			return true
		}
	}
	return false
}

// CaptureLimit is how many bytes of the response body Done needs to
// judge the attempt: MaxCapture for a login answered in JSON, else 0
// (the status and headers are enough).
func (s *LoginStage) CaptureLimit() int {
	if s.Attempt == nil || s.Attempt.Login.SuccessJSONField == "" {
		return 0
	}
	return MaxCapture
}

// Response is the answer a login attempt got, as the client got it.
type Response struct {
	// Status is the final status (0: the CMS never answered).
	Status int
	// Header holds the response's headers, Set-Cookie sealed.
	Header http.Header
	// Body is the start of the body (up to CaptureLimit bytes).
	Body []byte
	// Issued are the session cookies the session guard sealed in it.
	Issued []session.Issued
}

// Done judges the attempt from its response, settles the throttle's
// count (a success clears it, an unknown outcome is given back) and
// returns the audit record as the decision's events: "login-<outcome>"
// with the account and the new session's reference, after a flagged
// "login-throttle-unavailable" when the store could not settle it. The
// zero Decision when the request was no login.
func (s *LoginStage) Done(ctx context.Context, clientIP string, resp Response) pipeline.Decision {
	a := s.Attempt
	if a == nil {
		return pipeline.Decision{}
	}
	res := a.Outcome(resp.Status, resp.Header, resp.Body)
	ref := ""
	for _, is := range resp.Issued {
		if is.Ref != "" {
			ref = is.Ref
			break
		}
	}
	if ref == "" && res.Token != "" {
		ref = session.Ref(a.Login.SuccessJSONField, res.Token)
	}
	var d pipeline.Decision
	if s.Throttle != nil {
		if err := s.Throttle.Settle(ctx, clientIP, a.User, res.Outcome); err != nil {
			d.Events = append(d.Events, pipeline.Event{Verdict: verdictFlagged, Rule: "login-throttle-unavailable",
				Reason: "login " + res.Outcome + " not refunded: " + err.Error(), User: a.User, Status: resp.Status})
		}
	}
	d.Events = append(d.Events, pipeline.Event{Verdict: verdictAllowed, Rule: "login-" + res.Outcome,
		Reason: "login " + res.Outcome, User: a.User, SessionRef: ref, Action: "login", Outcome: res.Outcome,
		Status: resp.Status})
	return d
}

// Verdicts of the audit events (package events' values).
const (
	verdictFlagged = "flagged"
	verdictAllowed = "allowed"
)

var _ pipeline.Stage = (*LoginStage)(nil)
