package rules

import (
	"strings"
	"testing"
)

// TestExcludeCoversDetectionLayers: a profile exclusion of a CRS rule also
// removes mamori's copies of it, and excluding all of CRS also removes
// mamori's own rules, so a field the profile opens is open to both.
func TestExcludeCoversDetectionLayers(t *testing.T) {
	tests := []struct {
		rules, targets string
		want           []string
		wantNot        []string
	}{
		{"941100", "ARGS:text", []string{
			"ctl:ruleRemoveTargetById=941100;ARGS:text", "ctl:ruleRemoveTargetById=9541100;ARGS:text",
			"ctl:ruleRemoveTargetById=9641100;ARGS:text", "ctl:ruleRemoveTargetById=9841100;ARGS:text"}, nil},
		{"OWASP_CRS", "ARGS:pwd", []string{"ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:pwd", "ctl:ruleRemoveTargetByTag=mamori-detect;ARGS:pwd"}, nil},
		{"attack-xss", "ARGS:a ARGS:b", []string{"ctl:ruleRemoveTargetByTag=attack-xss;ARGS:a", "ctl:ruleRemoveTargetByTag=attack-xss;ARGS:b"}, []string{"mamori-detect"}},
		{"200002", "REQUEST_BODY", []string{"ctl:ruleRemoveTargetById=200002;REQUEST_BODY"}, []string{"9"}}, // not a CRS ID: no copies
	}
	for _, tt := range tests {
		got := exclude(tt.rules, tt.targets)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("exclude(%q, %q) lacks %s:\n%s", tt.rules, tt.targets, w, got)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(got, "="+w) {
				t.Errorf("exclude(%q, %q) has %s:\n%s", tt.rules, tt.targets, w, got)
			}
		}
	}
}
