package caddymodule

import (
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/csrf"
	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
)

func names(stages []pipeline.Stage) string {
	var out []string
	for _, s := range stages {
		out = append(out, s.Name())
	}
	return strings.Join(out, " ")
}

// The handler wires the stages in docs/design.md's order and leaves out
// a guard that is off.
func TestStagesWiredInOrder(t *testing.T) {
	mt, _ := profile.Get("movabletype", profile.Options{})
	for _, tc := range []struct {
		name      string
		h         *Handler
		front     string
		passwords bool
	}{
		{"bare", &Handler{}, "paths csrf", false},
		{"csrf_off", &Handler{CSRF: csrf.Config{Off: true}}, "paths", false},
		{"profile", &Handler{Profile: &ProfileConfig{Name: "movabletype"}}, "paths csrf", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.h.Profile != nil {
				tc.h.profile = mt
			}
			if err := tc.h.provisionPerimeter(); err != nil {
				t.Fatal(err)
			}
			if err := tc.h.provisionCSRFAndPasswords(); err != nil {
				t.Fatal(err)
			}
			tc.h.wireStages()
			if got := names(tc.h.front); got != tc.front {
				t.Errorf("front stages %q, want %q", got, tc.front)
			}
			if got := names(tc.h.bodyStages); got != "request paths" {
				t.Errorf("body stages %q", got)
			}
			if (tc.h.passwordForm != nil) != tc.passwords {
				t.Errorf("password stage %v, want %v", tc.h.passwordForm != nil, tc.passwords)
			}
		})
	}
}
