package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/checklist"
)

// checkReport runs `mamori check --json` on a Caddyfile in-process.
func checkReport(t *testing.T, caddyfile, require string) (checkOutput, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := cmdCheck(&out, path, "caddyfile", true, require)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	var rep checkOutput
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("check --json output: %v\n%s", err, out.String())
	}
	return rep, code
}

type checkOutput struct {
	checklist.Report
	Required []string `json:"required"`
	Unmet    []string `json:"unmet"`
}

func (o checkOutput) item(id string) checklist.Result {
	for _, r := range o.Items {
		if r.ID == id {
			return r
		}
	}
	return checklist.Result{}
}

// site is a one-site Caddyfile with mamori options and a reverse proxy.
func site(addr, mamori, proxy string) string {
	var b strings.Builder
	b.WriteString(addr + " {\n\tmamori {\n")
	for _, l := range strings.Split(strings.TrimSpace(mamori), "\n") {
		if l != "" {
			b.WriteString("\t\t" + l + "\n")
		}
	}
	b.WriteString("\t}\n\tmamori_health /health\n\treverse_proxy " + proxy + "\n}\n")
	return b.String()
}

// TestCheckVerdicts: each verdict of `mamori check` comes from the
// directive that decides it (checklist IDs in the case names).
func TestCheckVerdicts(t *testing.T) {
	const mt = "profile movabletype\nadmin_allow 203.0.113.0/24"
	type want struct {
		id      string
		verdict checklist.Verdict
		reason  string // a substring of the reason
	}
	tests := []struct {
		name      string
		caddyfile string
		want      []want
	}{
		{"block_mode_profile_enforces", site("cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"V1", checklist.Enforced, "limits"}, {"V2", checklist.Enforced, "CRS 942"},
			{"V6", checklist.Enforced, "admin_allow 203.0.113.0/24"}, {"V7", checklist.Enforced, "fail closed"},
			{"V8", checklist.Enforced, "sealed"}, {"B1", checklist.Enforced, "8+ characters"},
			{"B4", checklist.Enforced, "login_throttle 5 per 15m"}, {"A2", checklist.Enforced, "Caddy's default log"},
			{"A4", checklist.Enforced, "automatic HTTPS"}, {"S3", checklist.Enforced, "localhost:2019"},
			{"S5", checklist.Enforced, "access.log"}, {"S6", checklist.Enforced, "400 days"},
			{"S13", checklist.Enforced, "mamori_health"}, {"A1", checklist.Off, "one upstream"},
		}},
		{"V_detect_mode_is_logged_only", site("cms.example.com", mt+"\nmode detect", "127.0.0.1:8080"), []want{
			{"V1", checklist.LoggedOnly, "mode detect"}, {"V2", checklist.LoggedOnly, "mode detect"},
			{"V5", checklist.LoggedOnly, "mode detect"}, {"V6", checklist.LoggedOnly, "mode detect"},
			{"V7", checklist.LoggedOnly, "mode detect"}, {"B1", checklist.LoggedOnly, "mode detect"},
			{"B4", checklist.LoggedOnly, "mode detect"},
			// The session guard and the throttle act in detect mode too.
			{"V8", checklist.Enforced, "sealed"}, {"V10", checklist.Enforced, "CR/LF/NUL"},
		}},
		{"no_profile_sessions_and_logins_off", site("cms.example.com", "", "127.0.0.1:8080"), []want{
			{"V8", checklist.Off, "no profile"}, {"B2", checklist.Off, "no profile"},
			{"A2", checklist.Off, "no profile"}, {"S11", checklist.Off, "no profile"},
			{"B1", checklist.Off, "no profile"}, {"B4", checklist.Off, "no profile"},
			{"V12", checklist.Off, "no virtual patches"}, {"V2", checklist.Enforced, "CRS 942"},
		}},
		{"S1_admin_allow_missing_is_off", site("cms.example.com", "profile wordpress", "127.0.0.1:8080"), []want{
			{"S1", checklist.Off, "no admin_allow"}, {"V6", checklist.Off, "never-served files are still denied"},
			{"B3", checklist.Off, "no admin_allow"},
		}},
		{"S1_admin_allow_without_profile", site("cms.example.com", "admin_allow 10.0.0.0/8", "127.0.0.1:8080"), []want{
			{"S1", checklist.Misconfigured, "without a profile"},
		}},
		{"S1_admin_allow_everyone", site("cms.example.com", "profile movabletype\nadmin_allow 0.0.0.0/0", "127.0.0.1:8080"), []want{
			{"S1", checklist.Misconfigured, "every address"},
		}},
		{"V7_csrf_off", site("cms.example.com", mt+"\ncsrf off", "127.0.0.1:8080"), []want{
			{"V7", checklist.Off, "csrf off"},
		}},
		{"V8_session_off_and_bind_off", site("cms.example.com", mt+"\nsession off", "127.0.0.1:8080"), []want{
			{"V8", checklist.Off, "session off"}, {"B2", checklist.Off, "session off"},
		}},
		{"V8_bind_off", site("cms.example.com", mt+"\nsession {\n\tbind off\n}", "127.0.0.1:8080"), []want{
			{"V8", checklist.Misconfigured, "bind off"},
		}},
		{"V2_category_excluded_everywhere", site("cms.example.com", mt+"\nexclude 942000-942999", "127.0.0.1:8080"), []want{
			{"V2", checklist.Off, "exclude 942000-942999"}, {"V3", checklist.Enforced, "CRS 932"},
		}},
		{"B1_short_passwords", site("cms.example.com", mt+"\npassword_policy {\n\tmin_length 6\n}", "127.0.0.1:8080"), []want{
			{"B1", checklist.Misconfigured, "min_length 6"}, {"A3", checklist.Enforced, "6+ characters"},
		}},
		{"B4_throttle_off", site("cms.example.com", mt+"\nlogin_throttle off", "127.0.0.1:8080"), []want{
			{"B4", checklist.Off, "login_throttle off"},
		}},
		{"S5_S6_access_log_off", site("cms.example.com", mt+"\naccess_log off", "127.0.0.1:8080"), []want{
			{"S5", checklist.Off, "access_log off"}, {"S6", checklist.Off, "access_log off"},
		}},
		{"S6_roll_keep_too_small", site("cms.example.com", mt+"\naccess_log /var/log/mamori/access.log {\n\troll_keep 10\n\troll_keep_for 400d\n}", "127.0.0.1:8080"), []want{
			{"S6", checklist.Misconfigured, "roll_keep 10"},
		}},
		{"S2_database_proxied", site("cms.example.com", mt, "127.0.0.1:3306"), []want{
			{"S2", checklist.Misconfigured, "database port"},
		}},
		{"A1_two_upstreams_with_health_checks", site("cms.example.com", mt, "10.0.0.1:8080 10.0.0.2:8080 {\n\t\thealth_uri /\n\t}"), []want{
			{"A1", checklist.Enforced, "health checks over 2 upstreams"},
		}},
		{"A1_two_upstreams_without_health_checks", site("cms.example.com", mt, "10.0.0.1:8080 10.0.0.2:8080"), []want{
			{"A1", checklist.Misconfigured, "without health_checks"},
		}},
		{"A4_plain_http_is_off", site("http://cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"A4", checklist.Off, "plain HTTP"},
		}},
		{"A4_tls_at_the_load_balancer", "{\n\tservers {\n\t\ttrusted_proxies static 10.0.0.0/8\n\t}\n}\n" + site("http://cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"A4", checklist.NotApplicable, "load balancer"},
		}},
		{"A4_hsts_off", site("cms.example.com", mt+"\nheaders {\n\thsts off\n}", "127.0.0.1:8080"), []want{
			{"A4", checklist.Misconfigured, "hsts off"},
		}},
		{"S3_admin_on_the_network", "{\n\tadmin 0.0.0.0:2019\n}\n" + site("cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"S3", checklist.Misconfigured, "reachable from the network"},
		}},
		{"S3_admin_off_S13_without_metrics", "{\n\tadmin off\n}\n" + site("cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"S3", checklist.Enforced, "admin off"}, {"S13", checklist.Off, "metrics"},
		}},
		{"S8_seal_key_in_clear", "{\n\tmamori {\n\t\tseal_key MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n\t}\n}\n" + site("cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"S8", checklist.Misconfigured, "seal_key"},
		}},
		{"A2_events_written_nowhere", "{\n\tlog default {\n\t\toutput stderr\n\t\texclude mamori.events\n\t}\n}\n" + site("cms.example.com", mt, "127.0.0.1:8080"), []want{
			{"A2", checklist.Misconfigured, "mamori.events"}, {"S11", checklist.Misconfigured, "mamori.events"},
		}},
		{"site_without_mamori", "cms.example.com {\n\treverse_proxy 127.0.0.1:8080\n}\n", []want{
			{"V2", checklist.Off, "no mamori handler"}, {"S5", checklist.Off, "no mamori handler"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, code := checkReport(t, tc.caddyfile, "")
			if code != 0 {
				t.Errorf("exit status %d without --require", code)
			}
			if len(rep.Items) != len(checklist.Items) {
				t.Fatalf("%d items, want %d", len(rep.Items), len(checklist.Items))
			}
			for _, w := range tc.want {
				got := rep.item(w.id)
				if got.Verdict != w.verdict || !strings.Contains(got.Reason, w.reason) {
					t.Errorf("%s = %s (%s), want %s with %q", w.id, got.Verdict, got.Reason, w.verdict, w.reason)
				}
			}
		})
	}
}

// TestCheckSeveralSites: each item is the weakest site's verdict and names
// that site; every site's verdicts are in the report.
func TestCheckSeveralSites(t *testing.T) {
	caddyfile := site("blog.example.com", "profile wordpress\nadmin_allow 10.0.0.0/8\nmode detect", "127.0.0.1:8081") +
		site("cms.example.com", "profile movabletype\nadmin_allow 10.0.0.0/8", "127.0.0.1:8080")
	rep, _ := checkReport(t, caddyfile, "")
	if len(rep.Sites) != 2 {
		t.Fatalf("%d sites, want 2", len(rep.Sites))
	}
	if got := rep.item("V2"); got.Verdict != checklist.LoggedOnly || got.Site != "blog.example.com" {
		t.Errorf("V2 = %s for %q, want logged_only for blog.example.com", got.Verdict, got.Site)
	}
	for _, s := range rep.Sites {
		want := checklist.Enforced
		if s.Site == "blog.example.com" {
			want = checklist.LoggedOnly
		}
		if s.Items[1].ID != "V2" || s.Items[1].Verdict != want {
			t.Errorf("site %s: %s = %s, want %s", s.Site, s.Items[1].ID, s.Items[1].Verdict, want)
		}
	}
}

// TestCheckExample: `mamori check --config Caddyfile.example` gives every
// checklist item a verdict, a reason and a test, in the table and in JSON.
func TestCheckExample(t *testing.T) {
	example := filepath.Join("..", "..", "Caddyfile.example")
	var table bytes.Buffer
	if code, err := cmdCheck(&table, example, "", false, ""); err != nil || code != 0 {
		t.Fatalf("check: status %d, %v", code, err)
	}
	verdicts := []string{"enforced", "logged_only", "off", "misconfigured", "not_applicable"}
	for _, it := range checklist.Items {
		found := false
		for _, line := range strings.Split(table.String(), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == it.ID {
				for _, v := range verdicts {
					found = found || f[1] == v
				}
			}
		}
		if !found {
			t.Errorf("no verdict line for %s in\n%s", it.ID, table.String())
		}
	}
	var js bytes.Buffer
	if _, err := cmdCheck(&js, example, "", true, ""); err != nil {
		t.Fatal(err)
	}
	var rep checkOutput
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Items {
		if r.Verdict == "" || r.Reason == "" || len(r.Tests) == 0 || r.Site != "cms.example.com" {
			t.Errorf("%s: incomplete %+v", r.ID, r)
		}
	}
}

// TestCheckRequire: the exit status is 1 when a required item is not
// enforced, 0 when all are, and an unknown ID is an error.
func TestCheckRequire(t *testing.T) {
	example := filepath.Join("..", "..", "Caddyfile.example")
	tests := []struct {
		require string
		code    int
		unmet   []string
	}{
		{"V8,S5", 0, nil},
		{"v8, s5 ,B4", 0, nil},
		{"V8,A1", 1, []string{"A1"}},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		code, err := cmdCheck(&out, example, "", true, tc.require)
		if err != nil || code != tc.code {
			t.Errorf("--require %s: status %d (%v), want %d", tc.require, code, err, tc.code)
			continue
		}
		var rep checkOutput
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if strings.Join(rep.Unmet, ",") != strings.Join(tc.unmet, ",") {
			t.Errorf("--require %s: unmet %v, want %v", tc.require, rep.Unmet, tc.unmet)
		}
	}
	var table bytes.Buffer
	if code, _ := cmdCheck(&table, example, "", false, "A1"); code != 1 || !strings.Contains(table.String(), "required but not enforced: A1") {
		t.Errorf("table with --require A1: status %d\n%s", code, table.String())
	}
	if code, err := cmdCheck(&bytes.Buffer{}, example, "", false, "V99"); code != 2 || err == nil {
		t.Errorf("--require V99: status %d, %v; want 2 and an error", code, err)
	}
}
