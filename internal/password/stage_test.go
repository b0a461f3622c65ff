package password

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// The password stage decides on the request view, as the pipeline runs
// it: the form as the CMS reads it, on the path and the script it runs.
func TestStageDecides(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	c, err := Policy{}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	s := &Stage{Checker: c, Forms: mt.PasswordForms}
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, path, ct, body string
		status               int
		rule, user           string
		notice               bool
	}{
		{"weak_password_refused_with_notice", "/cgi-bin/mt/mt.cgi", form, "__mode=save&_type=author&name=melody&pass=abc&pass_verify=abc", 422, "", "melody", true},
		{"cgi_semicolons_read_as_the_cms_does", "/cgi-bin/mt/mt.cgi", form, "__mode=save;_type=author;name=melody;pass=abc;pass_verify=abc", 422, "", "melody", true},
		{"path_info_runs_the_script", "/cgi-bin/mt/mt.cgi/", form, "__mode=save&_type=author&name=melody&pass=abc&pass_verify=abc", 422, "", "melody", true},
		{"strong_password_passes_naming_the_user", "/cgi-bin/mt/mt.cgi", form, "__mode=save&_type=author&name=melody&pass=violet-harbour-quince-72&pass_verify=violet-harbour-quince-72", 0, "", "melody", false},
		{"other_mode_is_no_password_form", "/cgi-bin/mt/mt.cgi", form, "__mode=view&pass=abc", 0, "", "", false},
		{"json_is_not_a_form", "/cgi-bin/mt/mt.cgi", "application/json", `{"pass":"abc"}`, 0, "", "", false},
		{"malformed_multipart_refused", "/cgi-bin/mt/mt.cgi", "multipart/form-data; boundary=x", "--x\r\nbroken", 400, "password-form-malformed", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://example.com"+tc.path, strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ct)
			v := request.New(r, request.CGI)
			req := &pipeline.Request{HTTP: r, View: v, ReadBody: func() error {
				return v.ReadBody(r.Method, tc.ct, strings.NewReader(tc.body), 1<<20)
			}}
			d := s.Decide(context.Background(), req)
			if d.Status != tc.status || (tc.rule != "" && d.Rule != tc.rule) || d.User != tc.user || (d.Notice != nil) != tc.notice {
				t.Fatalf("got status %d rule %q user %q notice %v, want %d %q %q %v", d.Status, d.Rule, d.User, d.Notice != nil, tc.status, tc.rule, tc.user, tc.notice)
			}
			if d.Notice != nil {
				if title, text := d.Notice("en"); title == "" || text == "" {
					t.Error("empty notice")
				}
			}
		})
	}
}
