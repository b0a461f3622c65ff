package csrf

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/request"
)

// The CSRF stage reads the path from the request view ("/a/../cgi-bin/..."
// is the admin script) and varies the response whenever it checked.
func TestStage(t *testing.T) {
	g, err := New(Config{}, []string{"/cgi-bin/mt/mt.cgi"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, target, origin string
		status                       int
		vary                         bool
	}{
		{"get_is_not_checked", "GET", "/cgi-bin/mt/mt.cgi", "https://evil.example", 0, false},
		{"same_origin_post_varies", "POST", "/cgi-bin/mt/mt.cgi", "http://example.com", 0, true},
		{"cross_site_post_refused", "POST", "/cgi-bin/mt/mt.cgi", "https://evil.example", 403, true},
		{"dot_segments_reach_the_admin_script", "POST", "/x/../cgi-bin//mt/mt.cgi", "https://evil.example", 403, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://example.com"+tc.target, nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Cookie", "mt_user=x")
			d := g.Decide(context.Background(), &pipeline.Request{HTTP: r, View: request.New(r, request.CGI)})
			if d.Status != tc.status || (d.Vary == VaryHeaders) != tc.vary || g.Name() != "csrf" {
				t.Fatalf("%+v, want status %d vary %v", d, tc.status, tc.vary)
			}
		})
	}
}
