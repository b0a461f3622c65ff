package state

import (
	"context"
	"testing"
	"time"
)

// fakeClock lets window expiry be tested without sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestMemory() (*Memory, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	m := NewMemory()
	m.now = c.now
	return m, c
}

func TestMemoryMarks(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestMemory()
	if ok, _ := m.Marked(ctx, "revoked:a"); ok {
		t.Fatal("unmarked key reported marked")
	}
	_ = m.Mark(ctx, "revoked:a", time.Hour)
	// A shorter second mark never shortens a revocation.
	_ = m.Mark(ctx, "revoked:a", time.Minute)
	clock.t = clock.t.Add(59 * time.Minute)
	if ok, _ := m.Marked(ctx, "revoked:a"); !ok {
		t.Fatal("mark lost before its ttl")
	}
	clock.t = clock.t.Add(time.Minute)
	if ok, _ := m.Marked(ctx, "revoked:a"); ok {
		t.Fatal("mark outlived its ttl")
	}
}

func TestMemoryCounterWindows(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestMemory()
	steps := []struct {
		advance   time.Duration
		wantCount int64
		wantLeft  time.Duration
	}{
		{0, 1, 15 * time.Minute},
		{5 * time.Minute, 2, 10 * time.Minute},
		{9 * time.Minute, 3, time.Minute},
		{time.Minute, 1, 15 * time.Minute}, // the window passed: a new one starts
	}
	for i, s := range steps {
		clock.t = clock.t.Add(s.advance)
		n, left, err := m.Incr(ctx, "fail:ip:192.0.2.1", 15*time.Minute)
		if err != nil || n != s.wantCount || left != s.wantLeft {
			t.Errorf("step %d: Incr = %d, %v, %v; want %d, %v", i, n, left, err, s.wantCount, s.wantLeft)
		}
		if c, l, _ := m.Count(ctx, "fail:ip:192.0.2.1"); c != n || l != left {
			t.Errorf("step %d: Count = %d, %v; want %d, %v", i, c, l, n, left)
		}
	}
	_ = m.Reset(ctx, "fail:ip:192.0.2.1")
	if c, _, _ := m.Count(ctx, "fail:ip:192.0.2.1"); c != 0 {
		t.Errorf("Count after Reset = %d", c)
	}
}

func TestMemorySweepsExpiredKeys(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestMemory()
	for _, k := range []string{"a", "b", "c"} {
		_, _, _ = m.Incr(ctx, k, time.Minute)
		_ = m.Mark(ctx, "m"+k, time.Minute)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	_, _, _ = m.Incr(ctx, "d", time.Minute)
	if len(m.counts) != 1 || len(m.marks) != 0 {
		t.Errorf("after sweep: %d counters, %d marks; want 1, 0", len(m.counts), len(m.marks))
	}
}
