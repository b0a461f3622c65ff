package request

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func viewOf(method, target, cookie, ct, body string, d Dialect) *View {
	r := httptest.NewRequest(method, "http://example.com"+target, nil)
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	v := New(r, d)
	_ = v.ReadBody(method, ct, strings.NewReader(body), 1<<20)
	return v
}

// TestScript: a path is judged as the script it runs (issue 10 row 1).
func TestScript(t *testing.T) {
	for _, tc := range []struct{ in, script, info string }{
		{"/cgi-bin/mt/mt.cgi/", "/cgi-bin/mt/mt.cgi", "/"},
		{"/cgi-bin/mt/mt.cgi", "/cgi-bin/mt/mt.cgi", ""},
		{"/cgi-bin/mt/mt-config.cgi/x", "/cgi-bin/mt/mt-config.cgi", "/x"},
		{"/wp-content/uploads/evil.php/x.jpg", "/wp-content/uploads/evil.php", "/x.jpg"},
		{"/shell.php/x", "/shell.php", "/x"},
		{"/a.php/b.php/c", "/a.php", "/b.php/c"},
		{"/wp-admin/", "/wp-admin/", ""},
		{"/.php/x", "/.php/x", ""}, // a dot file is not a script name
	} {
		v := viewOf("GET", tc.in, "", "", "", Union)
		if v.Script != tc.script || v.PathInfo != tc.info {
			t.Errorf("%s: script %q info %q, want %q %q", tc.in, v.Script, v.PathInfo, tc.script, tc.info)
		}
	}
}

// TestForms: the readers the guards used before the view (login
// recognition, password policy) keep their cases.
func TestForms(t *testing.T) {
	mp := "--B\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nmelody\r\n" +
		"--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecret\r\n--B--\r\n"
	big := strings.Repeat("x", 300<<10)
	for _, tc := range []struct {
		name, query, ct, body string
		d                     Dialect
		want                  map[string]string
	}{
		{"urlencoded", "", "application/x-www-form-urlencoded", "username=melody&password=Nelson-1999%21", CGI, map[string]string{"username": "melody", "password": "Nelson-1999!"}},
		{"semicolons_cgi", "", "application/x-www-form-urlencoded", "username=melody;password=x", CGI, map[string]string{"username": "melody", "password": "x"}},
		{"semicolons_php_are_not_separators", "", "application/x-www-form-urlencoded", "log=melody;pwd=x", PHP, map[string]string{"log": "melody;pwd=x"}},
		{"encoded_names", "", "application/x-www-form-urlencoded", "user%6Eame=melody&pass%77ord=x", CGI, map[string]string{"username": "melody", "password": "x"}},
		{"padding_cannot_hide_the_fields", "", "application/x-www-form-urlencoded", "pad=" + big + "&username=melody", CGI, map[string]string{"username": "melody"}},
		{"multipart", "", "multipart/form-data; boundary=B", mp, CGI, map[string]string{"username": "melody", "password": "secret"}},
		{"no_content_type_cgi_reads_a_form", "", "", "username=melody", CGI, map[string]string{"username": "melody"}},
		{"query_after_body", "__mode=logout", "application/x-www-form-urlencoded", "username=melody", CGI, map[string]string{"username": "melody", "__mode": "logout"}},
		{"bad_escape_kept", "", "application/x-www-form-urlencoded", "pass=weak%zz", CGI, map[string]string{"pass": "weak%zz"}},
		{"php_dots_mangled", "", "application/x-www-form-urlencoded", "XDEBUG.SESSION_START=1", PHP, map[string]string{"XDEBUG_SESSION_START": "1"}},
		{"php_bracket_mangled", "", "application/x-www-form-urlencoded", "XDEBUG[SESSION_START=1", PHP, map[string]string{"XDEBUG_SESSION_START": "1"}},
		{"php_last_wins", "", "application/x-www-form-urlencoded", "log=a&log=b", PHP, map[string]string{"log": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/cgi-bin/mt/mt.cgi"
			if tc.query != "" {
				target += "?" + tc.query
			}
			v := viewOf("POST", target, "", tc.ct, tc.body, tc.d)
			if v.BodyErr != nil {
				t.Fatal(v.BodyErr)
			}
			got := v.Values()
			for k, want := range tc.want {
				if got.Get(k) != want {
					t.Errorf("%s = %q, want %q (all: %v)", k, got.Get(k), want, got)
				}
			}
		})
	}
	t.Run("over_the_limit", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", nil)
		v := New(r, CGI)
		err := v.ReadBody("POST", "application/x-www-form-urlencoded", strings.NewReader("username=melody&pad="+big), 1000)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestAmbiguousMultipart: a part CGI.pm reads as a field (no white space
// before filename=) but Go's multipart reader (the WAF's) as a file makes
// the body ambiguous (issue 10 row 2); a browser's part does not.
func TestAmbiguousMultipart(t *testing.T) {
	body := func(cd string) string {
		return "--B\r\nContent-Disposition: " + cd + "\r\n\r\n<script>alert(1)</script>\r\n--B--\r\n"
	}
	for _, tc := range []struct {
		cd        string
		d         Dialect
		ambiguous bool
	}{
		{`form-data; name="text";filename="a.txt"`, CGI, true},
		{`form-data; name="text";filename="a.txt"`, Union, true},
		{`form-data; name="text";filename="a.txt"`, PHP, false}, // PHP reads a file too
		{`form-data; name="text"; filename="a.txt"`, CGI, false},
		{`form-data; name="text"`, Union, false},
		{`form-data; name="text"; FILENAME="a.txt"`, CGI, false},
	} {
		v := viewOf("POST", "/cgi-bin/mt/mt-comments.cgi", "", "multipart/form-data; boundary=B", body(tc.cd), tc.d)
		if (v.Ambiguous != "") != tc.ambiguous {
			t.Errorf("%s (%v): ambiguous %q, want %v", tc.cd, tc.d, v.Ambiguous, tc.ambiguous)
		}
	}
	v := viewOf("POST", "/", "", `multipart/form-data; boundary="B;x"`, "--B;x\r\n\r\n--B;x--\r\n", CGI)
	if v.Ambiguous == "" {
		t.Error("a boundary CGI.pm reads differently is not ambiguous")
	}
}

// TestDisguisedCookies: a session cookie under another spelling is
// dropped before the session guard (issue 10 row 3).
func TestDisguisedCookies(t *testing.T) {
	governed := func(n string) bool { return n == "mt_user" || strings.HasPrefix(n, "wordpress_logged_in_") }
	for _, tc := range []struct {
		cookie, left string
		d            Dialect
		dropped      int
	}{
		{"mt%5Fuser=alice::FORGED::0", "", CGI, 1},
		{"a=1, mt_user=alice::FORGED::0; b=2", "b=2", CGI, 1},
		{"wordpress.logged.in.abc=x; c=1", "c=1", PHP, 1},
		{"wordpress.logged.in.abc=x; mt%5Fuser=1", "", Union, 2},
		{"mt_user=sealed; a=1", "mt_user=sealed; a=1", CGI, 0},
		{"mt%5Fuser=1", "mt%5Fuser=1", PHP, 0}, // PHP does not decode cookie names
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", tc.cookie)
		v := New(r, tc.d)
		got := v.DropDisguisedCookies(r.Header, governed)
		if len(got) != tc.dropped || r.Header.Get("Cookie") != tc.left {
			t.Errorf("%q (%v): dropped %v, left %q; want %d, %q", tc.cookie, tc.d, got, r.Header.Get("Cookie"), tc.dropped, tc.left)
		}
	}
}

// FuzzView: no input panics the view's parsers, and the script is always
// a prefix of the path.
func FuzzView(f *testing.F) {
	f.Add("/cgi-bin/mt/mt.cgi/", "a=1;b=%zz&c[]=x", "mt%5Fuser=1, a=2", "multipart/form-data; boundary=B",
		"--B\r\nContent-Disposition: form-data; name=\"t\";filename=\"a\"\r\n\r\nx\r\n--B--\r\n")
	f.Add("/x.php/y", "XDEBUG[SESSION_START&a[b][c=1", "a[=1", "application/x-www-form-urlencoded", "%u0041=%uD83D%uDE00")
	f.Fuzz(func(t *testing.T, path, query, cookie, ct, body string) {
		r, err := http.NewRequest("POST", "http://x/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.RawPath, r.URL.Path, r.URL.RawQuery = "", path, query
		r.Header.Set("Cookie", cookie)
		for _, d := range []Dialect{Union, CGI, PHP} {
			v := New(r, d)
			_ = v.ReadBody("POST", ct, strings.NewReader(body), 1<<16)
			if !strings.HasPrefix(v.Path, v.Script) || v.Script+v.PathInfo != v.Path {
				t.Fatalf("path %q script %q info %q", v.Path, v.Script, v.PathInfo)
			}
			_ = v.Values()
			v.DropDisguisedCookies(r.Header.Clone(), func(string) bool { return true })
		}
	})
}

// BenchmarkView is the view's cost on a Movable Type entry save (about
// 8 KiB urlencoded, a query and three cookies) in the Union dialect.
func BenchmarkView(b *testing.B) {
	body := "__mode=save_entry&_type=entry&title=Gardening+in+May&text=" + strings.Repeat("%3Cp%3ETomatoes+%26amp%3B+basil.%3C%2Fp%3E", 200) + "&magic_token=0123456789abcdef"
	r := httptest.NewRequest("POST", "http://example.com/cgi-bin/mt/mt.cgi?__mode=save_entry&blog_id=1", nil)
	r.Header.Set("Cookie", "mt_user=m1.abcdef; mt_commenter=x; _ga=GA1.2.3")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		v := New(r, Union)
		_ = v.ReadBody("POST", "application/x-www-form-urlencoded", strings.NewReader(body), 1<<20)
		_ = v.Values()
	}
}
