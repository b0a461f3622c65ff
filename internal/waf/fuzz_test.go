package waf

import (
	"strings"
	"testing"
)

// FuzzExclusion: whatever an operator writes, an exclusion that validates
// compiles to exactly one directive line (no newline, no quote breaking out
// of its argument, no extra action), so a configuration value can never
// smuggle rules into the WAF.
func FuzzExclusion(f *testing.F) {
	f.Add("941100", "ARGS:text", "/cgi-bin/mt/mt.cgi")
	f.Add("tag:attack-xss", "", "/admin")
	f.Add("941100-941199", "REQUEST_COOKIES:/^wp_/", "")
	f.Add("942100", "ARGS:a\"\nSecRuleEngine Off", "/x")
	f.Fuzz(func(t *testing.T, rules, target, path string) {
		e := Exclusion{Rules: rules, Target: target, PathPrefix: path}
		if e.Validate() != nil {
			return
		}
		for _, d := range append(e.ctlActions(), e.startupDirective()) {
			if strings.ContainsAny(d, "\r\n\x00") {
				t.Fatalf("%+v compiles to a directive with a line break: %q", e, d)
			}
		}
		if strings.Count(e.startupDirective(), `"`) > 4 {
			t.Fatalf("%+v breaks out of its quoting: %q", e, e.startupDirective())
		}
		for _, ctl := range e.ctlActions() {
			if strings.ContainsAny(ctl, `",'`) {
				t.Fatalf("%+v breaks out of its ctl action: %q", e, ctl)
			}
		}
		if strings.ContainsAny(path, "\"' \t%,") {
			t.Fatalf("path %q validated", path)
		}
	})
}
