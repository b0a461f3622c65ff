package state

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Store: the default for a single instance. It
// forgets everything at restart (revocations outlive no restart; sealed
// cookies still expire by their own timestamps).
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	marks   map[string]time.Time // key → expiry
	counts  map[string]counter
	sweepAt time.Time
}

type counter struct {
	n       int64
	expires time.Time
}

// maxMemoryKeys bounds the store so a flood of distinct keys (one per
// client IP in a throttle) cannot grow it without limit: past it, expired
// keys are swept at once, and if none expired the oldest window is dropped.
const maxMemoryKeys = 1 << 20

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{now: time.Now, marks: map[string]time.Time{}, counts: map[string]counter{}}
}

// sweep drops expired keys, at most once a minute unless the store is full.
func (m *Memory) sweep(now time.Time) {
	full := len(m.marks)+len(m.counts) >= maxMemoryKeys
	if !full && now.Before(m.sweepAt) {
		return
	}
	m.sweepAt = now.Add(time.Minute)
	for k, exp := range m.marks {
		if !now.Before(exp) {
			delete(m.marks, k)
		}
	}
	for k, c := range m.counts {
		if !now.Before(c.expires) {
			delete(m.counts, k)
		}
	}
	if len(m.marks)+len(m.counts) >= maxMemoryKeys {
		// Still full of live keys: drop the counter that expires first,
		// never a revocation (forgetting one would let a session back in).
		var oldest string
		var at time.Time
		for k, c := range m.counts {
			if oldest == "" || c.expires.Before(at) {
				oldest, at = k, c.expires
			}
		}
		delete(m.counts, oldest)
	}
}

// Mark records key until ttl passes.
func (m *Memory) Mark(_ context.Context, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	if exp, ok := m.marks[key]; !ok || exp.Before(now.Add(ttl)) {
		m.marks[key] = now.Add(ttl)
	}
	return nil
}

// Marked reports whether key is marked.
func (m *Memory) Marked(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.marks[key]
	return ok && m.now().Before(exp), nil
}

// Incr adds one to the counter key within its window.
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	c, ok := m.counts[key]
	if !ok || !now.Before(c.expires) {
		c = counter{expires: now.Add(ttl)}
	}
	c.n++
	m.counts[key] = c
	return c.n, c.expires.Sub(now), nil
}

// Count returns the counter's value and time left.
func (m *Memory) Count(_ context.Context, key string) (int64, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, ok := m.counts[key]
	if !ok || !now.Before(c.expires) {
		return 0, 0, nil
	}
	return c.n, c.expires.Sub(now), nil
}

// Decr takes one off the counter key within its window.
func (m *Memory) Decr(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.counts[key]; ok && c.n > 0 && m.now().Before(c.expires) {
		c.n--
		m.counts[key] = c
	}
	return nil
}

// Reset removes the counter key.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.counts, key)
	return nil
}

// Close does nothing.
func (m *Memory) Close() error { return nil }

var _ Store = (*Memory)(nil)
