package profile

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	tests := []struct {
		name, profile string
		opts          Options
		wantAdmin     []string
		wantErr       string
	}{
		{"mt_default_layout", "movabletype", Options{}, []string{"/cgi-bin/mt/mt.cgi"}, ""},
		{"mt_custom_cgi_path_without_slash", "movabletype", Options{AdminPath: "/mt"}, []string{"/mt/mt.cgi"}, ""},
		{"wp_default_root", "wordpress", Options{}, []string{"/wp-admin/", "/wp-login.php"}, ""},
		{"wp_in_subdirectory", "wordpress", Options{AdminPath: "/blog/"}, []string{"/blog/wp-admin/", "/blog/wp-login.php"}, ""},
		{"unknown_profile", "drupal", Options{}, nil, `unknown profile "drupal" (known: movabletype, wordpress)`},
		{"relative_admin_path", "movabletype", Options{AdminPath: "cgi-bin/mt/"}, nil, "must start with /"},
		{"relative_static_path", "movabletype", Options{StaticPath: "mt-static"}, nil, "must start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Get(tt.profile, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(p.AdminPaths, " ") != strings.Join(tt.wantAdmin, " ") {
				t.Errorf("AdminPaths = %q, want %q", p.AdminPaths, tt.wantAdmin)
			}
			for _, l := range p.Logins {
				if !p.IsAdmin(l.Path) && !strings.Contains(l.Path, "data-api") {
					t.Errorf("login path %s is not an admin path", l.Path)
				}
			}
		})
	}
}

func TestPathMatches(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/cgi-bin/mt/mt.cgi", "/cgi-bin/mt/mt.cgi", true},
		{"/cgi-bin/mt/mt.cgi", "/cgi-bin/mt/mt.cgi/extra", false},
		{"/cgi-bin/mt/mt.cgi", "/cgi-bin/mt/mt.cgix", false},
		{"/wp-admin/", "/wp-admin/", true},
		{"/wp-admin/", "/wp-admin", true},
		{"/wp-admin/", "/wp-admin/post.php", true},
		{"/wp-admin/", "/wp-adminx", false},
	}
	for _, tt := range tests {
		if got := PathMatches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("PathMatches(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCookies(t *testing.T) {
	mt, _ := Get("movabletype", Options{})
	wp, _ := Get("wordpress", Options{})
	tests := []struct {
		p                           *Profile
		name                        string
		found, seal, scriptReadable bool
	}{
		{mt, "mt_user", true, true, false},
		{mt, "mt_commenter", true, true, false},
		{mt, "mt_blog_user", true, false, true},
		{mt, "mt_blog12_user", true, false, true},
		{mt, "mt_data_api_user_myclient", true, true, false},
		{mt, "mt_usr", false, false, false},
		{wp, "wordpress_logged_in_5d41402abc4b2a76b9719d911017c592", true, true, false},
		{wp, "wordpress_sec_5d41402abc4b2a76b9719d911017c592", true, true, false},
		{wp, "wordpress_test_cookie", false, false, false},
		{wp, "wp-settings-1", true, false, true},
	}
	for _, tt := range tests {
		c, ok := tt.p.Cookie(tt.name)
		if ok != tt.found || c.Seal != tt.seal || c.ScriptReadable != tt.scriptReadable {
			t.Errorf("%s: Cookie(%q) = %+v, %v", tt.p.Name, tt.name, c, ok)
		}
	}
}

func TestIsLogout(t *testing.T) {
	mt, _ := Get("movabletype", Options{})
	wp, _ := Get("wordpress", Options{})
	tests := []struct {
		p      *Profile
		method string
		target string
		want   bool
	}{
		{mt, "GET", "/cgi-bin/mt/mt.cgi?__mode=logout", true},
		{mt, "POST", "/cgi-bin/mt/mt.cgi?__mode=logout", true},
		{mt, "GET", "/cgi-bin/mt/mt.cgi?__mode=dashboard", false},
		{mt, "GET", "/cgi-bin/mt/mt-search.cgi?__mode=logout", false},
		{wp, "GET", "/wp-login.php?action=logout&_wpnonce=abc", true},
		{wp, "GET", "/wp-login.php", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		params, _ := url.ParseQuery(r.URL.RawQuery)
		if got := tt.p.IsLogout(r, r.URL.Path, params); got != tt.want {
			t.Errorf("%s %s %s: IsLogout = %v, want %v", tt.p.Name, tt.method, tt.target, got, tt.want)
		}
	}
}
