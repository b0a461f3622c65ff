// Package auth watches the CMS's logins and logouts (A2, S11) and throttles
// password guessing (B4). A login request is recognised from the profile
// (its path, method and form fields); its outcome from the response (the
// session cookie set, or a JSON token); each attempt becomes an audit
// event with the user name, client, outcome and a session reference,
// never the password. Failed attempts are counted per client IP and per
// account in the state store, so the limit holds across instances.
//
// What it does not defend against: password spraying spread over many IPs
// and accounts below both limits; credential stuffing with valid
// passwords; logins the profile does not describe (another form, XML-RPC).
package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/mamori-waf/mamori/internal/profile"
)

// MaxUserName is how much of a submitted user name an event keeps.
const MaxUserName = 256

// MaxCapture is how much of a JSON login answer is kept to judge it.
const MaxCapture = 64 << 10

// Attempt is a login request being made.
type Attempt struct {
	// Login is the profile's description of the request.
	Login *profile.Login
	// User is the submitted account name (truncated).
	User string
}

// Match returns the login attempt a request makes, or nil.
func Match(p *profile.Profile, method, urlPath string, params url.Values) *Attempt {
	for i := range p.Logins {
		l := &p.Logins[i]
		if l.MatchesMethod(method) && l.MatchesPath(urlPath) && l.MatchesParams(params) {
			user := params.Get(l.UserField)
			if len(user) > MaxUserName {
				user = user[:MaxUserName]
			}
			return &Attempt{Login: l, User: user}
		}
	}
	return nil
}

// Outcome of a login attempt.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	// OutcomeUnknown: the CMS failed (5xx); the attempt is audited but not
	// counted, so a broken CMS does not lock its users out.
	OutcomeUnknown = "unknown"
)

// Result is how a login attempt ended.
type Result struct {
	// Outcome is OutcomeSuccess, OutcomeFailure or OutcomeUnknown.
	Outcome string
	// Token is the value that identifies the new session ("" on failure):
	// a JSON login's token field. Callers hash it; it is never logged.
	Token string
}

// Judge decides a login's outcome from the response: the profile's success
// cookie set with a value (cookieSet, from the session guard or the
// Set-Cookie headers), or a 2xx JSON body holding the success field.
func (a *Attempt) Judge(status int, h http.Header, body []byte) Result {
	l := a.Login
	if l.SuccessCookie != "" {
		for _, line := range h.Values("Set-Cookie") {
			ck, err := http.ParseSetCookie(line)
			if err != nil || ck.Value == "" || ck.MaxAge < 0 {
				continue
			}
			if (profile.Cookie{Name: l.SuccessCookie}).Matches(ck.Name) {
				return Result{Outcome: OutcomeSuccess}
			}
		}
	}
	if l.SuccessJSONField != "" && status >= 200 && status < 300 {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) == nil {
			if raw, ok := obj[l.SuccessJSONField]; ok && string(raw) != "null" && string(raw) != `""` {
				return Result{Outcome: OutcomeSuccess, Token: strings.Trim(string(raw), `"`)}
			}
		}
	}
	if status >= 500 {
		return Result{Outcome: OutcomeUnknown}
	}
	return Result{Outcome: OutcomeFailure}
}

// Outcome is the login's result from the response the client got: status
// 0 (the CMS never answered) is OutcomeUnknown, else Judge decides.
func (a *Attempt) Outcome(status int, h http.Header, body []byte) Result {
	if status == 0 {
		return Result{Outcome: OutcomeUnknown}
	}
	return a.Judge(status, h, body)
}
