// Package monitoring checks the Prometheus alert rules and the Grafana
// dashboard in deploy/ (S13): the rules pass `promtool check rules` and
// their unit tests (`promtool test rules`), and every metric name the
// rules and the dashboard use is one mamori exports — registered by
// internal/metrics or scraped from a running mamori's /metrics.
package monitoring

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/mamori-waf/mamori/internal/metrics"
	"github.com/mamori-waf/mamori/tests/harness"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	rulesFile     = filepath.Join(repoRoot(), "deploy", "prometheus", "mamori-alerts.yml")
	rulesTestFile = filepath.Join(repoRoot(), "deploy", "prometheus", "mamori-alerts.test.yml")
	dashboardFile = filepath.Join(repoRoot(), "deploy", "grafana", "mamori-dashboard.json")
)

// promtool is Debian's (package prometheus), which tests/setup.sh extracts
// into tmp/tools/ without installing the Prometheus service; $PROMTOOL or
// one on $PATH is used first.
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(), "tmp", "tools", "promtool")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("promtool not found (run tests/setup.sh, or set $PROMTOOL): %v", err)
	}
	return p
}

// TestAlertRulesPromtool: the rules are valid and each alert fires on the
// series it is for and stays quiet on a healthy instance.
func TestAlertRulesPromtool(t *testing.T) {
	tool := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", rulesFile},
		{"test", "rules", rulesTestFile},
	} {
		cmd := exec.Command(tool, args...)
		cmd.Dir = filepath.Dir(rulesFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDashboardAndRulesUseMamoriMetrics: every metric name in the alert
// rules and the dashboard exists, and together they cover requests by
// verdict, refusals by guard, login failures, shipper drops and the WAF's
// rule set.
func TestDashboardAndRulesUseMamoriMetrics(t *testing.T) {
	known := registeredNames(t)
	for name := range scrapedNames(t) {
		known[name] = true
	}
	known["up"] = true // added by Prometheus to every scrape

	used := map[string][]string{} // metric -> where
	for where, expr := range ruleExprs(t) {
		for _, n := range metricNames(expr) {
			used[n] = append(used[n], where)
		}
	}
	for where, expr := range dashboardExprs(t) {
		for _, n := range metricNames(expr) {
			used[n] = append(used[n], where)
		}
	}
	if len(used) == 0 {
		t.Fatal("no metric names found in the rules or the dashboard")
	}
	for name, where := range used {
		base := name
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, s); ok && known[b] {
				base = b
			}
		}
		if !known[base] {
			t.Errorf("%s (used in %v) is not a metric mamori exports", name, where)
		}
	}
	for _, need := range []string{"mamori_requests_total", "mamori_blocked_total", "mamori_login_failures_total",
		"mamori_log_shipper_dropped_total", "mamori_ruleset_info"} {
		if len(used[need]) == 0 {
			t.Errorf("%s is used neither in the rules nor in the dashboard", need)
		}
	}
}

// TestMetricNames checks the expression scanner the test above relies on.
func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="mamori"} == 0`, []string{"up"}},
		{`(up{job="mamori"} == 1) unless on(instance) mamori_ruleset_info{job="mamori"}`, []string{"mamori_ruleset_info", "up"}},
		{`sum by (instance, guard) (rate(mamori_blocked_total{job="$job", x=~"a|b"}[5m])) > 1`, []string{"mamori_blocked_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(mamori_anomaly_score_bucket[$__rate_interval])))`, []string{"mamori_anomaly_score_bucket"}},
		{`topk(10, sum without (rule) (increase(a_total[1h] offset 5m))) or vector(0)`, []string{"a_total"}},
		{`count(x{s="by (y) z_total"}) / ignoring(mode) group_left b`, []string{"b", "x"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// registeredNames are the metrics internal/metrics registers, from their
// descriptions (vectors appear in a scrape only once they have a series).
func registeredNames(t *testing.T) map[string]bool {
	rec := &recorder{names: map[string]bool{}}
	if _, err := metrics.New(rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.names) == 0 {
		t.Fatal("internal/metrics registered nothing")
	}
	return rec.names
}

// recorder is a Registerer that keeps the names of what is registered.
type recorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

// scrapedNames are the metric names a running mamori exports, with a
// syslog shipper configured (its collector only accepts and discards).
func scrapedNames(t *testing.T) map[string]bool {
	collector, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { collector.Close() })
	go func() {
		for {
			c, err := collector.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, `{
	admin 127.0.0.1:{ADMIN}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		access_log {
			ship mamori_syslog tcp://`+collector.Addr().String()+`
		}
	}
	reverse_proxy {UPSTREAM}
}
`, upstream)
	for path, want := range map[string]int{
		"/status/200": 200,
		"/?q=" + url.QueryEscape("<script>alert(1)</script>"): 403,
	} {
		resp, err := http.Get(m.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Get("http://" + m.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	names := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	for _, n := range []string{"mamori_requests_total", "mamori_blocked_total", "mamori_log_shipper_dropped_total", "mamori_ruleset_info"} {
		if !names[n] {
			t.Errorf("a running mamori does not export %s", n)
		}
	}
	return names
}

// ruleExprs are the alert rules' expressions, by alert name.
func ruleExprs(t *testing.T) map[string]string {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule without alert name or expression: %+v", r)
			}
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	return exprs
}

// dashboardExprs are the dashboard's queries, by panel title (and its
// template variables' queries).
func dashboardExprs(t *testing.T) map[string]string {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	exprs := map[string]string{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" {
				t.Errorf("panel %q query %s is empty", p.Title, q.RefID)
			}
			exprs[fmt.Sprintf("panel %q %s", p.Title, q.RefID)] = q.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		inner, ok := strings.CutPrefix(v.Definition, "label_values(")
		if !ok {
			t.Errorf("variable %s: unexpected query %q", v.Name, v.Definition)
			continue
		}
		if i := strings.LastIndex(inner, ","); i >= 0 {
			inner = inner[:i]
		}
		exprs["variable "+v.Name] = inner
	}
	return exprs
}

var (
	promStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promBraces    = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent     = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promNotMetric = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true}
)

// metricNames are the metric names in a PromQL expression (sorted): the
// identifiers left once strings, label matchers, ranges, grouping clauses,
// functions and keywords are taken out.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promBraces.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	seen := map[string]bool{}
	for _, m := range promIdent.FindAllString(e, -1) {
		if strings.HasSuffix(m, "(") || promNotMetric[strings.ToLower(m)] {
			continue // a function call or aggregation, or a keyword
		}
		seen[m] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
