package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Login and logout audit (A2, S11) and the login throttle (B4) on a
// single instance with the memory store, for WordPress and Movable Type's
// Data API; the shared-Redis cases are in session_test.go.

var wordpressCaddyfile = caddyfile("\tmamori {\n\t\tkey_file {DIR}/keys/seal.key\n\t}\n", "profile PROFILE\n\t\tTHROTTLE", "")

func auditSite(t *testing.T, upstream, profile, throttle string) *site {
	t.Helper()
	r := strings.NewReplacer("PROFILE", profile, "THROTTLE", throttle)
	return &site{Mamori: harness.StartMamori(t, r.Replace(wordpressCaddyfile), upstream), upstream: upstream}
}

const wpHash = "5d41402abc4b2a76b9719d911017c592"

func TestLoginAuditWordPress(t *testing.T) {
	s := auditSite(t, harness.Upstream(t), "wordpress", "login_throttle 3 per 1m")
	user := browser{"127.0.0.1", "Mozilla/5.0 audit"}
	wpLogin := func(name, pass string) *http.Response {
		return user.do(t, "POST", s.URL+"/wp-login.php", url.Values{"log": {name}, "pwd": {pass}, "rememberme": {"forever"}}.Encode())
	}

	t.Run("failure_is_audited", func(t *testing.T) {
		resp := wpLogin("admin", "Tr0ub4dor&3")
		e := wantEvent(t, s, resp, "login-failure")
		if e.User != "admin" || e.Outcome != "failure" || e.Action != "login" || e.SourceIP != "127.0.0.1" ||
			e.UserAgent != user.ua || e.Ref != "" || e.Status != http.StatusOK {
			t.Errorf("failure event %+v", e)
		}
	})

	var cookies []*http.Cookie
	t.Run("success_is_audited_and_both_cookies_sealed", func(t *testing.T) {
		resp := wpLogin("admin", "correct-Horse-42")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
		cookies = resp.Cookies()
		names := map[string]bool{}
		for _, c := range cookies {
			names[c.Name] = true
			if !strings.HasPrefix(c.Value, "m1.") || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %s not sealed and hardened: %+v", c.Name, c)
			}
		}
		if !names["wordpress_logged_in_"+wpHash] || !names["wordpress_sec_"+wpHash] {
			t.Fatalf("cookies %v", names)
		}
		e := wantEvent(t, s, resp, "login-success")
		if e.User != "admin" || e.Outcome != "success" || len(e.Ref) != 24 {
			t.Errorf("success event %+v", e)
		}
		// The admin screens work with the sealed cookies.
		admin := user.do(t, "GET", s.URL+"/wp-admin/", "", cookies...)
		if v := readView(t, admin); !v.Valid || v.User != "admin" {
			t.Errorf("wp-admin with sealed cookies: %+v", v)
		}
	})

	t.Run("logout_is_audited_and_clears_site_data", func(t *testing.T) {
		resp := user.do(t, "GET", s.URL+"/wp-login.php?action=logout", "", cookies...)
		if resp.Header.Get("Clear-Site-Data") != `"cookies", "storage"` {
			t.Errorf("Clear-Site-Data %q", resp.Header.Get("Clear-Site-Data"))
		}
		if e := wantEvent(t, s, resp, "logout"); e.User != "admin" || e.Ref == "" {
			t.Errorf("logout event %+v", e)
		}
		replay := user.do(t, "GET", s.URL+"/wp-admin/", "", cookies...)
		if replay.StatusCode != http.StatusFound {
			t.Errorf("replay after logout reached the admin: status %d", replay.StatusCode)
		}
		wantEvent(t, s, replay, "session-revoked")
	})

	t.Run("throttle_per_ip", func(t *testing.T) {
		guesser := browser{"127.0.0.1", "guesser"}
		// failure_is_audited counted one failure for this IP already.
		for i := 0; i < 2; i++ {
			resp := guesser.do(t, "POST", s.URL+"/wp-login.php", url.Values{"log": {fmt.Sprint("user", i)}, "pwd": {"x"}}.Encode())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("attempt %d: status %d", i+2, resp.StatusCode)
			}
		}
		resp := wpLogin("admin", "correct-Horse-42")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("fourth attempt: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// Issue 15: the page says when to try again, not "blocked".
		if page, _ := io.ReadAll(resp.Body); !regexp.MustCompile(`Try again in \d+ minutes?\.`).Match(page) || strings.Contains(string(page), "Request blocked") {
			t.Errorf("429 page does not say when to try again:\n%s", page)
		}
		// Refused before the CMS: no session cookie, no audit of an outcome.
		if len(resp.Cookies()) != 0 {
			t.Errorf("a throttled login reached the CMS: %v", resp.Cookies())
		}
		for _, e := range eventsFor(t, s, resp) {
			if e.RuleID == "login-success" || e.RuleID == "login-failure" {
				t.Errorf("throttled attempt audited as %s", e.RuleID)
			}
		}
		wantEvent(t, s, resp, "login-throttled")
	})

	t.Run("password_never_logged", func(t *testing.T) {
		for _, name := range []string{"events.log", "access.log"} {
			b, _ := os.ReadFile(filepath.Join(s.Dir, name))
			for _, secret := range []string{"Tr0ub4dor", "correct-Horse-42", "correct-Horse", "admin|"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s holds %q", name, secret)
				}
			}
		}
	})
}

func TestLoginAuditDataAPIAndThrottleOff(t *testing.T) {
	upstream := harness.Upstream(t)
	s := auditSite(t, upstream, "movabletype", "login_throttle off")
	client := browser{"127.0.0.1", "mt-data-api-client"}
	api := s.URL + "/cgi-bin/mt/mt-data-api.cgi/v6/authentication"

	resp := client.do(t, "POST", api, url.Values{"username": {"melody"}, "password": {"Nelson-1999!"}, "clientId": {"app"}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Data API login: %d", resp.StatusCode)
	}
	if e := wantEvent(t, s, resp, "login-success"); e.User != "melody" || len(e.Ref) != 24 {
		t.Errorf("Data API success event %+v", e)
	}
	// With the throttle off, ten failures in a row all reach the CMS (and
	// each is still audited).
	for i := 0; i < 10; i++ {
		resp := client.do(t, "POST", api, url.Values{"username": {"melody"}, "password": {"wrong"}}.Encode())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, resp.StatusCode)
		}
		if i == 9 {
			wantEvent(t, s, resp, "login-failure")
		}
	}
	// The generated key file is private.
	fi, err := os.Stat(filepath.Join(s.Dir, "keys", "seal.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key file: %v, %v", fi, err)
	}
}

// A restart with the generated key file keeps sessions: the cookie sealed
// before is opened after.
func TestGeneratedKeySurvivesRestart(t *testing.T) {
	upstream := harness.Upstream(t)
	keys := t.TempDir()
	conf := strings.Replace(sessionCaddyfile, "GLOBAL", "key_file "+filepath.Join(keys, "seal.key"), 1)
	conf = strings.Replace(conf, "SITE", "", 1)
	first := harness.StartMamori(t, conf, upstream)
	c := login(t, first.URL, melody, "melody", "Nelson-1999!")
	_ = first.Proc.Cmd.Process.Kill()
	_, _ = first.Proc.Cmd.Process.Wait()
	second := harness.StartMamori(t, conf, upstream)
	if v := readView(t, melody.do(t, "GET", mtURL(second.URL, "__mode=dashboard"), "", c)); !v.Valid {
		t.Fatalf("session lost across a restart: %+v", v)
	}
	// A fresh key file (another deployment) does not open it.
	other := strings.Replace(conf, filepath.Join(keys, "seal.key"), filepath.Join(t.TempDir(), "seal.key"), 1)
	third := harness.StartMamori(t, other, upstream)
	if v := readView(t, melody.do(t, "GET", mtURL(third.URL, "__mode=dashboard"), "", c)); v.Valid || v.Cookies["mt_user"] != "" {
		t.Fatalf("a cookie sealed with another key was accepted: %+v", v)
	}
}

// Bad session options fail `mamori validate` with the file and line.
func TestValidateSessionOptions(t *testing.T) {
	bin, _ := harness.Binaries(t)
	dir := t.TempDir()
	tests := []struct {
		name, caddyfile string
		want            []string
	}{
		{"bad_samesite", ":8080 {\n\tmamori {\n\t\tprofile movabletype\n\t\tsession {\n\t\t\tsamesite loose\n\t\t}\n\t}\n}\n", []string{"Caddyfile:5", "samesite"}},
		{"bad_throttle", ":8080 {\n\tmamori {\n\t\tprofile wordpress\n\t\tlogin_throttle 5 each 15m\n\t}\n}\n", []string{"Caddyfile:4", "login_throttle"}},
		{"throttle_without_profile", ":8080 {\n\tmamori {\n\t\tlogin_throttle 5 per 15m\n\t}\n}\n", []string{"needs a profile"}},
		{"bad_state", "{\n\tmamori {\n\t\tstate mongodb://x\n\t}\n}\n:8080 {\n\tmamori\n}\n", []string{"Caddyfile:3", "redis://"}},
		{"short_key", "{\n\tmamori {\n\t\tseal_key c2hvcnQ=\n\t}\n}\n:8080 {\n\tmamori\n}\n", []string{"Caddyfile:3", "32 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "Caddyfile")
			if err := os.WriteFile(path, []byte(tc.caddyfile), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := exec.Command(bin, "validate", "--config", path, "--adapter", "caddyfile").CombinedOutput()
			out := string(b)
			if err == nil {
				t.Fatalf("validate accepted a broken configuration:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Login attempts dressed up the ways Perl CGI and PHP still read as a
// login (";" separators, percent-encoded names, multipart, a padded body)
// are audited and counted like plain ones: the throttle cannot be dodged.
func TestThrottleSeesThroughEncodings(t *testing.T) {
	s := auditSite(t, harness.Upstream(t), "movabletype", "login_throttle 3 per 1m")
	target := mtURL(s.URL, "")
	send := func(contentType, body string) *http.Response {
		req, _ := http.NewRequest("POST", target, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	multipart := "--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nadmin\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nguess3\r\n--XyZ--\r\n"
	attempts := []struct{ name, contentType, body string }{
		{"semicolons_and_encoded_names", "application/x-www-form-urlencoded", "user%6Eame=admin;password=guess1"},
		{"padded_past_64KiB", "application/x-www-form-urlencoded", "note=" + strings.Repeat("a", 200<<10) + "&username=admin&password=guess2"},
		{"multipart", "multipart/form-data; boundary=XyZ", multipart},
	}
	for _, a := range attempts {
		resp := send(a.contentType, a.body)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("%s: throttled too early", a.name)
		}
		if e := wantEvent(t, s, resp, "login-failure"); e.User != "admin" {
			t.Errorf("%s: event %+v", a.name, e)
		}
	}
	resp := send("application/x-www-form-urlencoded", "username=admin&password=correct-Horse-42")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth attempt: status %d, want 429", resp.StatusCode)
	}
}
