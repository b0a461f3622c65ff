package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/state"
)

func TestMatchLogins(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	wp, _ := profile.Get("wordpress", profile.Options{})
	tests := []struct {
		name   string
		p      *profile.Profile
		method string
		path   string
		query  string
		user   string // "" = not a login
	}{
		{"mt_login", mt, "POST", "/cgi-bin/mt/mt.cgi", "username=melody&password=x", "melody"},
		{"mt_get_is_not_a_login", mt, "GET", "/cgi-bin/mt/mt.cgi", "username=melody&password=x", ""},
		{"mt_other_mode", mt, "POST", "/cgi-bin/mt/mt.cgi", "__mode=save&title=x", ""},
		{"mt_data_api", mt, "POST", "/cgi-bin/mt/mt-data-api.cgi/v6/authentication", "username=admin&password=x", "admin"},
		{"wp_login", wp, "POST", "/wp-login.php", "log=admin&pwd=x", "admin"},
		{"wp_other_path", wp, "POST", "/wp-admin/post.php", "log=admin&pwd=x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params, _ := urlValues(tt.query)
			a := Match(tt.p, tt.method, tt.path, params)
			got := ""
			if a != nil {
				got = a.User
			}
			if got != tt.user {
				t.Errorf("user %q, want %q", got, tt.user)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	cookieLogin := &Attempt{Login: &mt.Logins[0]}
	apiLogin := &Attempt{Login: &mt.Logins[1]}
	tests := []struct {
		name      string
		a         *Attempt
		status    int
		setCookie string
		body      string
		want      string
	}{
		{"cookie_set", cookieLogin, 302, "mt_user=m1.abc; Path=/; HttpOnly", "", OutcomeSuccess},
		{"form_again", cookieLogin, 200, "", "<p>Invalid login.</p>", OutcomeFailure},
		{"cookie_deleted", cookieLogin, 302, "mt_user=; Max-Age=0", "", OutcomeFailure},
		{"other_cookie", cookieLogin, 302, "mt_commenter=x", "", OutcomeFailure},
		{"json_token", apiLogin, 200, "", `{"accessToken":"tok123","sessionId":"s"}`, OutcomeSuccess},
		{"json_error", apiLogin, 401, "", `{"error":{"code":401}}`, OutcomeFailure},
		{"json_without_token", apiLogin, 200, "", `{"accessToken":null}`, OutcomeFailure},
		{"cms_error_is_not_a_failure", cookieLogin, 502, "", "Bad Gateway", OutcomeUnknown},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.setCookie != "" {
			h.Set("Set-Cookie", tt.setCookie)
		}
		if got := tt.a.Judge(tt.status, h, []byte(tt.body)).Outcome; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	th, err := NewThrottle(ThrottleConfig{Limit: 3, Window: Duration(time.Minute)}, state.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	// Each step is one login attempt and how the CMS answered it.
	steps := []struct {
		ip, user string
		outcome  string // what the CMS said, if it was asked
		blocked  bool
	}{
		{"192.0.2.1", "melody", OutcomeFailure, false},
		{"192.0.2.1", "Melody", OutcomeFailure, false},
		{"192.0.2.2", "MELODY", OutcomeFailure, false},
		{"192.0.2.9", "melody", "", true},             // the account is over the limit, whatever the IP
		{"192.0.2.1", "admin", OutcomeSuccess, false}, // the IP has 2 failures: still allowed; a success refunds it
		{"192.0.2.1", "bob", OutcomeUnknown, false},   // a CMS error is refunded
		{"192.0.2.1", "carol", OutcomeFailure, false}, // the IP's third failure
		{"192.0.2.1", "dave", "", true},               // the IP is over the limit for any account
		{"192.0.2.7", "admin", OutcomeSuccess, false}, // unrelated IP and account
	}
	for i, s := range steps {
		blocked, retry, err := th.Attempt(ctx, s.ip, s.user)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if blocked != s.blocked {
			t.Errorf("step %d: blocked %v, want %v", i, blocked, s.blocked)
		}
		if blocked && (retry <= 0 || retry > time.Minute) {
			t.Errorf("step %d: retry after %v", i, retry)
		}
		switch s.outcome {
		case OutcomeSuccess:
			err = th.Succeeded(ctx, s.ip, s.user)
		case OutcomeUnknown:
			err = th.Refund(ctx, s.ip, s.user)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if _, err := NewThrottle(ThrottleConfig{StoreFailure: "sometimes"}, state.NewMemory()); err == nil {
		t.Error("bad store failure accepted")
	}
}

// A burst of parallel guesses gets no more than the limit through: each
// attempt is counted before it reaches the CMS.
func TestThrottleParallelBurst(t *testing.T) {
	ctx := context.Background()
	th, _ := NewThrottle(ThrottleConfig{Limit: 5}, state.NewMemory())
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if blocked, _, err := th.Attempt(ctx, "203.0.113.9", "admin"); err == nil && !blocked {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 5 {
		t.Fatalf("%d of 50 parallel attempts allowed, want 5", allowed.Load())
	}
}

func urlValues(q string) (map[string][]string, error) {
	r := httptest.NewRequest(http.MethodGet, "/?"+q, nil)
	return r.URL.Query(), nil
}
