package events

import (
	"net/http"
	"strings"
	"testing"
)

func TestRedactQuery(t *testing.T) {
	AddSecretNames("Magic_Token", "my-field")
	for _, tc := range []struct{ name, in, want string }{
		{"password", "user=melody&password=Nelson-1999!", "user=melody&password=%5Bredacted%5D"},
		{"wordpress pwd", "log=admin&pwd=correct-Horse-42&rememberme=forever", "log=admin&pwd=%5Bredacted%5D&rememberme=forever"},
		{"registered exact name", "magic_token=abc123&x=1", "magic_token=%5Bredacted%5D&x=1"},
		{"registered name with dash as underscore", "my_field=s3cr3t", "my_field=%5Bredacted%5D"},
		{"access token substring", "accessToken=eyJhbGciOi", "accessToken=%5Bredacted%5D"},
		{"encoded name", "pass%77ord=x1", "pass%77ord=%5Bredacted%5D"},
		{"nested form in a value", "return=" + "%2Flogin%3Fpassword%3Dhunter22", "return=%5Bredacted%5D"},
		{"nothing secret", "q=O%27Reilly&page=2", "q=O%27Reilly&page=2"},
		{"empty value kept", "password=&a=b", "password=&a=b"},
		{"no pairs", "justaflag", "justaflag"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactQuery(tc.in); got != tc.want {
				t.Errorf("RedactQuery(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactURI(t *testing.T) {
	if got := RedactURI("/wp-login.php?pwd=correct-Horse-42"); got != "/wp-login.php?pwd=%5Bredacted%5D" {
		t.Errorf("got %q", got)
	}
	if got := RedactURI("/plain/path"); got != "/plain/path" {
		t.Errorf("got %q", got)
	}
}

func TestRedactHeader(t *testing.T) {
	AddSecretNames("X-Site-Key")
	h := http.Header{
		"Authorization":       {"Basic YWRtaW46TmVsc29uLTE5OTkh"},
		"Proxy-Authorization": {"Bearer t0k3n"},
		"Cookie":              {"mt_user=melody::abcdef; other=1"},
		"Set-Cookie":          {"wordpress_logged_in_x=admin|123|abc"},
		"X-Auth-Token":        {"tok-42"},
		"X-Site-Key":          {"k-99"},
		"User-Agent":          {"curl/8"},
	}
	out := RedactHeader(h)
	for name, values := range out {
		for _, v := range values {
			if name == "User-Agent" {
				if v != "curl/8" {
					t.Errorf("%s changed to %q", name, v)
				}
				continue
			}
			if v != Redacted {
				t.Errorf("%s = %q, want it masked", name, v)
			}
		}
	}
	if h.Get("Cookie") == Redacted {
		t.Error("RedactHeader changed its input")
	}
}

func TestRegisteredNamesReachEventMatches(t *testing.T) {
	AddSecretNames("sessionId")
	got := MatchValue("ARGS:sessionid", "abc")
	if got != Redacted {
		t.Errorf("MatchValue on a registered name = %q", got)
	}
	got = MatchValue("REQUEST_BODY", "sessionid=s3cr3tvalue&x=1")
	if strings.Contains(got, "s3cr3tvalue") {
		t.Errorf("embedded registered name leaked: %q", got)
	}
}

func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{"a=b&password=x", "%zz=1&pass=%", "=&&=", "pwd=1&pwd=2", "x=%2Fa%3Fpassword%3Dy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := RedactQuery(q)
		if strings.Count(out, "&") != strings.Count(q, "&") {
			t.Fatalf("pair count changed: %q -> %q", q, out)
		}
	})
}

func BenchmarkRedactQuery(b *testing.B) {
	q := "page=2&q=gardening+tips&sort=date&password=Nelson-1999%21"
	for b.Loop() {
		RedactQuery(q)
	}
}
