package detect

import (
	"slices"
	"strings"
	"testing"
)

func TestURLParts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"https://cms.example/cgi-bin/mt/mt.cgi?__mode=view&_type=entry&blog_id=1&id=12",
			[]string{"https://cms.example", "cgi-bin", "mt", "mt.cgi", "__mode", "view", "_type", "entry", "blog_id", "1", "id", "12"}, true},
		{"http://a.example/x%2Fy?q=%3Cscript%3E#frag", []string{"http://a.example", "x/y", "q", "<script>", "frag"}, true},
		{"HTTP://127.0.0.1:8080/", []string{"http://127.0.0.1:8080"}, true},
		{"; cat /etc/passwd", nil, false},
		{"javascript:alert(1)", nil, false},
		{"http://%zz/", nil, false},
	} {
		got, ok := URLParts(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("URLParts(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	// Not a URL: judged whole, as before.
	if v, _, _ := headerParts("1' OR '1'='1"); v != "1' OR '1'='1" {
		t.Errorf("headerParts of a non-URL = %q", v)
	}
	if v, _, _ := headerParts("http://a.example/?q=1%27%20OR%201=1--"); !strings.Contains(v, Sep+"1' OR 1=1--") {
		t.Errorf("headerParts lost the decoded value: %q", v)
	}
}

// Issue 11: a URL-valued header's query values that are search phrases
// (words only) are left to CRS's rules on the whole header; anything with a quote, bracket,
// operator, separator or comment, or that decodes to one, is judged by
// every copy.
func TestSearchPhrase(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"site:segmentfault.com union select 关键字怎么用", true},
		{"select a theme and update the menu", true},
		{"2026-12-01", false}, // one token: judged as before
		{"rO0ABXNyABFqYXZh", false},
		{"select 1 from a", true},
		{"1 union select password from users", true}, // CRS's, on the whole header
		{"1' union select password from users", false},
		{"1 union select password from users--", false},
		{"1 union select name, password from users", false},
		{"1 and 1=1", false},
		{"<storeId>1 UNION SELECT username</storeId>", false},
		{"SELECT CASE WHEN (1=1) THEN 1/0 ELSE NULL END", false},
		{"127.0.0.1\nid", false},
		{"a  b", false},
		{";cat /etc/passwd", false},
		{"有两个选项，1 和 2", false}, // a full-width comma is punctuation
		{"", false},
	} {
		if got := SearchPhrase(tc.in); got != tc.want {
			t.Errorf("SearchPhrase(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestHeaderPartsLeaveSearchPhrasesOut(t *testing.T) {
	const search = "https://search.example/search?q=site%3Aexample.com%20union%20select%20%E5%85%B3%E9%94%AE%E5%AD%97&form=QBRE"
	code, _, _ := headerParts(search)
	sig, _, _ := decodedWithURLParts(search)
	for name, v := range map[string]string{"headerParts": code, "decodedWithURLParts": sig} {
		if strings.Contains(v, "union") {
			t.Errorf("%s kept the search phrase: %q", name, v)
		}
		if !strings.Contains(v, Sep+"form") || !strings.Contains(v, "https://search.example") {
			t.Errorf("%s lost the other parts: %q", name, v)
		}
	}
	// URLParts itself still gives every part.
	if parts, _ := URLParts(search); !slices.Contains(parts, "site:example.com union select 关键字") {
		t.Errorf("URLParts lost the search phrase: %q", parts)
	}
	for _, attack := range []string{
		"http://site.example/?id=" + "1%27%20UNION%20SELECT%20password%20FROM%20users--",
		"http://site.example/?name=eyJpZCI6IjEgYW5kIDE9MSJ9", // Base64 of {"id":"1 and 1=1"}
		"http://site.example/?id=1%20and%201=1",
	} {
		v, _, _ := headerParts(attack)
		s, _, _ := decodedWithURLParts(attack)
		for _, got := range []string{v, s} {
			if !strings.Contains(strings.ToLower(got), "1=1") && !strings.Contains(got, "UNION") {
				t.Errorf("%q: the attack is no longer read: %q", attack, got)
			}
		}
	}
	// The signatures' whole-URL reading keeps the origin and path, and the
	// trailing "?" of an RFI target.
	if v, _, _ := decodedWithURLParts("http://evil.example/shell.txt?"); !strings.HasPrefix(v, "http://evil.example/shell.txt?"+Sep) {
		t.Errorf("decodedWithURLParts of an RFI target = %q", v)
	}
}
