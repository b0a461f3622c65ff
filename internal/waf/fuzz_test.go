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
		for _, d := range []string{e.startupDirective(), e.ctlAction()} {
			if strings.ContainsAny(d, "\r\n\x00") {
				t.Fatalf("%+v compiles to a directive with a line break: %q", e, d)
			}
		}
		if strings.Count(e.startupDirective(), `"`) > 4 || strings.ContainsAny(e.ctlAction(), `",'`) {
			t.Fatalf("%+v breaks out of its quoting: %q / %q", e, e.startupDirective(), e.ctlAction())
		}
		if strings.ContainsAny(path, "\"' \t%,") {
			t.Fatalf("path %q validated", path)
		}
	})
}
