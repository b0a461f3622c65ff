package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-waf/mamori/internal/state"
)

// Defaults of the login throttle: 5 failures per 15 minutes, per client IP
// and per account (Movable Type's own lockout is 6 per user, 10 per IP in
// 30 minutes; the proxy's is stricter and holds across CMS instances).
const (
	DefaultLimit  = 5
	DefaultWindow = 15 * time.Minute
)

// ThrottleConfig is the login throttle's configuration.
type ThrottleConfig struct {
	// Off disables the throttle (a profile enables it by default).
	Off bool `json:"off,omitempty"`
	// Limit is how many failed logins are allowed per window, per client
	// IP and per account; the next attempt gets 429 (default 5). Attempts
	// in flight count until the CMS has answered.
	Limit int `json:"limit,omitempty"`
	// Window is the counting window, in nanoseconds or as "15m" (default 15m).
	Window Duration `json:"window,omitempty"`
	// StoreFailure is what a login attempt gets when the state store
	// (Redis) cannot count it: "closed" (503, default) or "open" (allowed,
	// with an event). Default: the global redis_failure, else "closed".
	StoreFailure string `json:"store_failure,omitempty"`
}

// Validate checks the configuration.
func (c *ThrottleConfig) Validate() error {
	if c.Limit < 0 || c.Window < 0 {
		return errors.New("login_throttle: limit and window must be positive")
	}
	switch c.StoreFailure {
	case "", "open", "closed":
	default:
		return fmt.Errorf("login_throttle: store failure must be open or closed, not %q", c.StoreFailure)
	}
	return nil
}

// Throttle counts failed logins in a state store.
type Throttle struct {
	limit  int64
	window time.Duration
	store  state.Store
}

// NewThrottle compiles a throttle.
func NewThrottle(c ThrottleConfig, store state.Store) (*Throttle, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	t := &Throttle{limit: int64(c.Limit), window: time.Duration(c.Window), store: store}
	if t.limit == 0 {
		t.limit = DefaultLimit
	}
	if t.window == 0 {
		t.window = DefaultWindow
	}
	return t, nil
}

// Limit and Window report the configuration in force.
func (t *Throttle) Limit() int64 { return t.limit }

// Window is the counting window.
func (t *Throttle) Window() time.Duration { return t.window }

func ipKey(ip string) string { return "login-fail:ip:" + ip }

// userKey folds case: CMS logins are usually case-insensitive, and an
// attacker must not get five tries per spelling.
func userKey(user string) string { return "login-fail:user:" + strings.ToLower(user) }

// Attempt counts a login attempt from ip for user before it reaches the
// CMS, and reports whether it is over the limit and how long until the
// window that blocks it passes. Attempts are counted up front, atomically
// in the store, so that a burst of parallel guesses cannot all slip in
// before the first failure is counted; Succeeded and Refund give back what
// was not a failure.
func (t *Throttle) Attempt(ctx context.Context, ip, user string) (blocked bool, retryAfter time.Duration, err error) {
	for _, k := range t.keys(ip, user) {
		n, left, err := t.store.Incr(ctx, k, t.window)
		if err != nil {
			return false, 0, err
		}
		if n > t.limit {
			blocked = true
			retryAfter = max(retryAfter, left)
		}
	}
	return blocked, retryAfter, nil
}

func (t *Throttle) keys(ip, user string) []string {
	keys := []string{ipKey(ip)}
	if user != "" {
		keys = append(keys, userKey(user))
	}
	return keys
}

// Succeeded gives the IP its attempt back and clears the account's count:
// colleagues behind one NAT address logging in do not add up, but one
// valid account does not reset the count of an IP guessing others.
func (t *Throttle) Succeeded(ctx context.Context, ip, user string) error {
	err := t.store.Decr(ctx, ipKey(ip))
	if user != "" {
		err = errors.Join(err, t.store.Reset(ctx, userKey(user)))
	}
	return err
}

// Refund gives back an attempt that was neither a success nor a failure
// (the CMS answered 5xx, or never answered).
func (t *Throttle) Refund(ctx context.Context, ip, user string) error {
	var errs []error
	for _, k := range t.keys(ip, user) {
		errs = append(errs, t.store.Decr(ctx, k))
	}
	return errors.Join(errs...)
}

// Settle books a login's outcome: every attempt was counted before it
// went to the CMS (Attempt), so a success clears the count (Succeeded),
// an unknown outcome is given back (Refund) and a failure stays counted.
func (t *Throttle) Settle(ctx context.Context, ip, user, outcome string) error {
	switch outcome {
	case OutcomeSuccess:
		return t.Succeeded(ctx, ip, user)
	case OutcomeUnknown:
		return t.Refund(ctx, ip, user)
	}
	return nil
}
