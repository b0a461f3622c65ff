package auth

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
	"github.com/mamori-waf/mamori/internal/session"
	"github.com/mamori-waf/mamori/internal/state"
)

// loginRequest is a form POST with its view; the body is read into the
// view through ReadBody, as the handler does from the WAF's buffer.
func loginRequest(dialect request.Dialect, method, target, form string) (*pipeline.Request, *int) {
	r := httptest.NewRequest(method, target, strings.NewReader(form))
	ct := "application/x-www-form-urlencoded"
	r.Header.Set("Content-Type", ct)
	v := request.New(r, dialect)
	reads := 0
	return &pipeline.Request{HTTP: r, View: v, ClientIP: "198.51.100.9", ReadBody: func() error {
		reads++
		return v.ReadBody(method, ct, strings.NewReader(form), 1<<20)
	}}, &reads
}

// The login stage recognises a login by the script the path runs, the
// method and the form the CMS reads; it reads the body only for a
// request that may be a login, and never refuses (B4, A2).
func TestLoginStageRecognises(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	wp, _ := profile.Get("wordpress", profile.Options{})
	tests := []struct {
		name     string
		p        *profile.Profile
		dialect  request.Dialect
		method   string
		target   string
		form     string
		user     string // "" for no login
		readBody bool
		capture  int
	}{
		{"mt_login", mt, request.CGI, "POST", "/cgi-bin/mt/mt.cgi", "__mode=login&username=alice&password=x", "alice", true, 0},
		// PATH_INFO and doubled slashes run the same script (issue 10 row 1).
		{"mt_login_path_info", mt, request.CGI, "POST", "/cgi-bin/mt/mt.cgi/", "username=alice;password=x", "alice", true, 0},
		{"mt_login_double_slash", mt, request.CGI, "POST", "/cgi-bin/mt//mt.cgi", "username=alice&password=x", "alice", true, 0},
		{"mt_data_api_json_answer", mt, request.CGI, "POST", "/cgi-bin/mt/mt-data-api.cgi/v4/authentication", "username=bob&password=x", "bob", true, MaxCapture},
		{"wp_login", wp, request.PHP, "POST", "/wp-login.php", "log=carol&pwd=x", "carol", true, 0},
		{"wp_login_path_info", wp, request.PHP, "POST", "/wp-login.php/x", "log=carol&pwd=x", "carol", true, 0},
		{"no_password_field", mt, request.CGI, "POST", "/cgi-bin/mt/mt.cgi", "username=alice", "", true, 0},
		{"get_is_no_login", mt, request.CGI, "GET", "/cgi-bin/mt/mt.cgi?username=alice&password=x", "", "", false, 0},
		{"other_script_body_unread", mt, request.CGI, "POST", "/cgi-bin/mt/mt-search.cgi", "username=alice&password=x", "", false, 0},
		{"no_profile", nil, request.Union, "POST", "/wp-login.php", "log=carol&pwd=x", "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, reads := loginRequest(tc.dialect, tc.method, tc.target, tc.form)
			s := &LoginStage{Profile: tc.p}
			if d := s.Decide(context.Background(), req); d.Refuses() || len(d.Events) > 0 {
				t.Fatalf("the login stage decided %+v", d)
			}
			got := ""
			if s.Attempt != nil {
				got = s.Attempt.User
			}
			if got != tc.user || (*reads > 0) != tc.readBody || s.CaptureLimit() != tc.capture || s.Name() != "auth" {
				t.Fatalf("user %q, body read %d, capture %d; want %q, %v, %d", got, *reads, s.CaptureLimit(), tc.user, tc.readBody, tc.capture)
			}
		})
	}
}

// Done judges the attempt from the response, settles the throttle's
// count and returns the audit record (A2, S11, B4).
func TestLoginStageDone(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	sealed := http.Header{"Set-Cookie": {"mt_user=SEALED; Path=/; HttpOnly"}}
	tests := []struct {
		name    string
		target  string
		resp    Response
		outcome string
		ref     string
		counted bool // the attempt stays counted in the throttle
	}{
		{"cookie_success_with_ref", "/cgi-bin/mt/mt.cgi",
			Response{Status: 302, Header: sealed, Issued: []session.Issued{{Name: "mt_blog_user"}, {Name: "mt_user", Ref: "abc"}}},
			OutcomeSuccess, "abc", false},
		{"no_cookie_is_failure", "/cgi-bin/mt/mt.cgi", Response{Status: 200, Header: http.Header{}}, OutcomeFailure, "", true},
		{"cms_error_is_unknown", "/cgi-bin/mt/mt.cgi", Response{Status: 502, Header: http.Header{}}, OutcomeUnknown, "", false},
		{"never_answered_is_unknown", "/cgi-bin/mt/mt.cgi", Response{}, OutcomeUnknown, "", false},
		{"json_token_ref", "/cgi-bin/mt/mt-data-api.cgi/v4/authentication",
			Response{Status: 200, Header: http.Header{}, Body: []byte(`{"accessToken":"T0K3N"}`)},
			OutcomeSuccess, session.Ref("accessToken", "T0K3N"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th, _ := NewThrottle(ThrottleConfig{Limit: 1, Window: Duration(time.Minute)}, state.NewMemory())
			req, _ := loginRequest(request.CGI, "POST", tc.target, "username=alice&password=x")
			s := &LoginStage{Profile: mt, Throttle: th}
			ctx := context.Background()
			s.Decide(ctx, req)
			if s.Attempt == nil {
				t.Fatal("not recognised")
			}
			if d := (&ThrottleStage{Throttle: th, Login: s.Attempt}).Decide(ctx, req); d.Refuses() {
				t.Fatalf("first attempt refused: %+v", d)
			}
			d := s.Done(ctx, req.ClientIP, tc.resp)
			if d.Refuses() || len(d.Events) != 1 {
				t.Fatalf("decision %+v", d)
			}
			e := d.Events[0]
			if e.Rule != "login-"+tc.outcome || e.Action != "login" || e.Outcome != tc.outcome || e.User != "alice" ||
				e.SessionRef != tc.ref || e.Verdict != "allowed" || e.Status != tc.resp.Status {
				t.Fatalf("audit event %+v", e)
			}
			blocked, _, _ := th.Attempt(ctx, req.ClientIP, "alice")
			if blocked != tc.counted {
				t.Fatalf("next attempt blocked %v, want %v", blocked, tc.counted)
			}
		})
	}
	// No login: nothing to report.
	if d := (&LoginStage{Profile: mt}).Done(context.Background(), "192.0.2.1", Response{Status: 200}); len(d.Events) != 0 {
		t.Fatalf("%+v", d)
	}
}

// A store that cannot settle a success: a flagged event before the audit.
func TestLoginStageDoneStoreDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	redis, err := state.NewRedis("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer redis.Close()
	th, _ := NewThrottle(ThrottleConfig{}, redis)
	mt, _ := profile.Get("movabletype", profile.Options{})
	req, _ := loginRequest(request.CGI, "POST", "/cgi-bin/mt/mt.cgi", "username=alice&password=x")
	s := &LoginStage{Profile: mt, Throttle: th}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Decide(ctx, req)
	d := s.Done(ctx, req.ClientIP, Response{Status: 302, Header: http.Header{"Set-Cookie": {"mt_user=x"}}})
	if len(d.Events) != 2 || d.Events[0].Rule != "login-throttle-unavailable" || d.Events[0].Verdict != "flagged" ||
		d.Events[1].Rule != "login-success" {
		t.Fatalf("%+v", d.Events)
	}
}
