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
