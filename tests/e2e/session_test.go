package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/state/redistest"
	"github.com/mamori-waf/mamori/tests/harness"
)

// The session guard (V8, B2) end to end: the built mamori in front of the
// upstream's fake Movable Type, which issues and checks its own mt_user
// sessions. Clients are told apart by X-Forwarded-For, which Caddy trusts
// from the loopback (trusted_proxies), so one test can play the user and
// the attacker on other networks.

// testSealKey is the seal key both instances of a shared-Redis test use.
const testSealKey = "c2Vzc2lvbi10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE="

var sessionCaddyfile = caddyfile(`	servers {
		trusted_proxies static 127.0.0.1/32
		client_ip_headers X-Forwarded-For
	}
	mamori {
		GLOBAL
	}
`, "profile movabletype\n\t\tSITE", "")

func sessionSite(t *testing.T, upstream, global, siteOptions string) *site {
	t.Helper()
	r := strings.NewReplacer("GLOBAL", global, "SITE", siteOptions)
	return &site{Mamori: harness.StartMamori(t, r.Replace(sessionCaddyfile), upstream), upstream: upstream}
}

// browser is one client: its network (X-Forwarded-For) and User-Agent.
type browser struct {
	ip, ua string
}

var (
	melody   = browser{"192.0.2.10", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}
	neighbor = browser{"192.0.2.99", melody.ua}                // same /24
	attacker = browser{"198.51.100.7", melody.ua}              // another network, copied User-Agent
	sameNet  = browser{"192.0.2.10", "python-requests/2.32.3"} // the user's network, another agent
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       20 * time.Second,
	// A connection accepted by the old server during a reload is closed
	// once idle: a POST reusing it would fail with no retry.
	Transport: &http.Transport{DisableKeepAlives: true},
}

// do sends a request as b, with exactly the cookies given.
func (b browser) do(t *testing.T, method, target, form string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	req.Header.Set("User-Agent", b.ua)
	// A browser's own form posts say they are same-origin (V7 CSRF guard).
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// cmsView is what the fake CMS says it received.
type cmsView struct {
	User    string            `json:"user"`
	Valid   bool              `json:"valid"`
	Cookies map[string]string `json:"cookies"`
	Form    map[string]string `json:"form"`
}

func readView(t *testing.T, resp *http.Response) cmsView {
	t.Helper()
	var v cmsView
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("status %d, not a CMS view: %s", resp.StatusCode, b)
	}
	return v
}

func mtURL(base, query string) string {
	if query == "" {
		return base + "/cgi-bin/mt/mt.cgi"
	}
	return base + "/cgi-bin/mt/mt.cgi?" + query
}

func loginForm(user, pass string) string {
	return url.Values{"username": {user}, "password": {pass}}.Encode()
}

// login logs b in through mamori and returns the sealed mt_user cookie.
func login(t *testing.T, base string, b browser, user, pass string) *http.Cookie {
	t.Helper()
	resp := b.do(t, "POST", mtURL(base, ""), loginForm(user, pass))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "mt_user" {
			return c
		}
	}
	t.Fatalf("login set no mt_user: %v", resp.Header.Values("Set-Cookie"))
	return nil
}

// sessionEvent is the part of a session or audit event the tests read.
type sessionEvent struct {
	TransactionID string `json:"transaction.id"`
	Action        string `json:"event.action"`
	Outcome       string `json:"event.outcome"`
	RuleID        string `json:"rule.id"`
	RuleName      string `json:"rule.name"`
	User          string `json:"user.name"`
	Ref           string `json:"mamori.session.ref"`
	SourceIP      string `json:"source.ip"`
	Verdict       string `json:"mamori.verdict"`
	Status        int    `json:"http.response.status_code"`
	UserAgent     string `json:"user_agent.original"`
}

// eventsFor polls the events log for the events of one request.
func eventsFor(t *testing.T, s *site, resp *http.Response) []sessionEvent {
	t.Helper()
	id := resp.Header.Get("X-Request-Id")
	var found []sessionEvent
	deadline := time.Now().Add(3 * time.Second)
	for {
		found = found[:0]
		for _, l := range s.ReadLines(t, "events.log") {
			var e sessionEvent
			if json.Unmarshal([]byte(l), &e) == nil && e.TransactionID == id {
				found = append(found, e)
			}
		}
		if len(found) > 0 || time.Now().After(deadline) {
			return found
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantEvent fails unless the request produced an event with this rule ID.
func wantEvent(t *testing.T, s *site, resp *http.Response, ruleID string) sessionEvent {
	t.Helper()
	evs := eventsFor(t, s, resp)
	for _, e := range evs {
		if e.RuleID == ruleID {
			return e
		}
	}
	t.Fatalf("no %s event for request %s; got %+v", ruleID, resp.Header.Get("X-Request-Id"), evs)
	return sessionEvent{}
}

// reloadWith rewrites a site's Caddyfile (old → new) and reloads it
// through the admin API.
func reloadWith(t *testing.T, s *site, old, new string) {
	t.Helper()
	bin, _ := harness.Binaries(t)
	b, err := os.ReadFile(s.Caddyfile)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("Caddyfile lacks %q (%v)", old, err)
	}
	if err := os.WriteFile(s.Caddyfile, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(bin, "reload", "--config", s.Caddyfile, "--adapter", "caddyfile", "--address", s.Admin); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
}

func TestSessionGuard(t *testing.T) {
	upstream := harness.Upstream(t)
	s := sessionSite(t, upstream, "seal_key "+testSealKey, `session {
			bind ip_prefix 24 64
			bind user_agent
			idle_timeout 1500ms
			absolute_timeout 4s
		}`)
	base := s.URL

	t.Run("login_seals_and_hardens_the_cookie", func(t *testing.T) {
		resp := melody.do(t, "POST", mtURL(base, ""), loginForm("melody", "Nelson-1999!"))
		line := resp.Header.Get("Set-Cookie")
		for _, want := range []string{"mt_user=m1.", "HttpOnly", "SameSite=Lax", "Path=/cgi-bin/mt/"} {
			if !strings.Contains(line, want) {
				t.Errorf("Set-Cookie %q lacks %q", line, want)
			}
		}
		if strings.Contains(line, "melody::") {
			t.Errorf("the upstream's session value reached the browser: %q", line)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("login response Cache-Control %q, want no-store (B2)", cc)
		}
		e := wantEvent(t, s, resp, "login-success")
		if e.User != "melody" || e.Outcome != "success" || e.Action != "login" || len(e.Ref) != 24 || e.SourceIP != melody.ip {
			t.Errorf("login event %+v", e)
		}
	})

	t.Run("sealed_cookie_reaches_the_upstream_opened", func(t *testing.T) {
		c := login(t, base, melody, "melody", "Nelson-1999!")
		resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)
		v := readView(t, resp)
		if !v.Valid || v.User != "melody" || !strings.HasPrefix(v.Cookies["mt_user"], "melody::") {
			t.Fatalf("upstream view %+v", v)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("authenticated page Cache-Control %q, want no-store", cc)
		}
		// Same /24, same browser: still the user (a DHCP lease change).
		if v := readView(t, neighbor.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)); !v.Valid {
			t.Errorf("same-prefix client refused: %+v", v)
		}
	})

	t.Run("fixation_planted_cookie_never_reaches_the_upstream", func(t *testing.T) {
		// The attacker has a real, valid upstream session value (logged in
		// to the CMS directly) and plants it in the victim's browser.
		direct := (browser{"127.0.0.1", "x"}).do(t, "POST", "http://"+upstream+"/cgi-bin/mt/mt.cgi", loginForm("admin", "correct-Horse-42"))
		var planted *http.Cookie
		for _, c := range direct.Cookies() {
			if c.Name == "mt_user" {
				planted = c
			}
		}
		if planted == nil || !strings.HasPrefix(planted.Value, "admin::") {
			t.Fatalf("no upstream session to plant: %v", direct.Header)
		}
		resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", planted, &http.Cookie{Name: "theme", Value: "dark"})
		v := readView(t, resp)
		if _, ok := v.Cookies["mt_user"]; ok || v.Valid || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("planted cookie reached the upstream: %+v", v)
		}
		if v.Cookies["theme"] != "dark" {
			t.Errorf("other cookies lost: %+v", v.Cookies)
		}
		e := wantEvent(t, s, resp, "session-forged")
		if e.Verdict != "blocked" || !strings.Contains(e.RuleName, "fixation") {
			t.Errorf("fixation event %+v", e)
		}
	})

	t.Run("hijack_refused", func(t *testing.T) {
		c := login(t, base, melody, "melody", "Nelson-1999!")
		for _, thief := range []browser{attacker, sameNet} {
			resp := thief.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)
			if v := readView(t, resp); v.Valid || v.Cookies["mt_user"] != "" {
				t.Errorf("stolen cookie replayed from %+v reached the upstream: %+v", thief, v)
			}
			e := wantEvent(t, s, resp, "session-binding")
			if e.User != "melody" || e.SourceIP != thief.ip {
				t.Errorf("hijack event %+v", e)
			}
		}
		// The rightful user is unaffected.
		if v := readView(t, melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)); !v.Valid {
			t.Errorf("the user lost the session: %+v", v)
		}
	})

	t.Run("replay_after_logout_refused", func(t *testing.T) {
		c := login(t, base, melody, "melody", "Nelson-1999!")
		// Another copy of the same session (say, a second tab's request
		// stolen earlier): the upstream will forget the session, but the
		// proxy must refuse the cookie on its own.
		out := melody.do(t, "GET", mtURL(base, "__mode=logout"), "", c)
		if got := out.Header.Get("Clear-Site-Data"); got != `"cookies", "storage"` {
			t.Errorf("logout Clear-Site-Data %q", got)
		}
		e := wantEvent(t, s, out, "logout")
		if e.User != "melody" || e.Action != "logout" || e.Ref == "" {
			t.Errorf("logout event %+v", e)
		}
		resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Errorf("revoked cookie reached the upstream: %+v", v)
		}
		if r := wantEvent(t, s, resp, "session-revoked"); r.Ref != e.Ref {
			t.Errorf("revoked event names session %q, logout %q", r.Ref, e.Ref)
		}
	})

	t.Run("expired_cookies_refused", func(t *testing.T) {
		idle := login(t, base, melody, "melody", "Nelson-1999!")
		active := login(t, base, melody, "melody", "Nelson-1999!")
		start := time.Now()
		idleChecked := false
		// The active session is used every 400 ms and refreshed by the
		// proxy (its idle clock restarts); the idle one is not used.
		for time.Since(start) < 4*time.Second+200*time.Millisecond {
			time.Sleep(400 * time.Millisecond)
			if !idleChecked && time.Since(start) > 2*time.Second {
				// Past the 1.5 s idle timeout, within the 4 s absolute one.
				idleChecked = true
				resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", idle)
				if v := readView(t, resp); v.Cookies["mt_user"] != "" {
					t.Errorf("idle cookie reached the upstream")
				}
				wantEvent(t, s, resp, "session-idle")
			}
			resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", active)
			v := readView(t, resp)
			if time.Since(start) < 3500*time.Millisecond && !v.Valid {
				t.Fatalf("active session dropped after %v", time.Since(start))
			}
			for _, c := range resp.Cookies() {
				if c.Name == "mt_user" {
					active = c
				}
			}
		}
		resp := melody.do(t, "GET", mtURL(base, "__mode=dashboard"), "", active)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Errorf("cookie past the absolute timeout reached the upstream")
		}
		wantEvent(t, s, resp, "session-expired")
	})

	t.Run("admin_path_is_no_store_even_anonymous", func(t *testing.T) {
		resp := melody.do(t, "GET", mtURL(base, "__mode=view"), "")
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("admin page Cache-Control %q", cc)
		}
		if cc := melody.do(t, "GET", base+"/page", "").Header.Get("Cache-Control"); cc == "no-store" {
			t.Errorf("a public page got no-store")
		}
	})

	t.Run("no_secret_in_any_log", func(t *testing.T) {
		for _, name := range []string{"events.log", "access.log"} {
			b, _ := os.ReadFile(filepath.Join(s.Dir, name))
			for _, secret := range []string{"Nelson-1999", "correct-Horse-42", "melody::", "admin::"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s holds %q", name, secret)
				}
			}
		}
	})
}

// TestSessionGuardReload: a Caddyfile reload keeps the sessions sealed
// before it and the revocations made before it (V8). Its own site with
// long timeouts: a reload takes seconds on a loaded machine, longer than
// TestSessionGuard's 1.5 s idle timeout, and the session must not expire
// for that reason while the test waits.
func TestSessionGuardReload(t *testing.T) {
	upstream := harness.Upstream(t)
	s := sessionSite(t, upstream, "seal_key "+testSealKey, `session {
			bind ip_prefix 24 64
			bind user_agent
			idle_timeout 1h
			absolute_timeout 2h
		}`)
	t.Run("reload_keeps_revocations_and_sessions", func(t *testing.T) {
		kept := login(t, s.URL, melody, "melody", "Nelson-1999!")
		gone := login(t, s.URL, melody, "melody", "Nelson-1999!")
		melody.do(t, "GET", mtURL(s.URL, "__mode=logout"), "", gone)
		reloadWith(t, s, "absolute_timeout 2h", "absolute_timeout 3h")
		if v := readView(t, melody.do(t, "GET", mtURL(s.URL, "__mode=dashboard"), "", kept)); !v.Valid {
			t.Errorf("a session was lost in the reload: %+v", v)
		}
		resp := melody.do(t, "GET", mtURL(s.URL, "__mode=dashboard"), "", gone)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Errorf("a revocation was forgotten in the reload")
		}
		wantEvent(t, s, resp, "session-revoked")
		reloadWith(t, s, "absolute_timeout 3h", "absolute_timeout 2h")
	})
}

// TestSessionSharedRedis: two mamori instances behind one (imaginary) load
// balancer share one real redis-server: a logout through one is honoured
// by the other, failed logins add up across both (B4, A1), and Redis
// killed mid-test gives each its configured behaviour and an event.
func TestSessionSharedRedis(t *testing.T) {
	upstream := harness.Upstream(t)
	redis := redistest.Start(t)
	global := "state " + redis.URL + "\n\t\tseal_key " + testSealKey
	a := sessionSite(t, upstream, global, "login_throttle 5 per 1m")
	b := sessionSite(t, upstream, global+"\n\t\tredis_failure open", "login_throttle 5 per 1m")

	t.Run("revoked_through_one_refused_by_the_other", func(t *testing.T) {
		c := login(t, a.URL, melody, "melody", "Nelson-1999!")
		if v := readView(t, melody.do(t, "GET", mtURL(b.URL, "__mode=dashboard"), "", c)); !v.Valid {
			t.Fatalf("a session sealed by one instance is refused by the other: %+v", v)
		}
		// Keep a copy, log out through b, replay the copy through a.
		melody.do(t, "GET", mtURL(b.URL, "__mode=logout"), "", c)
		resp := melody.do(t, "GET", mtURL(a.URL, "__mode=dashboard"), "", c)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Fatalf("revoked through b, accepted by a: %+v", v)
		}
		wantEvent(t, a, resp, "session-revoked")
	})

	t.Run("failed_logins_add_up_across_instances", func(t *testing.T) {
		// Per IP: five wrong passwords for various accounts, alternating
		// instances; the sixth attempt is refused by either.
		guesser := browser{"203.0.113.50", "hydra"}
		for i, inst := range []*site{a, b, a, b, a} {
			resp := guesser.do(t, "POST", mtURL(inst.URL, ""), loginForm([]string{"admin", "root", "melody", "editor", "mt"}[i], "guess"))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("failed login %d: status %d", i+1, resp.StatusCode)
			}
			if e := wantEvent(t, inst, resp, "login-failure"); e.Outcome != "failure" || e.User == "" {
				t.Errorf("failure event %+v", e)
			}
		}
		for _, inst := range []*site{b, a} {
			resp := guesser.do(t, "POST", mtURL(inst.URL, ""), loginForm("admin", "correct-Horse-42"))
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("sixth attempt: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if e := wantEvent(t, inst, resp, "login-throttled"); e.User != "admin" || e.Status != 429 {
				t.Errorf("throttle event %+v", e)
			}
		}
		// Per account: five wrong passwords for one account from five
		// networks (any spelling of its name).
		for i := 0; i < 5; i++ {
			from := browser{"198.18." + string(rune('1'+i)) + ".1", "spray"}
			inst := []*site{a, b}[i%2]
			if resp := from.do(t, "POST", mtURL(inst.URL, ""), loginForm([]string{"Carol", "carol"}[i%2], "wrong")); resp.StatusCode != http.StatusOK {
				t.Fatalf("account failure %d: status %d", i+1, resp.StatusCode)
			}
		}
		resp := (browser{"198.18.9.9", "spray"}).do(t, "POST", mtURL(b.URL, ""), loginForm("carol", "anything"))
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt on the account: status %d", resp.StatusCode)
		}
		// Another account from a clean network still logs in.
		if c := login(t, a.URL, browser{"198.19.0.1", "ok"}, "melody", "Nelson-1999!"); c == nil {
			t.Fatal("unrelated login refused")
		}
	})

	t.Run("parallel_burst_across_instances_gets_only_the_limit_through", func(t *testing.T) {
		burst := browser{"203.0.113.77", "burst"}
		statuses := make(chan int, 20)
		for i := 0; i < 20; i++ {
			go func() {
				inst := []*site{a, b}[i%2]
				req, _ := http.NewRequest("POST", mtURL(inst.URL, ""), strings.NewReader(loginForm(fmt.Sprint("user", i), "guess")))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", burst.ip)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				resp, err := noRedirect.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		count := map[int]int{}
		for i := 0; i < 20; i++ {
			count[<-statuses]++
		}
		if count[http.StatusOK] != 5 || count[http.StatusTooManyRequests] != 15 {
			t.Fatalf("20 parallel guesses through two instances: %v, want 5 × 200 and 15 × 429", count)
		}
	})

	t.Run("logout_after_reload_reaches_the_other_instance", func(t *testing.T) {
		c := login(t, a.URL, melody, "melody", "Nelson-1999!")
		reloadWith(t, a, "login_throttle 5 per 1m", "login_throttle 5 per 2m")
		melody.do(t, "GET", mtURL(a.URL, "__mode=logout"), "", c)
		resp := melody.do(t, "GET", mtURL(b.URL, "__mode=dashboard"), "", c)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Fatalf("logout through the reloaded instance not seen by the other: %+v", v)
		}
		wantEvent(t, b, resp, "session-revoked")
	})

	t.Run("redis_killed_mid_test", func(t *testing.T) {
		ca := login(t, a.URL, melody, "melody", "Nelson-1999!")
		cb := login(t, b.URL, melody, "melody", "Nelson-1999!")
		redis.Stop()

		// a (redis_failure closed): the session cannot be checked against
		// the revocation list, so it is dropped; a login cannot be counted,
		// so it is refused with 503.
		resp := melody.do(t, "GET", mtURL(a.URL, "__mode=dashboard"), "", ca)
		if v := readView(t, resp); v.Cookies["mt_user"] != "" {
			t.Errorf("closed: unchecked session reached the upstream")
		}
		if e := wantEvent(t, a, resp, "session-store-unavailable"); e.Verdict != "blocked" {
			t.Errorf("closed: event %+v", e)
		}
		resp = melody.do(t, "POST", mtURL(a.URL, ""), loginForm("melody", "Nelson-1999!"))
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("closed: login with Redis down got %d, want 503", resp.StatusCode)
		}
		wantEvent(t, a, resp, "login-throttle-unavailable")

		// b (redis_failure open): the session goes on, flagged; logins too.
		resp = melody.do(t, "GET", mtURL(b.URL, "__mode=dashboard"), "", cb)
		if v := readView(t, resp); !v.Valid {
			t.Errorf("open: session dropped with Redis down: %+v", v)
		}
		if e := wantEvent(t, b, resp, "session-store-unavailable"); e.Verdict != "flagged" {
			t.Errorf("open: event %+v", e)
		}
		resp = melody.do(t, "POST", mtURL(b.URL, ""), loginForm("melody", "Nelson-1999!"))
		if resp.StatusCode != http.StatusFound {
			t.Errorf("open: login with Redis down got %d, want 302", resp.StatusCode)
		}
		for _, inst := range []*site{a, b} {
			if out := inst.Proc.String(); strings.Contains(out, "panic") {
				t.Errorf("mamori panicked:\n%s", out)
			}
			if inst.Proc.Cmd.ProcessState != nil {
				t.Errorf("mamori exited")
			}
		}
	})
}

// TestSessionDefaultBindsBrowserFamily (issue 10 item 4): with the default
// binding, a sealed Movable Type cookie replayed from the user's /24 with
// another browser's User-Agent is dropped (the CMS gets no mt_user, an
// event says session-binding); the same browser after an update keeps
// the session.
func TestSessionDefaultBindsBrowserFamily(t *testing.T) {
	upstream := harness.Upstream(t)
	s := sessionSite(t, upstream, "seal_key "+testSealKey, "")
	base := s.URL
	c := login(t, base, melody, "melody", "Nelson-1999!")
	chrome := browser{neighbor.ip, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"}
	resp := chrome.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)
	if v := readView(t, resp); v.Valid || v.Cookies["mt_user"] != "" {
		t.Errorf("cookie replayed with another browser's User-Agent reached the upstream: %+v", v)
	}
	if e := wantEvent(t, s, resp, "session-binding"); e.User != "melody" || e.SourceIP != chrome.ip {
		t.Errorf("binding event %+v", e)
	}
	updated := browser{neighbor.ip, strings.ReplaceAll(melody.ua, "140.0", "141.0")}
	if v := readView(t, updated.do(t, "GET", mtURL(base, "__mode=dashboard"), "", c)); !v.Valid || v.User != "melody" {
		t.Errorf("the same browser after an update lost the session: %+v", v)
	}
}
