package verdict

import (
	"testing"

	"github.com/mamori-waf/mamori/internal/events"
)

type note struct{ verdict, guard, rule string }

func TestOutcomeKeepsTheStrongest(t *testing.T) {
	tests := []struct {
		name  string
		notes []note
		want  Outcome
		final string
	}{
		{"nothing_noted_is_allowed", nil, Outcome{}, events.VerdictAllowed},
		{"waf_allowed_only", []note{{events.VerdictAllowed, "", ""}}, Outcome{Verdict: events.VerdictAllowed}, events.VerdictAllowed},
		{"guard_detect_then_waf_allowed", []note{{events.VerdictDetected, "paths", "vcs"}, {events.VerdictAllowed, "", ""}},
			Outcome{events.VerdictDetected, "paths", "vcs"}, events.VerdictDetected},
		{"flagged_then_detected", []note{{events.VerdictFlagged, "session", "session-store-unavailable"}, {events.VerdictDetected, "csrf", "csrf-origin"}},
			Outcome{events.VerdictDetected, "csrf", "csrf-origin"}, events.VerdictDetected},
		{"first_of_equal_strength_wins", []note{{events.VerdictDetected, "limits", "arg-count"}, {events.VerdictDetected, "waf", "942100"}},
			Outcome{events.VerdictDetected, "limits", "arg-count"}, events.VerdictDetected},
		{"blocked_beats_all", []note{{events.VerdictDetected, "paths", "vcs"}, {events.VerdictBlocked, "waf", "949110"}, {events.VerdictFlagged, "auth", "x"}},
			Outcome{events.VerdictBlocked, "waf", "949110"}, events.VerdictBlocked},
		{"allowed_event_names_no_guard", []note{{events.VerdictAllowed, "auth", "login-success"}},
			Outcome{Verdict: events.VerdictAllowed}, events.VerdictAllowed},
		{"unknown_verdict_is_ignored", []note{{"maybe", "x", "y"}}, Outcome{}, events.VerdictAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Outcome
			for _, n := range tc.notes {
				o.Note(n.verdict, n.guard, n.rule)
			}
			if o != tc.want || o.Final() != tc.final {
				t.Fatalf("got %+v (final %q), want %+v (final %q)", o, o.Final(), tc.want, tc.final)
			}
		})
	}
}

func TestSetOverrides(t *testing.T) {
	o := Outcome{}
	o.Note(events.VerdictDetected, "paths", "vcs")
	o.Set(events.VerdictBlocked, "headers", "unsafe-response-header")
	if o != (Outcome{events.VerdictBlocked, "headers", "unsafe-response-header"}) {
		t.Fatalf("%+v", o)
	}
}

func TestRankOrder(t *testing.T) {
	order := []string{"", events.VerdictAllowed, events.VerdictFlagged, events.VerdictDetected, events.VerdictBlocked}
	for i := 1; i < len(order); i++ {
		if Rank(order[i-1]) >= Rank(order[i]) {
			t.Errorf("%q does not rank below %q", order[i-1], order[i])
		}
	}
}
