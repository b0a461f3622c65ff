package auth

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mamori-waf/mamori/internal/blockpage"
	"github.com/mamori-waf/mamori/internal/pipeline"
)

// ThrottleStage counts one recognised login attempt (Match, on the
// request view's script and parameters) and refuses it over the limit
// (B4). Its refusals hold in detect mode too: they are the brute-force
// protection itself, not a detection.
type ThrottleStage struct {
	// Throttle counts the attempts.
	Throttle *Throttle
	// FailOpen lets a login through (with a flagged event) when the
	// store cannot count it; otherwise it is refused with 503.
	FailOpen bool
	// Login is the request's login attempt.
	Login *Attempt
}

// Name is the login guard's name in events and the access log.
func (s *ThrottleStage) Name() string { return "auth" }

// Decide counts the attempt: 429 with Retry-After and a page saying when
// to try again over the limit; 503 (or a flagged event when failing
// open) when the store cannot count it.
func (s *ThrottleStage) Decide(ctx context.Context, req *pipeline.Request) pipeline.Decision {
	user := s.Login.User
	blocked, retry, err := s.Throttle.Attempt(ctx, req.ClientIP, user)
	if err != nil {
		if s.FailOpen {
			return pipeline.Decision{Flag: true, User: user, Rule: "login-throttle-unavailable",
				Reason: "failed logins cannot be counted (" + err.Error() + "); allowed (redis_failure open)"}
		}
		return pipeline.Decision{Status: http.StatusServiceUnavailable, Enforce: true, User: user,
			Rule: "login-throttle-unavailable", Header: http.Header{"Retry-After": {"30"}},
			Reason: "failed logins cannot be counted (" + err.Error() + "); refused (redis_failure closed)"}
	}
	if !blocked {
		return pipeline.Decision{}
	}
	secs := int((retry + time.Second - 1) / time.Second)
	return pipeline.Decision{Status: http.StatusTooManyRequests, Enforce: true, User: user, Rule: "login-throttled",
		Reason: fmt.Sprintf("more than %d failed logins in %v from this IP or for this account", s.Throttle.Limit(), s.Throttle.Window()),
		Header: http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}},
		// The page says when to try again, not that the request was blocked.
		Notice: func(lang string) (string, string) { return blockpage.TryAgain(lang, retry) }}
}

var _ pipeline.Stage = (*ThrottleStage)(nil)
