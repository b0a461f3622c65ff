package password

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/profile"
)

func TestIsForm(t *testing.T) {
	for ct, want := range map[string]bool{
		"": true, "application/x-www-form-urlencoded": true, "multipart/form-data; boundary=x": true,
		"application/json": false, "text/plain": false, "bad;;": true,
	} {
		if IsForm(ct) != want {
			t.Errorf("IsForm(%q) = %v", ct, !want)
		}
	}
}

func TestFind(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	wp, _ := profile.Get("wordpress", profile.Options{})
	mtCookie := []*http.Cookie{{Name: "mt_user", Value: "melody::0123456789abcdef0123456789abcdef01234567::0"}}
	wpCookie := []*http.Cookie{{Name: "wordpress_logged_in_5d41402abc4b2a76b9719d911017c592", Value: "admin|1700000000|tok|hmac"}}
	sealed := []*http.Cookie{{Name: "mt_user", Value: "v1.AbCdEf0123"}}
	cases := []struct {
		name      string
		p         *profile.Profile
		method    string
		path      string
		params    url.Values
		cookies   []*http.Cookie
		ok        bool
		passwords []string
		users     []string
	}{
		{name: "mt_author_save", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"Xx1!"}, "pass_verify": {"Xx1!"}, "name": {"melody"}},
			ok:     true, passwords: []string{"Xx1!"}, users: []string{"melody"}},
		{name: "mt_own_profile_user_from_cookie", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"Xx1!"}}, cookies: mtCookie,
			ok: true, passwords: []string{"Xx1!"}, users: []string{"melody"}},
		{name: "mt_form_user_wins_over_cookie_user", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"Xx1!"}, "name": {"newbie"}}, cookies: mtCookie,
			ok: true, passwords: []string{"Xx1!"}, users: []string{"newbie"}},
		{name: "mt_sealed_cookie_gives_no_user", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"Xx1!"}}, cookies: sealed,
			ok: true, passwords: []string{"Xx1!"}},
		{name: "mt_profile_save_keeping_the_password", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {""}, "pass_verify": {""}, "nickname": {"x"}}, cookies: mtCookie},
		{name: "wp_profile_save_keeping_the_password", p: wp, method: "POST", path: "/wp-admin/profile.php",
			params: url.Values{"pass1": {""}, "pass2": {""}, "nickname": {"x"}}, cookies: wpCookie},
		{name: "mt_empty_and_set_values", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"", "weak"}}, ok: true, passwords: []string{"weak"}},
		{name: "mt_new_pw", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"new_pw"}, "password": {"a"}, "password_again": {"a"}}, ok: true, passwords: []string{"a"}},
		{name: "mt_entry_save_is_not_a_password_form", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"entry"}, "pass": {"x"}}},
		{name: "mt_login_is_not_a_password_form", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"username": {"melody"}, "password": {"x"}}},
		{name: "mt_get_is_not_a_password_form", p: mt, method: "GET", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "pass": {"x"}}},
		{name: "mt_author_save_without_pass_is_not_checked", p: mt, method: "POST", path: "/cgi-bin/mt/mt.cgi",
			params: url.Values{"__mode": {"save"}, "_type": {"author"}, "nickname": {"x"}}},
		{name: "wp_profile", p: wp, method: "POST", path: "/wp-admin/profile.php",
			params: url.Values{"pass1": {"p"}, "pass2": {"p"}}, cookies: wpCookie, ok: true, passwords: []string{"p"}, users: []string{"admin"}},
		{name: "wp_user_new", p: wp, method: "POST", path: "/wp-admin/user-new.php",
			params: url.Values{"pass1": {"p"}, "user_login": {"newbie"}}, ok: true, passwords: []string{"p"}, users: []string{"newbie"}},
		{name: "wp_resetpass", p: wp, method: "POST", path: "/wp-login.php",
			params: url.Values{"pass1": {"p"}, "action": {"resetpass"}}, ok: true, passwords: []string{"p"}},
		{name: "wp_login_is_not_a_password_form", p: wp, method: "POST", path: "/wp-login.php",
			params: url.Values{"log": {"admin"}, "pwd": {"p"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if Candidate(c.p.PasswordForms, c.method, c.path) != (c.method == "POST") {
				t.Fatalf("Candidate wrong for %s %s", c.method, c.path)
			}
			s, ok := Find(c.p.PasswordForms, c.method, c.path, c.params, c.cookies)
			if ok != c.ok {
				t.Fatalf("found %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			if !reflect.DeepEqual(s.Passwords, c.passwords) || !reflect.DeepEqual(s.Users, c.users) {
				t.Fatalf("passwords %q users %q, want %q %q", s.Passwords, s.Users, c.passwords, c.users)
			}
		})
	}
}

// BenchmarkFindOnAdminSave is the work every POST to mt.cgi costs: parse
// the form (an entry save of about 8 KiB), find no password form.
func BenchmarkFindOnAdminSave(b *testing.B) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	body := url.Values{"__mode": {"save_entry"}, "_type": {"entry"}, "title": {"Gardening in May"},
		"text": {strings.Repeat("<p>Tomatoes &amp; basil.</p>", 280)}, "magic_token": {"0123456789abcdef"}}.Encode()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		v, err := url.ParseQuery(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := Find(mt.PasswordForms, "POST", "/cgi-bin/mt/mt.cgi", v, nil); ok {
			b.Fatal("found a password form")
		}
	}
}
