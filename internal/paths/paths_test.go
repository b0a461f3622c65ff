package paths

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

func mtGuard(t testing.TB, c Config) *Guard {
	t.Helper()
	p, err := profile.Get("movabletype", profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(c, p)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuard(t *testing.T) {
	base := Config{AdminAllow: []string{"203.0.113.0/24", "2001:db8::1"}}
	withAllow := base
	withAllow.Allow = []string{"/cgi-bin/mt/mt-upgrade.cgi", "/downloads/*.zip"}
	withAllow.Deny = []string{"*.inc", "/private/"}
	withAllow.DebugParams = []string{"debug=1"}
	withAllow.AdminDenyStatus = 404
	folded := base
	folded.CaseInsensitive = true
	open := Config{}
	const inside, outside = "203.0.113.7", "198.51.100.9"
	tests := []struct {
		name   string
		cfg    Config
		target string
		ip     string
		cookie string
		rule   string // "" passes
		status int
	}{
		{"admin_from_allowed_network_passes", base, "/cgi-bin/mt/mt.cgi?__mode=dashboard", inside, "", "", 0},
		{"admin_from_ipv6_allowed_address_passes", base, "/cgi-bin/mt/mt.cgi", "2001:db8::1", "", "", 0},
		{"admin_from_ipv4_mapped_allowed_passes", base, "/cgi-bin/mt/mt.cgi", "::ffff:203.0.113.7", "", "", 0},
		{"admin_from_elsewhere_is_403", base, "/cgi-bin/mt/mt.cgi", outside, "", "admin-network", 403},
		{"admin_encoded_from_elsewhere_is_403", base, "/cgi-bin/mt/%6dt.cgi", outside, "", "admin-network", 403},
		{"admin_with_path_param_from_elsewhere_is_403", base, "/cgi-bin/mt/mt.cgi;x", outside, "", "admin-network", 403},
		{"admin_deny_status_404", withAllow, "/cgi-bin/mt/mt.cgi", outside, "", "admin-network", 404},
		{"unparsable_client_is_outside", base, "/cgi-bin/mt/mt.cgi", "", "", "admin-network", 403},
		{"admin_open_without_allow_list", open, "/cgi-bin/mt/mt.cgi", outside, "", "", 0},
		{"public_page_passes", base, "/2026/05/entry.html", outside, "", "", 0},
		{"mt_config_is_404", open, "/cgi-bin/mt/mt-config.cgi", inside, "", "cms-denied", 404},
		{"mt_config_dot_segment", open, "/cgi-bin/mt/./mt-config.cgi", inside, "", "cms-denied", 404},
		{"mt_config_encoded_letter", open, "/cgi-bin/mt/%6dt-config.cgi", inside, "", "cms-denied", 404},
		{"mt_config_path_param", open, "/cgi-bin/mt/mt-config.cgi;.css", inside, "", "cms-denied", 404},
		{"mt_config_case_folded", folded, "/CGI-BIN/mt/MT-CONFIG.cgi", inside, "", "cms-denied", 404},
		{"mt_check_is_404", open, "/cgi-bin/mt/mt-check.cgi?version=1", inside, "", "cms-denied", 404},
		{"installer_denied_even_from_inside", base, "/cgi-bin/mt/mt-upgrade.cgi", inside, "", "installer", 404},
		{"installer_allowed_from_inside", withAllow, "/cgi-bin/mt/mt-upgrade.cgi", inside, "", "", 0},
		{"allowed_installer_still_needs_network", withAllow, "/cgi-bin/mt/mt-upgrade.cgi", outside, "", "admin-network", 404},
		{"git_config", open, "/.git/config", outside, "", "vcs", 404},
		{"git_dir_itself", open, "/.git/", outside, "", "vcs", 404},
		{"nested_svn", open, "/blog/.svn/entries", outside, "", "vcs", 404},
		{"hg_encoded", open, "/%2ehg/store", outside, "", "vcs", 404},
		{"env_file", open, "/.env", outside, "", "hidden-file", 404},
		{"env_variant", open, "/app/.env.production", outside, "", "hidden-file", 404},
		{"htaccess", open, "/.htaccess", outside, "", "hidden-file", 404},
		{"htpasswd_upper", open, "/.HTPASSWD", outside, "", "hidden-file", 404},
		{"ds_store", open, "/mt-static/.DS_Store", outside, "", "hidden-file", 404},
		{"well_known_passes", open, "/.well-known/acme-challenge/abc", outside, "", "", 0},
		{"bak", open, "/wp-config.php.bak", outside, "", "backup", 404},
		{"old", open, "/index.html.old", outside, "", "backup", 404},
		{"orig", open, "/cgi-bin/mt/mt-config.cgi.orig", outside, "", "backup", 404},
		{"tilde", open, "/index.php~", outside, "", "backup", 404},
		{"swp", open, "/.index.php.swp", outside, "", "backup", 404},
		{"sql_dump", open, "/db.sql", outside, "", "backup", 404},
		{"sql_gz_dump_even_in_uploads", open, "/mt-static/support/uploads/db.sql.gz", outside, "", "backup", 404},
		{"site_tarball", open, "/backup.tar.gz", outside, "", "archive", 404},
		{"site_zip", open, "/www.zip", outside, "", "archive", 404},
		{"zip_under_uploads_passes", open, "/mt-static/support/uploads/brochure.zip", outside, "", "", 0},
		{"zip_allowed_by_glob", withAllow, "/downloads/manual.zip", outside, "", "", 0},
		{"sitemap_gz_passes", open, "/sitemap.xml.gz", outside, "", "", 0},
		{"phpinfo", open, "/phpinfo.php", outside, "", "tool-page", 404},
		{"web_shell_c99", open, "/images/c99.php", outside, "", "web-shell", 404},
		{"web_shell_wso", open, "/wp-content/wso.php", outside, "", "web-shell", 404},
		{"web_shell_b374k_case", open, "/B374K.PHP", outside, "", "web-shell", 404},
		{"shell_name_as_image_passes", open, "/images/shell.png", outside, "", "", 0},
		{"script_under_uploads", open, "/mt-static/support/uploads/evil.php", outside, "", "upload-script", 404},
		{"double_extension_under_uploads", open, "/mt-static/support/uploads/evil.php.jpg", outside, "", "upload-script", 404},
		{"cgi_under_uploads", open, "/mt-static/support/uploads/x.cgi", outside, "", "upload-script", 404},
		{"image_under_uploads_passes", open, "/mt-static/support/uploads/photo.jpg", outside, "", "", 0},
		{"script_elsewhere_passes", open, "/cgi-bin/mt/mt-search.cgi?search=x", outside, "", "", 0},
		{"operator_deny_basename", withAllow, "/lib/config.inc", inside, "", "deny", 404},
		{"operator_deny_prefix", withAllow, "/private/report.pdf", inside, "", "deny", 404},
		{"xdebug_session_start", open, "/?XDEBUG_SESSION_START=phpstorm", outside, "", "debug-switch", 403},
		{"xdebug_encoded_name", open, "/?%58DEBUG_PROFILE=1", outside, "", "debug-switch", 403},
		{"xdebug_cookie", open, "/", outside, "a=b; XDEBUG_SESSION=1", "debug-switch", 403},
		{"phpinfo_param", open, "/index.php?phpinfo", outside, "", "debug-switch", 403},
		{"configured_debug_value", withAllow, "/?debug=1", inside, "", "debug-switch", 403},
		{"configured_debug_other_value_passes", withAllow, "/?debug=0", inside, "", "", 0},
		{"debug_word_in_value_passes", open, "/?q=xdebug_session", outside, "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := mtGuard(t, tc.cfg)
			r := httptest.NewRequest("GET", "http://example.com"+tc.target, nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", tc.cookie)
			}
			d := g.Check(request.New(r, request.Union), tc.ip)
			if tc.rule == "" {
				if d != nil {
					t.Fatalf("refused: %+v", d)
				}
				return
			}
			if d == nil || d.Rule != tc.rule || d.Status != tc.status {
				t.Fatalf("got %+v, want %s %d", d, tc.rule, tc.status)
			}
		})
	}
}

func TestWordPressPublicAdminPathsStayOpen(t *testing.T) {
	p, _ := profile.Get("wordpress", profile.Options{})
	g, err := New(Config{AdminAllow: []string{"203.0.113.0/24"}}, p)
	if err != nil {
		t.Fatal(err)
	}
	for target, rule := range map[string]string{
		"/wp-admin/admin-ajax.php?action=load_more": "",
		"/wp-admin/admin-post.php":                  "",
		"/wp-admin/post.php?post=1&action=edit":     "admin-network",
		"/wp-login.php":                             "admin-network",
		"/wp-admin/install.php":                     "installer",
		"/wp-config.php":                            "cms-denied",
	} {
		d := g.Check(request.New(httptest.NewRequest("GET", "http://example.com"+target, nil), request.Union), "198.51.100.9")
		if (d == nil && rule != "") || (d != nil && d.Rule != rule) {
			t.Errorf("%s: %+v, want %q", target, d, rule)
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{
		{AdminAllow: []string{"203.0.113.0/33"}},
		{AdminAllow: []string{"example.com"}},
		{AdminDenyStatus: 500},
		{Deny: []string{"[a-"}},
		{UploadPaths: []string{"uploads"}},
		{DirectoryListings: "maybe"},
		{DebugParams: []string{"=1"}},
	} {
		if _, err := New(c, nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestIsListing(t *testing.T) {
	files, err := filepath.Glob("testdata/listings/*.html")
	if err != nil || len(files) != 4 {
		t.Fatalf("listings: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > ListingPrefix {
			b = b[:ListingPrefix]
		}
		if !IsListing(b) {
			t.Errorf("%s: not detected", f)
		}
	}
	iis := `<html><head><title>example.com - /files/</title></head><body><H1>example.com - /files/</H1><hr><pre><A HREF="/">[To Parent Directory]</A><br>`
	if !IsListing([]byte(iis)) {
		t.Error("IIS listing not detected")
	}
	for _, page := range []string{
		`<!doctype html><html><head><title>My blog</title></head><body><p>An index of / in Unix is the root.</p>`,
		`<html><head><title>Index of recipes</title></head>`,
		`<html><head><title>Entries</title></head><body><h1>Directory of members</h1>`,
	} {
		if IsListing([]byte(page)) {
			t.Errorf("false listing: %s", page)
		}
	}
}

// The listing check keeps a 200 HTML response until it has seen the
// prefix, refuses a directory index and releases everything else; fed
// in chunks as a proxy that flushes every write sends them (V6).
func TestListingCheck(t *testing.T) {
	nginx, _ := os.ReadFile("testdata/listings/nginx-autoindex.html")
	big := "<!doctype html><html><head><title>Entry</title></head><body>" + strings.Repeat("<p>text</p>", 1000)
	tests := []struct {
		name, ct string
		status   int
		body     string
		chunks   int
		detect   bool
		want     pipeline.Hold // the final answer
		seen     int           // body bytes the check was given before it decided
	}{
		{"nginx_listing_is_refused", "text/html", 200, string(nginx), 3, false, pipeline.Refuse, len(nginx)},
		{"untyped_listing_is_refused", "", 200, string(nginx), 1, false, pipeline.Refuse, len(nginx)},
		{"listing_in_detect_mode_goes", "text/html", 200, string(nginx), 1, true, pipeline.Release, len(nginx)},
		{"big_page_released_after_the_prefix", "text/html; charset=utf-8", 200, big, 7, false, pipeline.Release, 2 * (len(big)/7 + 1)},
		{"small_page_passes", "text/html", 200, "<p>hi</p>", 1, false, pipeline.Release, 9},
		{"listing_text_in_json_released_at_head", "application/json", 200, string(nginx), 1, false, pipeline.Release, 0},
		{"listing_on_404_released_at_head", "text/html", 404, string(nginx), 1, false, pipeline.Release, 0},
		{"empty_body_passes", "text/html", 200, "", 0, false, pipeline.Release, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &ListingCheck{Detect: tc.detect}
			h := http.Header{}
			if tc.ct != "" {
				h.Set("Content-Type", tc.ct)
			}
			got, seen := c.Head(tc.status, h), 0
			if got == pipeline.Keep && tc.chunks > 0 {
				step := len(tc.body)/tc.chunks + 1
				for i := 0; i < len(tc.body) && got == pipeline.Keep; i += step {
					chunk := tc.body[i:min(i+step, len(tc.body))]
					seen += len(chunk)
					got = c.Body([]byte(chunk))
				}
			}
			if got == pipeline.Keep {
				got = c.End()
			}
			found := tc.want == pipeline.Refuse || tc.detect
			if got != tc.want || seen != tc.seen || c.Found != found {
				t.Fatalf("answer %v after %d bytes (found %v); want %v after %d", got, seen, c.Found, tc.want, tc.seen)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	g := mtGuard(b, Config{AdminAllow: []string{"203.0.113.0/24"}, Deny: []string{"*.inc"}})
	r := httptest.NewRequest("GET", "http://example.com/2026/05/gardening.html?utm_source=feed&lang=ja", nil)
	r.Header.Set("Cookie", "mt_commenter=abc; _ga=GA1.2.3")
	b.ReportAllocs()
	for b.Loop() {
		if g.Check(request.New(r, request.Union), "198.51.100.9") != nil {
			b.Fatal("refused")
		}
	}
}

// TestListingPrefilterExact: mayList (the word check IsListing runs before
// the regular expression) never refuses a body the expression matches:
// the listings, their titles in every case mix, Unicode look-alikes, and
// random mutations of them (bytes replaced, dropped, repeated).
func TestListingPrefilterExact(t *testing.T) {
	seeds := []string{
		`<html><head><title>Index of /files</title></head>`,
		`<title>  INDEX OF /</title>`,
		"<h1>\tdirectory listing for /x</h1>",
		`<h1>Directory liſting for /</h1>`,
		`<A HREF="/">[To Parent Directory]</A>`,
		`<title>İndex of /</title>`,
		`<TITLE>iNdEx Of /a</TITLE>`,
	}
	files, _ := filepath.Glob("testdata/listings/*.html")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("<>/[] \t\nIiNnDdEeXxOoFfRrCcTtYyLlSsPpAaHh1ſK")
	check := func(b []byte) {
		if listingPattern.Match(b) && !mayList(b) {
			t.Fatalf("mayList refuses a listing: %q", b)
		}
	}
	matched := 0
	for _, s := range seeds {
		check([]byte(s))
		for range 3000 {
			b := []byte(s)
			for range 1 + rnd.IntN(3) {
				if len(b) == 0 {
					break
				}
				i := rnd.IntN(len(b))
				switch rnd.IntN(3) {
				case 0:
					b[i] = alphabet[rnd.IntN(len(alphabet))]
				case 1:
					b = append(b[:i], b[i+1:]...)
				default:
					b = append(b[:i+1], b[i:]...)
				}
			}
			check(b)
			if listingPattern.Match(b) {
				matched++
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d mutated inputs are listings: the test proves little", matched)
	}
	if mayList([]byte(`<!doctype html><title>Riverside Community Garden</title><p>the news</p>`)) {
		t.Error("mayList passes a page with none of the words")
	}
}

// BenchmarkIsListing: the check on the first 2 KiB of an ordinary page
// (every HTML response pays it).
func BenchmarkIsListing(b *testing.B) {
	page := []byte("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>Riverside Community Garden - News</title>\n</head>\n<body>\n" +
		strings.Repeat("<article><h2>Garden note</h2><p>The community garden opens every Saturday morning from early spring until the first frost.</p></article>\n", 20))[:ListingPrefix]
	for b.Loop() {
		if IsListing(page) {
			b.Fatal("listing")
		}
	}
}
