// Package state is what mamori's guards remember between requests and
// share between instances: revoked sessions and expiring counters (failed
// logins). Memory is the default for one instance; Redis lets several
// instances behind one load balancer agree.
package state

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable wraps every error of a store that cannot be reached
// (Redis down); each guard then applies its configured fail-open or
// fail-closed choice.
var ErrUnavailable = errors.New("state store unavailable")

// Store is the state the guards share. Keys are namespaced by the caller
// ("revoked:<ref>", "fail:ip:<ip>"). Every method honours ctx.
type Store interface {
	// Mark records key until ttl passes (a revoked session).
	Mark(ctx context.Context, key string, ttl time.Duration) error
	// Marked reports whether key was marked and has not expired.
	Marked(ctx context.Context, key string) (bool, error)
	// Incr adds one to the counter key, starting a window of ttl when the
	// counter is new, and returns the new count and the window's time left.
	Incr(ctx context.Context, key string, ttl time.Duration) (count int64, left time.Duration, err error)
	// Count returns the counter's value and time left (0, 0 if absent).
	Count(ctx context.Context, key string) (count int64, left time.Duration, err error)
	// Decr takes one off the counter key, if it exists and is above zero,
	// keeping its window (a login attempt counted up front, refunded when
	// it succeeded).
	Decr(ctx context.Context, key string) error
	// Reset removes the counter key.
	Reset(ctx context.Context, key string) error
	// Close releases connections.
	Close() error
}
