package state_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/state"
	"github.com/mamori-waf/mamori/internal/state/redistest"
)

// storeContract is what every Store must do, run against Memory and a
// real redis-server alike.
func storeContract(t *testing.T, s state.Store) {
	ctx := context.Background()
	t.Run("marks", func(t *testing.T) {
		if ok, err := s.Marked(ctx, "revoked:x"); ok || err != nil {
			t.Fatalf("unmarked key: Marked = %v, %v", ok, err)
		}
		if err := s.Mark(ctx, "revoked:x", time.Hour); err != nil {
			t.Fatal(err)
		}
		// A shorter second mark never shortens a revocation.
		if err := s.Mark(ctx, "revoked:x", time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if ok, err := s.Marked(ctx, "revoked:x"); !ok || err != nil {
			t.Fatalf("marked key: Marked = %v, %v", ok, err)
		}
		if err := s.Mark(ctx, "revoked:short", 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond)
		if ok, _ := s.Marked(ctx, "revoked:short"); ok {
			t.Fatal("mark outlived its ttl")
		}
	})
	t.Run("counters", func(t *testing.T) {
		steps := []struct {
			op        string
			wantCount int64
		}{
			{"incr", 1}, {"incr", 2}, {"count", 2}, {"incr", 3}, {"decr", 2}, {"reset", 0}, {"count", 0},
			{"decr", 0}, {"count", 0}, {"incr", 1}, {"decr", 0}, {"decr", 0},
		}
		for i, st := range steps {
			var n int64
			var left time.Duration
			var err error
			switch st.op {
			case "incr":
				n, left, err = s.Incr(ctx, "fail:user:melody", time.Minute)
			case "count":
				n, left, err = s.Count(ctx, "fail:user:melody")
			case "reset":
				err = s.Reset(ctx, "fail:user:melody")
			case "decr":
				if err = s.Decr(ctx, "fail:user:melody"); err == nil {
					n, left, err = s.Count(ctx, "fail:user:melody")
				}
			}
			if err != nil {
				t.Fatalf("step %d %s: %v", i, st.op, err)
			}
			if n != st.wantCount {
				t.Errorf("step %d %s: count %d, want %d", i, st.op, n, st.wantCount)
			}
			if n > 0 && (left <= 0 || left > time.Minute) {
				t.Errorf("step %d %s: time left %v not within the 1m window", i, st.op, left)
			}
		}
	})
	t.Run("window_expires", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if _, _, err := s.Incr(ctx, "fail:ip:192.0.2.7", 80*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(150 * time.Millisecond)
		if n, _, _ := s.Count(ctx, "fail:ip:192.0.2.7"); n != 0 {
			t.Fatalf("count %d after the window passed", n)
		}
		if n, _, _ := s.Incr(ctx, "fail:ip:192.0.2.7", time.Minute); n != 1 {
			t.Fatalf("a new window starts at %d, want 1", n)
		}
	})
	t.Run("concurrent_increments_add_up", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _ = s.Incr(ctx, "fail:ip:198.51.100.1", time.Minute)
			}()
		}
		wg.Wait()
		if n, _, _ := s.Count(ctx, "fail:ip:198.51.100.1"); n != 20 {
			t.Fatalf("count %d after 20 concurrent increments", n)
		}
	})
}

func TestMemoryContract(t *testing.T) { storeContract(t, state.NewMemory()) }

func TestRedisContract(t *testing.T) {
	srv := redistest.Start(t)
	s, err := state.NewRedis(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storeContract(t, s)
}

// Two instances' clients on one Redis see each other's writes (A1: shared
// state for instances behind one load balancer).
func TestRedisSharedBetweenClients(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := state.NewRedis(srv.URL)
	b, _ := state.NewRedis(srv.URL)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	_ = a.Mark(ctx, "revoked:s1", time.Minute)
	if ok, err := b.Marked(ctx, "revoked:s1"); !ok || err != nil {
		t.Fatalf("revocation through a not seen by b: %v, %v", ok, err)
	}
	_, _, _ = a.Incr(ctx, "fail:user:admin", time.Minute)
	if n, _, _ := b.Incr(ctx, "fail:user:admin", time.Minute); n != 2 {
		t.Fatalf("counts do not add up across clients: %d", n)
	}
}

// Redis killed mid-test: every call fails fast with ErrUnavailable, none
// panics, and the store works again once a Redis is back on the port.
func TestRedisKilledMidTest(t *testing.T) {
	srv := redistest.Start(t)
	s, err := state.NewRedis(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Mark(ctx, "revoked:before", time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	calls := map[string]func() error{
		"Mark":   func() error { return s.Mark(ctx, "revoked:k", time.Minute) },
		"Marked": func() error { _, err := s.Marked(ctx, "revoked:k"); return err },
		"Incr":   func() error { _, _, err := s.Incr(ctx, "fail:ip:k", time.Minute); return err },
		"Count":  func() error { _, _, err := s.Count(ctx, "fail:ip:k"); return err },
		"Reset":  func() error { return s.Reset(ctx, "fail:ip:k") },
		"Decr":   func() error { return s.Decr(ctx, "fail:ip:k") },
		"Ping":   func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, state.ErrUnavailable) {
			t.Errorf("%s with Redis down: err = %v, want ErrUnavailable", name, err)
		}
		// Not a timing assertion on speed, a bound on a stall: a dead
		// Redis must never hold a request for seconds.
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s with Redis down stalled %v", name, d)
		}
	}
}

func TestNewRedisRejectsBadURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", "::"} {
		if _, err := state.NewRedis(u); err == nil {
			t.Errorf("NewRedis(%q) accepted", u)
		}
	}
}

func TestRedactURLHidesPassword(t *testing.T) {
	got := state.RedactURL("redis://:s3cret@127.0.0.1:6379/2")
	if got == "" || contains(got, "s3cret") {
		t.Fatalf("RedactURL = %q", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
