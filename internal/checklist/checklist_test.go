package checklist

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestItemsNameRealTests: every test an item cites exists in the
// repository, so `mamori check` never points an auditor at nothing.
func TestItemsNameRealTests(t *testing.T) {
	root := filepath.Join("..", "..")
	defined := map[string]bool{}
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				defined[string(m[1])] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range Items {
		if seen[it.ID] {
			t.Errorf("%s listed twice", it.ID)
		}
		seen[it.ID] = true
		if len(it.Tests) == 0 {
			t.Errorf("%s names no test", it.ID)
		}
		for _, name := range it.Tests {
			if !defined[name] {
				t.Errorf("%s names %s, which no _test.go file defines", it.ID, name)
			}
		}
		if (it.Scope == Partly) != (it.Outside != "") {
			t.Errorf("%s: scope %s with outside %q", it.ID, it.Scope, it.Outside)
		}
	}
}

// TestEvaluateJSON decides from adapted JSON alone, without Caddy.
func TestEvaluateJSON(t *testing.T) {
	tests := []struct {
		name, json string
		id         string
		want       Verdict
	}{
		{"S3_unix_socket", `{"admin":{"listen":"unix//run/mamori/admin.sock"},"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"match":[{"host":["a.example"]}],"handle":[{"handler":"mamori"}]}]}}}}}`, "S3", Enforced},
		{"S3_ipv6_loopback", `{"admin":{"listen":"[::1]:2019"},"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori"}]}]}}}}}`, "S3", Enforced},
		{"A4_tls_policies_on_8443", `{"apps":{"http":{"servers":{"s":{"listen":[":8443"],"tls_connection_policies":[{}],"routes":[{"handle":[{"handler":"mamori"}]}]}}}}}`, "A4", Enforced},
		{"A4_catch_all_on_8080", `{"apps":{"http":{"servers":{"s":{"listen":[":8080"],"routes":[{"handle":[{"handler":"mamori"}]}]}}}}}`, "A4", Off},
		{"A4_redirects_disabled", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"automatic_https":{"disable_redirects":true},"routes":[{"match":[{"host":["a.example"]}],"handle":[{"handler":"mamori"}]}]}}}}}`, "A4", Misconfigured},
		{"V2_engine_off", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","waf":{"directives":"SecRuleEngine Off"}}]}]}}}}}`, "V2", Off},
		{"V9_tag_excluded", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","waf":{"exclusions":[{"rules":"tag:attack-xss"}]}}]}]}}}}}`, "V9", Off},
		{"V9_excluded_on_one_path_only", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","waf":{"exclusions":[{"rules":"941000-941999","path_prefix":"/editor/"}]}}]}]}}}}}`, "V9", Enforced},
		{"V8_user_agent_family", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","profile":{"name":"wordpress"},"session":{"bind":{"user_agent":"family"}}}]}]}}}}}`, "V8", Enforced},
		{"V8_user_agent_true", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","profile":{"name":"wordpress"},"session":{"bind":{"user_agent":true}}}]}]}}}}}`, "V8", Enforced},
		{"V8_bind_off", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","profile":{"name":"wordpress"},"session":{"bind":{"off":true}}}]}]}}}}}`, "V8", Misconfigured},
		{"B4_throttle_window", `{"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori","profile":{"name":"wordpress"},"login_throttle":{"limit":3,"window":"1h0m0s"}}]}]}}}}}`, "B4", Enforced},
		{"S13_metrics_route_with_admin_off", `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":[":443"],"routes":[{"handle":[{"handler":"mamori"},{"handler":"mamori_health"}]},{"handle":[{"handler":"metrics"}]}]}}}}}`, "S13", Enforced},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Evaluate([]byte(tc.json), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Items {
				if r.ID == tc.id && r.Verdict != tc.want {
					t.Errorf("%s = %s (%s), want %s", r.ID, r.Verdict, r.Reason, tc.want)
				}
			}
		})
	}
	if _, err := Evaluate([]byte(`{"apps":{}}`), Options{}); err == nil {
		t.Error("a configuration without sites: no error")
	}
	if _, err := Evaluate([]byte(`{`), Options{}); err == nil {
		t.Error("broken JSON: no error")
	}
}
