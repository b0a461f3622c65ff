package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisTimeout bounds every Redis round trip (dial, read, write, waiting
// for a pooled connection): a dead or stalled Redis costs a request at
// most about this long before the guard applies its fail-open or
// fail-closed choice.
const RedisTimeout = 250 * time.Millisecond

// keyPrefix namespaces mamori's keys in a Redis database it may share.
const keyPrefix = "mamori:"

func init() {
	// go-redis prints every failed dial to stderr; mamori reports an
	// unreachable store in its own events instead, once per decision.
	redis.SetLogger(silentLogger{})
}

type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}

// Redis is the Store shared by several mamori instances behind one load
// balancer: revocations and failed-login counters written through one
// instance are seen by all. Every error from an unreachable or failing
// Redis is wrapped in ErrUnavailable.
type Redis struct {
	client *redis.Client
	url    string
}

// NewRedis connects to the Redis named by url
// (redis://[user:password@]host:port/db, rediss:// for TLS). It does not
// wait for Redis to answer: a Redis that is down at start is reported by
// the first call, like one that goes down later.
func NewRedis(url string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("state: %q is not a Redis URL: %w", RedactURL(url), err)
	}
	opt.DialTimeout = RedisTimeout
	opt.ReadTimeout = RedisTimeout
	opt.WriteTimeout = RedisTimeout
	opt.PoolTimeout = RedisTimeout
	opt.ContextTimeoutEnabled = true
	// One retry hides a connection Redis closed while idle; more would
	// multiply the stall when Redis is really down.
	opt.MaxRetries = 1
	opt.MinRetryBackoff = 10 * time.Millisecond
	opt.MaxRetryBackoff = 50 * time.Millisecond
	// go-redis retries a failed dial 5 times, 100 ms apart, by default: a
	// Redis that refuses connections would hold every request half a second.
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = 10 * time.Millisecond
	// Cluster maintenance push notifications are a Redis Cloud feature; off
	// so that a plain redis-server is never probed for them.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Redis{client: redis.NewClient(opt), url: url}, nil
}

// RedactURL hides the password of a Redis URL, for logs and errors.
func RedactURL(raw string) string {
	opt, err := redis.ParseURL(raw)
	if err != nil || opt.Password == "" {
		return raw
	}
	return fmt.Sprintf("redis://%s/%d (password hidden)", opt.Addr, opt.DB)
}

// Ping checks that Redis answers.
func (s *Redis) Ping(ctx context.Context) error {
	return unavailable(s.client.Ping(ctx).Err())
}

// unavailable wraps a Redis error in ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: redis: %v", ErrUnavailable, err)
}

// markScript sets a key with a time to live, never shortening an existing
// one (a second, shorter revocation must not let a session back in early).
var markScript = redis.NewScript(`
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1`)

// incrScript adds one and starts the window on the first increment, in
// one atomic step so that two instances counting at once agree.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {n, left}`)

// decrScript takes one off an existing, positive counter, keeping its
// time to live; it never creates a key or goes below zero.
var decrScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then
  redis.call('DECR', KEYS[1])
end
return 1`)

func millis(d time.Duration) int64 {
	if ms := d.Milliseconds(); ms > 0 {
		return ms
	}
	return 1
}

// Mark records key until ttl passes.
func (s *Redis) Mark(ctx context.Context, key string, ttl time.Duration) error {
	return unavailable(markScript.Run(ctx, s.client, []string{keyPrefix + key}, millis(ttl)).Err())
}

// Marked reports whether key is marked.
func (s *Redis) Marked(ctx context.Context, key string) (bool, error) {
	n, err := s.client.Exists(ctx, keyPrefix+key).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return n == 1, nil
}

// Incr adds one to the counter key within its window.
func (s *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, time.Duration, error) {
	res, err := incrScript.Run(ctx, s.client, []string{keyPrefix + key}, millis(ttl)).Int64Slice()
	if err != nil {
		return 0, 0, unavailable(err)
	}
	if len(res) != 2 {
		return 0, 0, unavailable(fmt.Errorf("unexpected reply %v", res))
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, nil
}

// Decr takes one off the counter key within its window.
func (s *Redis) Decr(ctx context.Context, key string) error {
	return unavailable(decrScript.Run(ctx, s.client, []string{keyPrefix + key}).Err())
}

// Count returns the counter's value and time left.
func (s *Redis) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	pipe := s.client.Pipeline()
	get := pipe.Get(ctx, keyPrefix+key)
	ttl := pipe.PTTL(ctx, keyPrefix+key)
	_, err := pipe.Exec(ctx)
	if errors.Is(err, redis.Nil) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, unavailable(err)
	}
	n, err := get.Int64()
	if err != nil {
		return 0, 0, unavailable(err)
	}
	left := ttl.Val()
	if left < 0 {
		left = 0
	}
	return n, left, nil
}

// Reset removes the counter key.
func (s *Redis) Reset(ctx context.Context, key string) error {
	return unavailable(s.client.Del(ctx, keyPrefix+key).Err())
}

// Close closes the connection pool.
func (s *Redis) Close() error { return s.client.Close() }

// String names the store for logs, password hidden.
func (s *Redis) String() string { return RedactURL(s.url) }

var _ Store = (*Redis)(nil)
