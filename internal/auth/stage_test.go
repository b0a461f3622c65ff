package auth

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
	"github.com/mamori-waf/mamori/internal/state"
)

func mtLogin(t *testing.T) (*Attempt, *pipeline.Request) {
	t.Helper()
	mt, _ := profile.Get("movabletype", profile.Options{})
	a := Match(mt, "POST", "/cgi-bin/mt/mt.cgi", url.Values{"__mode": {"login"}, "username": {"alice"}, "password": {"x"}})
	if a == nil {
		t.Fatal("not a login")
	}
	r := httptest.NewRequest("POST", "/cgi-bin/mt/mt.cgi", nil)
	return a, &pipeline.Request{HTTP: r, View: request.New(r, request.CGI), ClientIP: "198.51.100.9"}
}

// The throttle stage: allowed up to the limit, then 429 with Retry-After
// and a notice, in detect mode too (Enforce); a success settles the count.
func TestThrottleStage(t *testing.T) {
	a, req := mtLogin(t)
	th, _ := NewThrottle(ThrottleConfig{Limit: 2, Window: Duration(time.Minute)}, state.NewMemory())
	s := &ThrottleStage{Throttle: th, Login: a}
	ctx := context.Background()
	for i := range 2 {
		if d := s.Decide(ctx, req); d.Refuses() {
			t.Fatalf("attempt %d refused: %+v", i, d)
		}
	}
	d := s.Decide(ctx, req)
	if d.Status != http.StatusTooManyRequests || d.Rule != "login-throttled" || !d.Enforce || d.Header.Get("Retry-After") == "" || d.Notice == nil || d.User != "alice" || s.Name() != "auth" {
		t.Fatalf("over the limit: %+v", d)
	}
	// A success clears the account's count: another IP may log in as
	// alice; the IP guessing keeps its count.
	if err := th.Settle(ctx, req.ClientIP, "alice", OutcomeSuccess); err != nil {
		t.Fatal(err)
	}
	other := *req
	other.ClientIP = "203.0.113.5"
	if d := s.Decide(ctx, &other); d.Refuses() {
		t.Fatalf("after a success, from another IP: %+v", d)
	}
}

// A store that cannot be reached: 503 (enforced) failing closed, a
// flagged event failing open.
func TestThrottleStageStoreDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	redis, err := state.NewRedis("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer redis.Close()
	th, _ := NewThrottle(ThrottleConfig{}, redis)
	a, req := mtLogin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := (&ThrottleStage{Throttle: th, Login: a}).Decide(ctx, req)
	if closed.Status != http.StatusServiceUnavailable || !closed.Enforce || closed.Header.Get("Retry-After") != "30" {
		t.Errorf("failing closed: %+v", closed)
	}
	open := (&ThrottleStage{Throttle: th, Login: a, FailOpen: true}).Decide(ctx, req)
	if open.Refuses() || !open.Flag || open.Rule != "login-throttle-unavailable" {
		t.Errorf("failing open: %+v", open)
	}
}

func TestOutcomeAndSettle(t *testing.T) {
	a, _ := mtLogin(t)
	if r := a.Outcome(0, nil, nil); r.Outcome != OutcomeUnknown {
		t.Errorf("no answer: %+v", r)
	}
	if r := a.Outcome(500, http.Header{}, nil); r.Outcome != OutcomeUnknown {
		t.Errorf("5xx: %+v", r)
	}
	th, _ := NewThrottle(ThrottleConfig{Limit: 1}, state.NewMemory())
	ctx := context.Background()
	for _, outcome := range []string{OutcomeUnknown, OutcomeSuccess} {
		if blocked, _, _ := th.Attempt(ctx, "192.0.2.1", "bob"); blocked {
			t.Fatalf("%s: blocked before settling", outcome)
		}
		if err := th.Settle(ctx, "192.0.2.1", "bob", outcome); err != nil {
			t.Fatal(err)
		}
	}
	// A failure stays counted: the next attempt is over the limit of 1.
	_, _, _ = th.Attempt(ctx, "192.0.2.1", "bob")
	_ = th.Settle(ctx, "192.0.2.1", "bob", OutcomeFailure)
	if blocked, _, _ := th.Attempt(ctx, "192.0.2.1", "bob"); !blocked {
		t.Error("a failure was given back")
	}
}
