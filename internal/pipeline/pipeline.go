// Package pipeline is the shape of mamori's request handling (issue 10):
// every guard is a Stage that reads the request view (package request)
// and returns a Decision; the Caddy handler runs the stages in order
// (docs/design.md "A request's way through") and turns decisions into
// answers, events and access-log fields. No Caddy here: a stage is
// tested with a plain *http.Request and its view.
package pipeline

import (
	"context"
	"net/http"

	"github.com/mamori-waf/mamori/internal/request"
)

// Request is what a stage reads about one request.
type Request struct {
	// HTTP is the request: method, headers, Host, TLS. A stage reads the
	// path, parameters and cookies from View, never from HTTP.
	HTTP *http.Request
	// View is the request as the CMS will read it, built once.
	View *request.View
	// ClientIP is the real client (after trusted proxies).
	ClientIP string
	// ReadBody reads the form body into View once (from the WAF's
	// buffer when it holds it), for a stage that needs body fields; nil
	// before the WAF has read the body. Its error says the body could not
	// be read whole; what was read stays in View.
	ReadBody func() error
}

// Body reads the form body into View once (ReadBody), if the WAF has read
// it; nil when there is nothing to read yet.
func (r *Request) Body() error {
	if r.ReadBody == nil {
		return nil
	}
	return r.ReadBody()
}

// Decision is a stage's answer. The zero Decision lets the request go on.
type Decision struct {
	// Status refuses the request with this HTTP status; 0 lets it go on.
	Status int
	// Rule names what decided (the event's rule.id); Reason says why.
	Rule, Reason string
	// Header is set on the refusal (Allow for 405, Retry-After for 429).
	Header http.Header
	// Vary is added to the response's Vary header whatever the decision:
	// the answer depends on these request headers.
	Vary string
	// Notice, when set, answers the refusal with a page that tells the
	// user what to do (a password to change, when to try again) instead
	// of the block page.
	Notice func(lang string) (title, text string)
	// Enforce refuses even in detect mode (the store cannot count a
	// login, a body that stopped arriving); other refusals are reported
	// as "detected" in detect mode and the request goes on.
	Enforce bool
	// User is the account the request names, for events.
	User string
	// Flag reports Rule and Reason as a "flagged" event without refusing
	// (Status 0): something the operator should know, such as a store
	// that could not count a login while failing open.
	Flag bool
	// Events are more things the stage reports about the request, each
	// an event of its own, in order (the session stage reports every
	// cookie it dropped; the logout stage its audit record).
	Events []Event
	// Log adds access-log fields: name to values, logged as a list of
	// strings (mamori.session.dropped).
	Log map[string][]string
	// Rewrite replaces request headers before the request goes on: the
	// upstream and every later stage get these values (an empty list
	// removes the header). The view rereads the cookies when Cookie is
	// among them. The session stage restores the upstream's cookie values
	// this way and drops the cookies it refused.
	Rewrite http.Header
}

// Event is one more event a stage's decision reports besides its
// refusal or flag.
type Event struct {
	// Guard names the guard in the event; "" is the stage's name.
	Guard string
	// Verdict is the event's verdict: "blocked", "flagged" or "allowed"
	// (package events).
	Verdict string
	// Rule names what was found (the event's rule.id); Reason says it.
	Rule, Reason string
	// User is the account the event concerns, if known.
	User string
	// SessionRef is the session's reference, if any.
	SessionRef string
	// Action and Outcome, when Action is set, make the event an
	// authentication audit record ("logout", "success").
	Action, Outcome string
	// Status is the HTTP status the client got, when the event is about
	// the response (a login's outcome); 0 otherwise.
	Status int
}

// Refuses reports whether the decision refuses the request.
func (d Decision) Refuses() bool { return d.Status != 0 }

// Stage is one guard of the pipeline.
type Stage interface {
	// Name is the guard's name in events and the access log
	// (mamori.guard): "limits", "paths", "csrf", "password", ...
	Name() string
	// Decide judges the request. It must not write a response; the
	// handler does, from the decision.
	Decide(ctx context.Context, req *Request) Decision
}

// Func is a Stage from a name and a function.
type Func struct {
	// Guard is the stage's name.
	Guard string
	// F decides.
	F func(ctx context.Context, req *Request) Decision
}

// Name is the stage's name.
func (f Func) Name() string { return f.Guard }

// Decide calls F.
func (f Func) Decide(ctx context.Context, req *Request) Decision { return f.F(ctx, req) }

// Run runs the stages in order; apply gets every stage's decision and
// reports whether it answered the request (a refusal outside detect
// mode), which ends the run. Run reports whether the request was
// answered. Nil stages are skipped (a guard turned off).
func Run(ctx context.Context, req *Request, apply func(Stage, Decision) bool, stages ...Stage) bool {
	for _, s := range stages {
		if s == nil {
			continue
		}
		if apply(s, s.Decide(ctx, req)) {
			return true
		}
	}
	return false
}

// AmbiguousBody refuses, with 400 "ambiguous-multipart", a body the CMS
// reads differently from the WAF: a multipart part the CMS takes for a
// field is a file to the WAF, which did not inspect it as an argument
// (request.View.Ambiguous). It runs once the body is in the view.
var AmbiguousBody Stage = Func{Guard: "request", F: func(_ context.Context, req *Request) Decision {
	if req.View.Ambiguous == "" {
		return Decision{}
	}
	return Decision{Status: http.StatusBadRequest, Rule: "ambiguous-multipart", Reason: req.View.Ambiguous}
}}
