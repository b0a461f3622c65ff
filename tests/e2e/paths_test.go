package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// pathsConfig protects a Movable Type whose admin is reachable only from
// 203.0.113.0/24; the test client (127.0.0.1) is outside it.
const pathsConfig = `mode block
		profile movabletype
		admin_allow 203.0.113.0/24
		paths {
			deny *.inc
			debug_param debug=1
		}`

// TestPathGuards (V5, V6, S1): admin paths from outside the allowed
// networks, never-served files in every spelling, debug switches and
// scripts under uploads are refused with an event, and none reaches the
// upstream.
func TestPathGuards(t *testing.T) {
	s := startPerimeterSite(t, pathsConfig)
	host := hostPort(s)
	tests := []struct {
		name, target, cookie string
		status               int
		rule                 string
	}{
		{"admin_from_outside_is_403", "/cgi-bin/mt/mt.cgi?__mode=dashboard", "", 403, "admin-network"},
		{"admin_encoded_from_outside_is_403", "/cgi-bin/mt/%6Dt.cgi", "", 403, "admin-network"},
		{"installer_is_404", "/cgi-bin/mt/mt-upgrade.cgi", "", 404, "installer"},
		{"wizard_double_slash_is_404", "/cgi-bin//mt/mt-wizard.cgi", "", 404, "installer"},
		{"mt_config_is_404", "/cgi-bin/mt/mt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_dot_segment", "/cgi-bin/mt/./mt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_encoded_letter", "/cgi-bin/mt/%6dt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_double_encoded", "/cgi-bin/mt/%256dt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_encoded_slash", "/cgi-bin/mt%2fmt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_backslash", "/cgi-bin/mt%5cmt-config.cgi", "", 404, "cms-denied"},
		{"mt_config_path_parameter", "/cgi-bin/mt/mt-config.cgi;.css", "", 404, "cms-denied"},
		{"mt_config_traversal", "/mt-static/../cgi-bin/mt/mt-config.cgi", "", 404, "cms-denied"},
		{"mt_check_is_404", "/cgi-bin/mt/mt-check.cgi?version=1", "", 404, "cms-denied"},
		{"git_config", "/.git/config", "", 404, "vcs"},
		{"svn_entries", "/blog/.svn/entries", "", 404, "vcs"},
		{"env", "/.env", "", 404, "hidden-file"},
		{"htaccess_encoded_dot", "/%2ehtaccess", "", 404, "hidden-file"},
		{"htpasswd", "/.htpasswd", "", 404, "hidden-file"},
		{"ds_store", "/mt-static/.DS_Store", "", 404, "hidden-file"},
		{"config_backup", "/cgi-bin/mt/mt-config.cgi.bak", "", 404, "backup"},
		{"editor_swap", "/index.html.swp", "", 404, "backup"},
		{"tilde_backup", "/index.php~", "", 404, "backup"},
		{"sql_dump", "/dump.sql", "", 404, "backup"},
		{"site_tarball", "/site.tar.gz", "", 404, "archive"},
		{"phpinfo", "/phpinfo.php", "", 404, "tool-page"},
		{"web_shell", "/mt-static/c99.php", "", 404, "web-shell"},
		{"upload_script", "/mt-static/support/uploads/evil.php", "", 404, "upload-script"},
		{"upload_double_extension", "/mt-static/support/uploads/evil.php.jpg", "", 404, "upload-script"},
		{"operator_deny_glob", "/lib/settings.inc", "", 404, "deny"},
		{"xdebug_param", "/echo?XDEBUG_SESSION_START=phpstorm", "", 403, "debug-switch"},
		{"xdebug_cookie", "/echo", "XDEBUG_SESSION=phpstorm", 403, "debug-switch"},
		{"phpinfo_param", "/echo?phpinfo", "", 403, "debug-switch"},
		{"profile_debug_switch", "/echo?debug=1", "", 403, "debug-switch"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marker := fmt.Sprintf("pth%02dx", i)
			target := tc.target + "?mk=" + marker
			if strings.Contains(tc.target, "?") {
				target = tc.target + "&mk=" + marker
			}
			raw := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", target, host)
			if tc.cookie != "" {
				raw += "Cookie: " + tc.cookie + "\r\n"
			}
			got := sendRaw(t, s, raw+"\r\n")
			if got.Status != tc.status {
				t.Fatalf("status %d, want %d", got.Status, tc.status)
			}
			expectRefusal(t, s, got.Status, got.Header, "paths", tc.rule, marker)
		})
	}

	t.Run("ordinary_requests_pass", func(t *testing.T) {
		for i, target := range []string{
			"/echo/2026/05/entry.html", "/mt-static/support/uploads/photo.jpg", "/mt-static/support/uploads/brochure.zip",
			"/.well-known/security.txt", "/cgi-bin/mt/mt-search.cgi?search=O%27Reilly", "/sitemap.xml.gz", "/echo?debug=0",
		} {
			marker := fmt.Sprintf("okp%02dx", i)
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			resp, err := http.Get(s.URL + target + sep + "mk=" + marker)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || upstreamSaw(t, s, marker) != 1 {
				t.Errorf("%s: status %d, upstream saw %d", target, resp.StatusCode, upstreamSaw(t, s, marker))
			}
		}
	})

	t.Run("directory_listing_is_replaced_by_404", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/autoindex/?mk=listing1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || strings.Contains(string(body), "Index of") || strings.Contains(string(body), "backup.sql") {
			t.Fatalf("status %d body %.300s\nevents %v", resp.StatusCode, body, s.ReadLines(t, "events.log"))
		}
		// The upstream answered (the listing exists); the client never saw it.
		if n := upstreamSaw(t, s, "listing1"); n != 1 {
			t.Errorf("upstream saw %d", n)
		}
		expectRefusal(t, s, 404, resp.Header, "paths", "directory-listing", "")
	})
}

// TestAdminAllowedFromItsNetwork: the same admin request from an allowed
// network reaches the upstream, and admin_deny_status 404 hides the
// admin path from others.
func TestAdminAllowedFromItsNetwork(t *testing.T) {
	s := startPerimeterSite(t, "mode block\n\t\tprofile movabletype\n\t\tadmin_allow 127.0.0.0/8 ::1")
	resp, err := http.Get(s.URL + "/cgi-bin/mt/mt.cgi?mk=adminok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The fake Movable Type answers 401 to a request without a session:
	// the upstream's own answer.
	if resp.StatusCode != http.StatusUnauthorized || upstreamSaw(t, s, "adminok") != 1 {
		t.Fatalf("status %d, upstream saw %d; want the upstream's 401", resp.StatusCode, upstreamSaw(t, s, "adminok"))
	}

	hidden := startPerimeterSite(t, "mode block\n\t\tprofile wordpress\n\t\tadmin_allow 203.0.113.0/24\n\t\tadmin_deny_status 404")
	for i, target := range []string{"/wp-login.php", "/wp-admin/", "/WP-ADMIN/../wp-admin/post.php"} {
		marker := fmt.Sprintf("wpadm%dx", i)
		resp, err := http.Get(hidden.URL + target + "?mk=" + marker)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("%s: status %d, want 404", target, resp.StatusCode)
		}
		expectRefusal(t, hidden, 404, resp.Header, "paths", "admin-network", marker)
	}
}

// TestPerimeterInDetectMode: like the WAF, the limits and path guards in
// detect mode let the request through and report what they would have
// refused.
func TestPerimeterInDetectMode(t *testing.T) {
	s := startPerimeterSite(t, "mode detect\n\t\tprofile movabletype\n\t\tadmin_allow 203.0.113.0/24\n\t\tlimits {\n\t\t\tbody 16\n\t\t}")
	tests := []struct {
		name, method, target, body string
		guard, rule                string
	}{
		{"denied_file", "GET", "/.git/config?mk=det1x", "", "paths", "vcs"},
		{"admin_from_outside", "GET", "/cgi-bin/mt/mt.cgi?mk=det2x", "", "paths", "admin-network"},
		{"method", "PROPFIND", "/echo?mk=det3x", "", "limits", "method"},
		{"chunked_body_over_the_limit", "POST", "/echo?mk=det4x", `"` + strings.Repeat("b", 40) + `"`, "limits", "body-size"},
		{"listing", "GET", "/autoindex/?mk=det5x", "", "paths", "directory-listing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = io.MultiReader(strings.NewReader(tc.body)) // chunked
			}
			req, _ := http.NewRequest(tc.method, s.URL+tc.target, body)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			marker := tc.target[strings.Index(tc.target, "mk=")+3:]
			if n := upstreamSaw(t, s, marker); n != 1 || resp.StatusCode == 403 || resp.StatusCode == 404 {
				t.Fatalf("status %d, upstream saw %d; want the upstream's answer", resp.StatusCode, n)
			}
			if tc.body != "" && !strings.Contains(string(got), strings.Repeat("b", 40)) {
				t.Errorf("upstream did not get the whole body: %.200s", got)
			}
			ev, ok := findLine[guardEvent](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			if !ok || ev.Guard != tc.guard || ev.RuleID != tc.rule || ev.Verdict != "detected" {
				t.Errorf("event %+v (found %v)", ev, ok)
			}
		})
	}
}
