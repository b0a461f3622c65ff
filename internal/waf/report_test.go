package waf

import (
	"net/http/httptest"
	"testing"
)

func TestVerdictEvent(t *testing.T) {
	sqli := Match{ID: 942100, Message: "SQL Injection", Target: "ARGS:id", Value: "1' OR '1'='1"}
	eval := Match{ID: 949110, Message: "Inbound Anomaly Score Exceeded", Disruptive: true}
	secret := Match{ID: 942100, Message: "SQL Injection", Target: "ARGS:password", Value: "hunter2' OR 1=1"}
	tests := []struct {
		name                     string
		v                        Verdict
		outcome, ruleID, matched string
	}{
		{"nothing_matched_is_allowed_and_has_no_event", Verdict{}, "allowed", "", ""},
		{"blocked_names_the_interrupting_rule", Verdict{Interruption: &Interruption{RuleID: 949110, Status: 403}, Matches: []Match{sqli, eval}}, "blocked", "949110", "1' OR '1'='1"},
		{"detect_mode_names_the_disruptive_rule", Verdict{WouldInterrupt: true, Matches: []Match{sqli, eval}}, "detected", "949110", "1' OR '1'='1"},
		{"flagged_names_the_first_match", Verdict{Matches: []Match{sqli}}, "flagged", "942100", "1' OR '1'='1"},
		{"interruption_without_logged_rule_still_says_why", Verdict{Interruption: &Interruption{RuleID: 1000001, Status: 403}}, "blocked", "1000001", ""},
		{"secret_values_are_redacted", Verdict{Matches: []Match{secret}}, "flagged", "942100", "[redacted]"},
	}
	r := httptest.NewRequest("GET", "http://example.com/x?id=1", nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.Outcome(); got != tc.outcome {
				t.Errorf("Outcome() = %q, want %q", got, tc.outcome)
			}
			e := tc.v.Event(r, "rid", "192.0.2.1", 403)
			if tc.outcome == "allowed" {
				if e != nil {
					t.Errorf("allowed request has an event: %+v", e)
				}
				return
			}
			if e == nil {
				t.Fatal("no event")
			}
			if e.Verdict != tc.outcome || e.RuleID != tc.ruleID || e.RequestID != "rid" || e.ClientIP != "192.0.2.1" || e.Path != "/x" {
				t.Errorf("event %+v", e)
			}
			if tc.matched != "" && (len(e.Rules) == 0 || e.Rules[0].Match != tc.matched) {
				t.Errorf("first rule's match %+v, want %q", e.Rules, tc.matched)
			}
		})
	}
}

// The access line names the interrupting rule, else the first match
// (unlike the event, which names the disruptive rule in detect mode).
func TestVerdictLogRule(t *testing.T) {
	sqli := Match{ID: 942100}
	eval := Match{ID: 949110, Disruptive: true}
	for _, tc := range []struct {
		name string
		v    Verdict
		want string
	}{
		{"nothing", Verdict{}, ""},
		{"blocked", Verdict{Interruption: &Interruption{RuleID: 949110}, Matches: []Match{sqli, eval}}, "949110"},
		{"detected_first_match", Verdict{WouldInterrupt: true, Matches: []Match{sqli, eval}}, "942100"},
		{"interruption_without_logged_rule", Verdict{Interruption: &Interruption{RuleID: 1000001}}, "1000001"},
	} {
		if got := tc.v.LogRule(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
