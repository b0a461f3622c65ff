package password

import (
	"context"
	"errors"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// Stage applies the policy (B1, B4, A3) to the profile's password forms
// as a pipeline stage, after the WAF's request phases: it reads the form
// from the request view, on the path and on the script the path runs.
type Stage struct {
	// Checker is the compiled policy.
	Checker *Checker
	// Forms are the profile's password forms.
	Forms []profile.PasswordForm
}

// Name is the password policy's name in events and the access log.
func (s *Stage) Name() string { return "password" }

// Decide refuses a new password the policy rejects (422, with a page
// that says what to change), and a password form mamori cannot read
// whole (400, or 413 when too large): the CMS might read a password from
// what mamori cannot. The decision names the account the form is for.
func (s *Stage) Decide(_ context.Context, req *pipeline.Request) pipeline.Decision {
	r := req.HTTP
	urlPath := ""
	for _, p := range req.View.Paths() {
		if Candidate(s.Forms, r.Method, p) {
			urlPath = p
		}
	}
	if urlPath == "" || !IsForm(r.Header.Get("Content-Type")) {
		return pipeline.Decision{}
	}
	if err := req.Body(); err != nil {
		status, rule := http.StatusBadRequest, "password-form-malformed"
		if errors.Is(err, request.ErrBodyTooLarge) {
			status, rule = http.StatusRequestEntityTooLarge, "password-form-too-large"
		}
		return pipeline.Decision{Status: status, Rule: rule, Reason: err.Error()}
	}
	sub, ok := Find(s.Forms, r.Method, urlPath, req.View.Values(), req.View.HTTPCookies())
	if !ok {
		return pipeline.Decision{}
	}
	var d pipeline.Decision
	if len(sub.Users) > 0 {
		d.User = sub.Users[0]
	}
	for _, pw := range sub.Passwords {
		if v := s.Checker.Check(pw, sub.Users...); !v.OK() {
			d.Status, d.Rule, d.Reason = http.StatusUnprocessableEntity, v.Rule, v.Detail
			d.Notice = func(lang string) (string, string) { return s.Checker.Message(v.Rule, lang) }
			return d
		}
	}
	return d
}

var _ pipeline.Stage = (*Stage)(nil)
