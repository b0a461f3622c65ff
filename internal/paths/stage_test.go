package paths

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

func TestStages(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	g, err := New(Config{AdminAllow: []string{"203.0.113.0/24"}}, mt)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, target, ip, body string
		status                 int
		bodyStatus             int
	}{
		{"public_page", "/2026/05/a.html", "198.51.100.9", "", 0, 0},
		{"admin_path_info_from_outside", "/cgi-bin/mt/mt.cgi/?__mode=dashboard", "198.51.100.9", "", 403, 0},
		{"admin_from_its_network", "/cgi-bin/mt/mt.cgi", "203.0.113.7", "", 0, 0},
		{"debug_switch_in_the_body", "/2026/05/a.html", "198.51.100.9", "XDEBUG_SESSION_START=1", 0, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://example.com"+tc.target, nil)
			v := request.New(r, request.CGI)
			req := &pipeline.Request{HTTP: r, View: v, ClientIP: tc.ip}
			if d := g.Decide(context.Background(), req); d.Status != tc.status {
				t.Fatalf("front: %+v, want %d", d, tc.status)
			}
			if tc.body != "" {
				if err := v.ReadBody("POST", "application/x-www-form-urlencoded", strings.NewReader(tc.body), 1<<20); err != nil {
					t.Fatal(err)
				}
			}
			if d := g.BodyStage().Decide(context.Background(), req); d.Status != tc.bodyStatus {
				t.Fatalf("body: %+v, want %d", d, tc.bodyStatus)
			}
		})
	}
}
