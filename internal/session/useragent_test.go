package session

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// Real User-Agent strings, two versions of each browser on each platform.
var realAgents = []struct {
	name     string
	old, new string
}{
	{"Chrome Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"Edge Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.80",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"},
	{"Firefox Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"},
	{"Safari macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15"},
	{"Chrome macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"Firefox macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0"},
	{"Chrome Linux",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	{"Firefox Linux",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"},
	{"Chrome Android",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"},
	{"Firefox Android",
		"Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0",
		"Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"},
	{"Edge Android",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 EdgA/130.0.2849.80",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87"},
	{"Safari iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1"},
	{"Chrome iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.134 Mobile/15E148 Safari/604.1"},
	{"Firefox iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15"},
	{"Edge iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/130.2849.80 Version/18.0 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/131.2903.92 Version/18.0 Mobile/15E148 Safari/604.1"},
	{"Safari iPad",
		"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (iPad; CPU OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1"},
	{"curl",
		"curl/8.5.0",
		"curl/8.11.1"},
}

// TestUserAgentFamilyBinding: with the default binding, a sealed cookie
// survives the browser's update and is dropped when replayed (same
// network) by any other browser or platform of the table.
func TestUserAgentFamilyBinding(t *testing.T) {
	ctx := context.Background()
	g, _ := newMTGuard(t, Config{}, nil)
	for _, victim := range realAgents {
		sealed, _ := login(t, g, Client{IP: "192.0.2.10", UserAgent: victim.old})
		for _, replay := range realAgents {
			for _, ua := range []string{replay.old, replay.new} {
				req := g.Inbound(ctx, http.Header{"Cookie": {"mt_user=" + sealed}}, Client{IP: "192.0.2.77", UserAgent: ua})
				ok := len(req.Findings) == 0
				if want := replay.name == victim.name; ok != want {
					t.Errorf("sealed for %s, replayed by %s (%q): accepted=%v, want %v (findings %+v)",
						victim.name, replay.name, ua, ok, want, req.Findings)
				}
				if !ok && req.Findings[0].Reason != ReasonBinding {
					t.Errorf("%s by %s: reason %q", victim.name, replay.name, req.Findings[0].Reason)
				}
			}
		}
	}
}

func TestUserAgentFullBindingRefusesAnUpdate(t *testing.T) {
	g, _ := newMTGuard(t, Config{Bind: &Binding{UserAgent: UAFull}}, nil)
	a := realAgents[0]
	sealed, _ := login(t, g, Client{IP: "192.0.2.10", UserAgent: a.old})
	if req := g.Inbound(context.Background(), http.Header{"Cookie": {"mt_user=" + sealed}}, Client{IP: "192.0.2.10", UserAgent: a.new}); len(req.Findings) == 0 {
		t.Fatal("full binding accepted another User-Agent")
	}
}

// TestLegacyCookieRefused: a cookie sealed by a guard that did not bind
// the User-Agent (this version's predecessor) is refused once by the
// default guard (docs/sessions.md says why).
func TestLegacyCookieRefused(t *testing.T) {
	old, _ := newMTGuard(t, Config{Bind: &Binding{UserAgent: UAOff}}, nil)
	sealed, _ := login(t, old, melody)
	now, _ := newMTGuard(t, Config{}, nil)
	now.sealer = old.sealer
	req := now.Inbound(context.Background(), http.Header{"Cookie": {"mt_user=" + sealed}}, melody)
	if len(req.Findings) != 1 || req.Findings[0].Reason != ReasonBinding {
		t.Fatalf("findings %+v", req.Findings)
	}
}

func TestUABindingJSON(t *testing.T) {
	for in, want := range map[string]UABinding{`true`: UAFull, `false`: UAOff, `"family"`: UAFamily, `"full"`: UAFull} {
		var b Binding
		if err := json.Unmarshal([]byte(`{"user_agent":`+in+`}`), &b); err != nil || b.UserAgent != want {
			t.Errorf("%s: %q %v", in, b.UserAgent, err)
		}
	}
	if err := (&Config{Bind: &Binding{UserAgent: "browser"}}).Validate(); err == nil {
		t.Error("an unknown mode was accepted")
	}
}
