package session

import (
	"context"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// Verdicts of the events the session stages report (package events'
// values; events is not imported here).
const (
	verdictBlocked = "blocked"
	verdictFlagged = "flagged"
	verdictAllowed = "allowed"
)

// UnsealStage is the session guard's pipeline stage (V8, B2), one per
// request: it drops every cookie the CMS would read under a session
// cookie's name but that was sent under another spelling, opens the
// sealed session cookies (dropping forged, stolen, expired and revoked
// ones), and returns the Cookie header the upstream gets as the
// decision's Rewrite, one event per dropped cookie and the
// mamori.session.dropped access-log field. It never refuses.
type UnsealStage struct {
	// Guard is the session guard.
	Guard *Guard
	// Client is the request's client, for the binding check.
	Client Client
	// Presented is set by Decide: what the request's cookies held, for
	// the response (Outbound) and a logout (LogoutStage).
	Presented *Request
}

// Name is "session".
func (s *UnsealStage) Name() string { return "session" }

// Decide opens the request's session cookies; see UnsealStage.
func (s *UnsealStage) Decide(ctx context.Context, req *pipeline.Request) pipeline.Decision {
	var d pipeline.Decision
	// The guard works on a copy of the Cookie header; the handler puts
	// the result in the request (Rewrite).
	h := http.Header{}
	if values := req.HTTP.Header.Values("Cookie"); len(values) > 0 {
		h["Cookie"] = append([]string(nil), values...)
	}
	// A cookie the CMS reads under a session cookie's name but sent
	// under another spelling (mt%5Fuser, after a ",", PHP's "." for "_")
	// is never the proxy's sealed cookie: drop it.
	kept, disguised := req.View.DisguisedCookies(s.Guard.Governs)
	if len(disguised) > 0 {
		if len(kept) == 0 {
			h.Del("Cookie")
		} else {
			h.Set("Cookie", request.FormatCookieHeader(kept))
		}
	}
	for _, dc := range disguised {
		d.Events = append(d.Events, pipeline.Event{Verdict: verdictBlocked, Rule: "session-disguised",
			Reason: "cookie " + dc.Sent + " is read by the CMS as " + dc.Read + " (a session cookie under another spelling); removed"})
	}
	s.Presented = s.Guard.Inbound(ctx, h, s.Client)
	d.Rewrite = http.Header{"Cookie": h["Cookie"]} // the values the CMS will get
	if len(s.Presented.Findings) > 0 {
		reasons := make([]string, len(s.Presented.Findings))
		for i, f := range s.Presented.Findings {
			reasons[i] = f.Cookie + ":" + f.Reason
		}
		// The access-log line says which cookies were dropped and why.
		d.Log = map[string][]string{"mamori.session.dropped": reasons}
	}
	for _, f := range s.Presented.Findings {
		v := verdictBlocked
		if f.Kept {
			v = verdictFlagged
		}
		d.Events = append(d.Events, pipeline.Event{Verdict: v, Rule: "session-" + f.Reason, Reason: f.Describe(),
			User: f.User, SessionRef: f.Ref})
	}
	return d
}

// Private reports whether the request is for one of the profile's admin
// pages (by the path the CMS reads or the script it runs): its response
// gets no-store whatever its cookies.
func Private(p *profile.Profile, v *request.View) bool {
	return p != nil && (p.IsAdmin(v.Path) || p.IsAdmin(v.Script))
}

// LogoutStage recognises the profile's logout requests (by the script the
// path runs and the form the CMS reads) and revokes the sessions the
// request presented, so that a copy of the cookie taken before the logout
// is refused everywhere (B2). One per request; it never refuses. Its
// decision's events are the audit record "logout" (guard "auth") and,
// when the store could not record the revocation, "session-revoke-failed".
type LogoutStage struct {
	// Guard is the session guard; nil when it is off (the logout is still
	// audited).
	Guard *Guard
	// Profile says what a logout request is.
	Profile *profile.Profile
	// Presented is what UnsealStage found in the request's cookies; nil
	// without the session guard.
	Presented *Request
	// Logout is set by Decide when the request is a logout (the response
	// then gets Clear-Site-Data and no refreshed envelopes).
	Logout bool
}

// Name is "auth".
func (s *LogoutStage) Name() string { return "auth" }

// Decide recognises a logout and revokes its sessions; see LogoutStage.
func (s *LogoutStage) Decide(ctx context.Context, req *pipeline.Request) pipeline.Decision {
	if s.Profile == nil || !s.mayBeLogout(req.HTTP.Method, req.View.Script) {
		return pipeline.Decision{}
	}
	// Errors leave what was read: a body over the limit is refused by the
	// WAF (413) before it reaches the CMS.
	_ = req.Body()
	if !s.Profile.IsLogout(req.HTTP, req.View.Script, req.View.Values()) {
		return pipeline.Decision{}
	}
	s.Logout = true
	var user, ref string
	if s.Presented != nil {
		user = s.Presented.User
		for _, p := range s.Presented.Sessions {
			ref = p.Ref
		}
	}
	var d pipeline.Decision
	outcome := "success"
	if s.Presented != nil && s.Guard != nil {
		if err := s.Guard.Revoke(ctx, s.Presented); err != nil {
			// The CMS still ends its session; the proxy could not record
			// the revocation for the other instances.
			outcome = "failure"
			d.Events = append(d.Events, pipeline.Event{Guard: "session", Verdict: verdictFlagged,
				Rule: "session-revoke-failed", Reason: "logout not recorded: " + err.Error(), User: user, SessionRef: ref})
		}
	}
	d.Events = append(d.Events, pipeline.Event{Verdict: verdictAllowed, Rule: "logout", Reason: "logout",
		User: user, SessionRef: ref, Action: "logout", Outcome: outcome})
	return d
}

// mayBeLogout is the cheap test before reading a body: the method and
// path of one of the profile's logouts.
func (s *LogoutStage) mayBeLogout(method, script string) bool {
	for _, q := range s.Profile.Logouts {
		if q.MatchesMethod(method) && q.MatchesPath(script) {
			return true
		}
	}
	return false
}

var (
	_ pipeline.Stage = (*UnsealStage)(nil)
	_ pipeline.Stage = (*LogoutStage)(nil)
)
