package request

import (
	"strings"
	"testing"
)

func normalizeFold(s string, fold bool) string {
	n := Normalize(s)
	if fold {
		n = strings.ToLower(n)
	}
	return n
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		fold bool
		want string
	}{
		{"/cgi-bin/mt/mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},
		{"/cgi-bin/mt/./mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},
		{"/cgi-bin/mt/%6dt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},
		{"/cgi-bin/mt/%256dt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},      // double encoding
		{"/cgi-bin/mt/%25256dt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},    // triple encoding
		{"/cgi-bin//mt///mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},       // double slashes
		{"/cgi-bin/mt%2fmt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},        // encoded slash
		{"/cgi-bin/mt/%2e/mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},      // encoded dot
		{"/cgi-bin/x/%2e%2e/mt/mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"}, // encoded dot-dot
		{"/cgi-bin\\mt\\mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},        // backslashes
		{"/cgi-bin/mt%5cmt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},        // encoded backslash
		{"/cgi-bin/mt/mt-config.cgi;.css", false, "/cgi-bin/mt/mt-config.cgi"},     // path parameter
		{"/cgi-bin;x=1/mt/mt-config.cgi", false, "/cgi-bin/mt/mt-config.cgi"},
		{"/cgi-bin/mt/mt-config.cgi%00.jpg", false, "/cgi-bin/mt/mt-config.cgi"}, // NUL ends it
		{"/../../etc/passwd", false, "/etc/passwd"},
		{"/a/b/..", false, "/a/"},
		{"/wp-admin/", false, "/wp-admin/"},
		{"", false, "/"},
		{"/%zz/%4", false, "/%zz/%4"}, // malformed escapes stay
		{"/CGI-BIN/MT/MT-Config.CGI", true, "/cgi-bin/mt/mt-config.cgi"},
		{"/CGI-BIN/MT/MT-Config.CGI", false, "/CGI-BIN/MT/MT-Config.CGI"},
	}
	for _, tc := range tests {
		if got := normalizeFold(tc.in, tc.fold); got != tc.want {
			t.Errorf("Normalize(%q, fold %v) = %q, want %q", tc.in, tc.fold, got, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/a/../b", "/%2e%2e/%2f", "/x;y/z", `\..\`, "%", "%%32%65", "/a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !strings.HasPrefix(n, "/") || strings.Contains(n, "//") || strings.Contains(n, "/../") || strings.Contains(n, "/./") {
			t.Fatalf("Normalize(%q) = %q", s, n)
		}
	})
}
