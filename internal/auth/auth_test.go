package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/state"
)

func TestParamsRestoresBody(t *testing.T) {
	body := "username=melody&password=Nelson-1999%21"
	r := httptest.NewRequest(http.MethodPost, "/cgi-bin/mt/mt.cgi?__mode=login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	params, err := Params(r)
	if err != nil || params.Get("username") != "melody" || params.Get("__mode") != "login" {
		t.Fatalf("Params = %v, %v", params, err)
	}
	rest, _ := io.ReadAll(r.Body)
	if string(rest) != body {
		t.Fatalf("the upstream would get %q", rest)
	}
	big := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("a="+strings.Repeat("x", MaxFormBody)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := Params(big); err == nil {
		t.Error("an oversize form was read")
	}
	if rest, _ := io.ReadAll(big.Body); len(rest) != MaxFormBody+2 {
		t.Errorf("oversize body not restored whole: %d bytes", len(rest))
	}
}

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
	steps := []struct {
		action  string // fail, ok, check
		ip      string
		user    string
		blocked bool
	}{
		{"check", "192.0.2.1", "melody", false},
		{"fail", "192.0.2.1", "melody", false},
		{"fail", "192.0.2.1", "Melody", false},
		{"fail", "192.0.2.2", "MELODY", false},
		{"check", "192.0.2.9", "melody", true},  // the account is over the limit, whatever the IP
		{"check", "192.0.2.1", "admin", false},  // the IP has 2: still allowed
		{"ok", "192.0.2.1", "melody", false},    // a success clears the account
		{"check", "192.0.2.9", "melody", false}, //
		{"fail", "192.0.2.1", "admin", false},   // the IP's third failure
		{"check", "192.0.2.1", "carol", true},   // the IP is over the limit for any account
	}
	for i, s := range steps {
		switch s.action {
		case "fail":
			err = th.Failed(ctx, s.ip, s.user)
		case "ok":
			err = th.Succeeded(ctx, s.user)
		case "check":
			var blocked bool
			var retry time.Duration
			blocked, retry, err = th.Check(ctx, s.ip, s.user)
			if blocked != s.blocked {
				t.Errorf("step %d: blocked %v, want %v", i, blocked, s.blocked)
			}
			if blocked && (retry <= 0 || retry > time.Minute) {
				t.Errorf("step %d: retry after %v", i, retry)
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if _, err := NewThrottle(ThrottleConfig{StoreFailure: "sometimes"}, state.NewMemory()); err == nil {
		t.Error("bad store failure accepted")
	}
}

func urlValues(q string) (map[string][]string, error) {
	r := httptest.NewRequest(http.MethodGet, "/?"+q, nil)
	return r.URL.Query(), nil
}
