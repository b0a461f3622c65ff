package pipeline

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/request"
)

func stage(name string, d Decision, ran *[]string) Stage {
	return Func{Guard: name, F: func(context.Context, *Request) Decision {
		*ran = append(*ran, name)
		return d
	}}
}

// Run stops at the first decision apply answers, skips nil stages and
// hands apply every decision, in order.
func TestRun(t *testing.T) {
	refuse := Decision{Status: 403, Rule: "x"}
	tests := []struct {
		name     string
		detect   bool // apply answers no refusal (detect mode)
		stages   []Decision
		answered bool
		ran      string
	}{
		{"none_refuses", false, []Decision{{}, {Vary: "Origin"}, {}}, false, "s0 s1 s2"},
		{"second_refuses", false, []Decision{{}, refuse, {}}, true, "s0 s1"},
		{"detect_mode_runs_on", true, []Decision{refuse, refuse, {}}, false, "s0 s1 s2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ran, applied []string
			stages := []Stage{nil}
			for i, d := range tc.stages {
				stages = append(stages, stage("s"+string(rune('0'+i)), d, &ran))
			}
			apply := func(s Stage, d Decision) bool {
				applied = append(applied, s.Name())
				return d.Refuses() && !tc.detect
			}
			r := httptest.NewRequest("GET", "/", nil)
			got := Run(context.Background(), &Request{HTTP: r, View: request.New(r, request.Union)}, apply, stages...)
			if got != tc.answered || strings.Join(ran, " ") != tc.ran || strings.Join(applied, " ") != tc.ran {
				t.Fatalf("answered %v, ran %v, applied %v; want %v, %q", got, ran, applied, tc.answered, tc.ran)
			}
		})
	}
}

func TestAmbiguousBody(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"text\";filename=\"a.txt\"\r\n\r\n<script>x</script>\r\n--b--\r\n"
	r := httptest.NewRequest("POST", "/cgi-bin/mt/mt-comments.cgi", strings.NewReader(body))
	ct := "multipart/form-data; boundary=b"
	v := request.New(r, request.CGI)
	if d := AmbiguousBody.Decide(context.Background(), &Request{HTTP: r, View: v}); d.Refuses() {
		t.Fatalf("refused before the body was read: %+v", d)
	}
	if err := v.ReadBody("POST", ct, strings.NewReader(body), 1<<20); err != nil {
		t.Fatal(err)
	}
	d := AmbiguousBody.Decide(context.Background(), &Request{HTTP: r, View: v})
	if d.Status != 400 || d.Rule != "ambiguous-multipart" || d.Reason == "" || AmbiguousBody.Name() != "request" {
		t.Fatalf("%+v", d)
	}
}
