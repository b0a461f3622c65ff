package limits

import (
	"context"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/request"
)

func TestStage(t *testing.T) {
	c, _ := small.Compile()
	for _, tc := range []struct {
		name, method, target string
		status               int
		allow                string
	}{
		{"passes", "GET", "/?a=1", 0, ""},
		{"method_names_allow", "PROPFIND", "/", 405, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
		{"override_method_list", "POST", "/api/x", 405, "GET, PUT"},
		{"cgi_arg_count", "GET", "/?a;b;c;d", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req(tc.method, tc.target, "", "")
			d := c.Decide(context.Background(), &pipeline.Request{HTTP: r, View: request.New(r, request.CGI)})
			if d.Status != tc.status || d.Header.Get("Allow") != tc.allow || c.Name() != "limits" {
				t.Fatalf("%+v, want %d allow %q", d, tc.status, tc.allow)
			}
		})
	}
}
