package e2e

// Logs, metrics and health (S5, S6, S8, S13): mamori's own access log has
// exactly one line per request however it ends; no secret reaches any log;
// rolled files keep the HMAC chain and old ones are removed; lines reach a
// real rsyslog over TCP and TLS and survive its outage; Prometheus metrics
// count a known mix of requests.

import (
	"bufio"
	"bytes"
	"encoding/base64"
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// TestMain runs the suite, then scans every log it produced for the
// secrets the tests registered with harness.Secret (S8).
func TestMain(m *testing.M) { os.Exit(harness.RunAndScan(m)) }

// testLogKey is the chain key the log tests use.
const testLogKey = "e2e-chain-key-0123456789"

// mamoriLine is mamori's own access-log line.
type mamoriLine struct {
	ID             string              `json:"transaction.id"`
	Status         int                 `json:"http.response.status_code"`
	Verdict        string              `json:"mamori.verdict"`
	Guard          string              `json:"mamori.guard"`
	Rule           string              `json:"rule.id"`
	RuleIDs        []int               `json:"mamori.rule_ids"`
	URL            string              `json:"url.original"`
	UpstreamStatus *int                `json:"mamori.upstream.status_code"`
	UpstreamTime   *float64            `json:"mamori.upstream.duration"`
	Duration       int64               `json:"event.duration"`
	Aborted        bool                `json:"mamori.aborted"`
	Headers        map[string][]string `json:"http.request.headers"`
	Chain          *struct {
		Seq uint64 `json:"seq"`
	} `json:"chain"`
}

func readMamoriLines(t *testing.T, path string) []mamoriLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []mamoriLine
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var m mamoriLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("access line is not JSON: %v\n%s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// completenessCaddyfile has no `log` directive at all: mamori's access
// log is on by default (S5).
const completenessCaddyfile = `{
	admin off
}
http://:{PORT} {
	bind 127.0.0.1
	handle /dead/* {
		mamori {
			request_body_limit 1KiB
		}
		reverse_proxy 127.0.0.1:DEAD
	}
	handle /unsafe/* {
		mamori {
			mode detect
		}
		uri strip_prefix /unsafe
		header X-Echo {http.request.uri.query.echo}
		reverse_proxy {UPSTREAM}
	}
	handle {
		mamori {
			request_body_limit 1KiB
		}
		reverse_proxy {UPSTREAM} {
			flush_interval -1
		}
	}
}
`

// TestAccessLogHasOneLinePerRequest (S5): allowed, WAF-blocked,
// guard-refused, limit-refused, client-aborted and upstream-failed
// requests each get
// exactly one line in the default access log, with the request ID the
// client saw, the verdict, the guard and rule, and the upstream's status.
func TestAccessLogHasOneLinePerRequest(t *testing.T) {
	upstream := harness.Upstream(t)
	dead := fmt.Sprintf("%d", harness.FreePort(t))
	m := harness.StartMamoriEnv(t, strings.Replace(completenessCaddyfile, "DEAD", dead, 1), upstream,
		[]string{"MAMORI_LOG_KEY=" + testLogKey})

	type sent struct {
		kind, id string
		status   int
	}
	var reqs []sent
	n := 0
	do := func(kind, method, path, body string, want int) {
		n++
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		req, _ := http.NewRequest(method, m.URL+path+sep+"mix="+strconv.Itoa(n), strings.NewReader(body))
		req.Host = "localhost"
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s: status %d, want %d", kind, path, resp.StatusCode, want)
		}
		reqs = append(reqs, sent{kind, resp.Header.Get("X-Request-Id"), want})
	}
	for i := 0; i < 6; i++ {
		do("allowed", "GET", "/status/200", "", 200)
	}
	for i := 0; i < 3; i++ {
		do("waf", "GET", "/search?q="+url.QueryEscape("<script>alert(1)</script>"), "", 403)
	}
	for i := 0; i < 2; i++ {
		do("limit", "POST", "/echo", "text="+strings.Repeat("a", 2000), 413)
	}
	for i := 0; i < 2; i++ {
		do("upstream-failed", "GET", "/dead/x", "", 502)
	}
	for i := 0; i < 2; i++ {
		// A guard other than the WAF refuses: the header guard (V10) stops
		// an upstream header carrying CR/LF (detect mode lets CRS pass it).
		do("guard", "GET", "/unsafe/echo?echo=x%0d%0aSet-Cookie:%20session=attacker", "", 502)
	}
	for i := 0; i < 2; i++ {
		// The client hangs up while the upstream still streams.
		n++
		conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		streamID := fmt.Sprintf("abort-%d", n)
		fmt.Fprintf(conn, "GET /stream?id=%s&mix=%d HTTP/1.1\r\nHost: localhost\r\n\r\n", streamID, n)
		_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, sent{"aborted", resp.Header.Get("X-Request-Id"), 200})
		conn.Close()
		rel, err := http.Get(m.URL + "/release?id=" + streamID)
		if err == nil {
			rel.Body.Close()
		}
	}

	path := filepath.Join(m.LogDir, "access.log")
	mixLines := func() map[string][]mamoriLine {
		byMix := map[string][]mamoriLine{}
		for _, l := range readMamoriLines(t, path) {
			if i := strings.Index(l.URL, "mix="); i >= 0 {
				byMix[l.URL[i+4:]] = append(byMix[l.URL[i+4:]], l)
			}
		}
		return byMix
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(mixLines()) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second line would show up by now
	byMix := mixLines()
	total := 0
	for _, ls := range byMix {
		total += len(ls)
	}
	if total != n || len(byMix) != n {
		t.Fatalf("%d access lines for %d distinct requests, want exactly %d", total, len(byMix), n)
	}
	byID := map[string]mamoriLine{}
	for _, ls := range byMix {
		byID[ls[0].ID] = ls[0]
	}
	for _, r := range reqs {
		l, ok := byID[r.id]
		if !ok {
			t.Errorf("%s request %s: no access line with its ID", r.kind, r.id)
			continue
		}
		if l.Chain == nil {
			t.Errorf("%s: line not chained", r.kind)
		}
		switch r.kind {
		case "allowed":
			if l.Status != 200 || l.Verdict != "allowed" || l.UpstreamStatus == nil || *l.UpstreamStatus != 200 || l.UpstreamTime == nil {
				t.Errorf("allowed: %+v", l)
			}
		case "waf":
			if l.Status != 403 || l.Verdict != "blocked" || l.Guard != "waf" || l.Rule != "949110" || !contains(l.RuleIDs, 941100) || l.UpstreamStatus != nil {
				t.Errorf("waf: %+v", l)
			}
		case "limit":
			if l.Status != 413 || l.Verdict != "blocked" || l.UpstreamStatus != nil {
				t.Errorf("limit: %+v", l)
			}
		case "upstream-failed":
			if l.Status != 502 || l.UpstreamStatus != nil && *l.UpstreamStatus != 0 {
				t.Errorf("upstream failed: %+v", l)
			}
		case "guard":
			if l.Status != 502 || l.Verdict != "blocked" || l.Guard != "headers" || l.Rule != "unsafe-response-header" {
				t.Errorf("guard: %+v", l)
			}
		case "aborted":
			if !l.Aborted || l.Status != 200 {
				t.Errorf("aborted: %+v", l)
			}
		}
	}
	bin, _ := harness.Binaries(t)
	out, err := runCmdEnv(bin, []string{"MAMORI_LOG_KEY=" + testLogKey}, "logs", "verify", m.LogDir)
	if err != nil || !strings.Contains(out, "access.log: intact") {
		t.Errorf("logs verify: %v\n%s", err, out)
	}
}

func runCmdEnv(bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// secretsCaddyfile: a Movable Type site with mamori's access log, the
// events log and Caddy's own access log (redacted with mamori_redact).
const secretsCaddyfile = `{
	admin off
	log default {
		output stderr
		exclude mamori.events
	}
	log events {
		output file {DIR}/events.log
		include mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	log {
		output file {DIR}/caddy-access.log
		format filter {
			request>uri mamori_redact
			request>headers mamori_redact
		}
	}
	mamori {
		profile movabletype
		log_secret_fields site_pin
	}
	reverse_proxy {UPSTREAM}
}
`

// TestSecretsNeverReachTheLogs (S8): passwords in bodies and query
// strings, session cookies, Authorization headers, tokens and an
// operator-named field are masked in mamori's access log, in events (also
// when a rule matched the body that holds them) and in Caddy's access log.
func TestSecretsNeverReachTheLogs(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, secretsCaddyfile, upstream)
	const (
		cookie = "s3ss10n-c00kie-9f8e7d"
		bearer = "tok-eyJhbGciOiJIUzI1NiJ9-42"
		pin    = "pin-77331199"
	)
	harness.Secret("Nelson-1999!", "correct-Horse-42", cookie, bearer, pin, "melody:Nelson-1999!")
	type req struct {
		name, method, path, body string
		header                   http.Header
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("melody:Nelson-1999!"))
	for _, r := range []req{
		{"login form", "POST", "/cgi-bin/mt/mt.cgi", "__mode=login&username=melody&password=Nelson-1999%21", http.Header{"Sec-Fetch-Site": {"same-origin"}}},
		{"password in query", "GET", "/cgi-bin/mt/mt.cgi?username=admin&password=correct-Horse-42", "", nil},
		{"session cookie and bearer", "GET", "/cgi-bin/mt/mt.cgi?__mode=dashboard", "", http.Header{
			// The session guard drops the forged mt_user; the other cookie
			// stays and reaches the access log masked.
			"Cookie": {"mt_user=melody::" + cookie + "::0; PHPSESSID=" + cookie}, "Authorization": {"Bearer " + bearer}}},
		{"basic auth and token header", "GET", "/status/200", "", http.Header{
			"Authorization": {basic}, "X-Auth-Token": {bearer}}},
		{"attack beside a password", "POST", "/echo", "password=Nelson-1999%21&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil},
		{"attack in the password itself", "POST", "/echo", "password=Nelson-1999%21%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil},
		{"operator-named field", "GET", "/status/200?site_pin=" + pin, "", nil},
		{"token in query", "GET", "/status/200?accessToken=" + bearer + "&magic_token=" + cookie, "", nil},
	} {
		hr, _ := http.NewRequest(r.method, m.URL+r.path, strings.NewReader(r.body))
		hr.Host = "localhost"
		for k, v := range r.header {
			hr.Header[k] = v
		}
		if r.body != "" {
			hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Every request has its line before the scan.
	deadline := time.Now().Add(5 * time.Second)
	for len(m.ReadLines(t, "logs/access.log")) < 9 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	access := strings.Join(m.ReadLines(t, "logs/access.log"), "\n")
	if !strings.Contains(access, "password=%5Bredacted%5D") || !strings.Contains(access, `"Cookie":["REDACTED"]`) || !strings.Contains(access, `"X-Auth-Token":["[redacted]"]`) {
		t.Errorf("access log does not show the masked values:\n%s", access)
	}
	if len(m.ReadLines(t, "events.log")) < 2 || len(m.ReadLines(t, "caddy-access.log")) < 9 {
		t.Errorf("events %d, Caddy access lines %d: the requests did not all get logged", len(m.ReadLines(t, "events.log")), len(m.ReadLines(t, "caddy-access.log")))
	}
	m.Proc.Cmd.Process.Kill() // flush nothing more; its output is scanned too
	time.Sleep(100 * time.Millisecond)
	os.WriteFile(filepath.Join(m.Dir, "process-output.log"), []byte(m.Proc.String()), 0o600)
	hits, files, err := harness.ScanDir(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) > 0 || files < 4 {
		t.Errorf("scanned %d files; secrets found:\n%s", files, strings.Join(hits, "\n"))
	}
}

// TestSecretsScanFindsAPlantedSecret: the scan is not blind.
func TestSecretsScanFindsAPlantedSecret(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("ok\n{\"uri\":\"/?p=Nelson-1999%21\"}\n"), 0o600)
	hits, _, err := harness.ScanDir(dir)
	if err != nil || len(hits) != 1 || !strings.HasPrefix(hits[0], "a.log:2:") {
		t.Fatalf("hits %v, err %v", hits, err)
	}
}

// rotationCaddyfile rolls the access log at 1 MB, keeps files one day.
const rotationCaddyfile = `{
	admin off
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		access_log LOGFILE {
			roll_size 1MiB
			roll_keep 100
			roll_keep_for 1d
			chain_key ` + testLogKey + `
		}
	}
	reverse_proxy {UPSTREAM}
}
`

// TestRotationRetentionAndTamperEvidence (S6): the access log rolls at
// 1 MB, rolled files are gzipped, a file older than roll_keep_for is
// removed, the chain verifies across rolled files and a restart, and an
// edited, deleted or reordered line, or a removed file, is reported with
// its place.
func TestRotationRetentionAndTamperEvidence(t *testing.T) {
	upstream := harness.Upstream(t)
	logDir := t.TempDir()
	live := filepath.Join(logDir, "access.log")
	// A rolled file from 2020: past roll_keep_for, it must go.
	old := filepath.Join(logDir, "access-2020-01-01T00-00-00.000-time.log.gz")
	os.WriteFile(old, gzipped("old line\n"), 0o600)
	cfg := strings.Replace(rotationCaddyfile, "LOGFILE", live, 1)
	bin, _ := harness.Binaries(t)
	verify := func(dir string) string {
		out, _ := runCmdEnv(bin, nil, "logs", "verify", "--key", testLogKey, dir)
		return out
	}

	m := harness.StartMamori(t, cfg, upstream)
	// ~5 KB lines: 4096 bytes of query plus headers.
	pad := strings.Repeat("a", 4500)
	send := func(m *harness.Mamori, count int) {
		var wg sync.WaitGroup
		jobs := make(chan int)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					req, _ := http.NewRequest("GET", m.URL+"/status/200?pad="+pad, nil)
					req.Host = "localhost"
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
		for i := 0; i < count; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}
	send(m, 520)
	rolled := func() []string {
		files, _ := filepath.Glob(filepath.Join(logDir, "access-*.log*"))
		sort.Strings(files)
		return files
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		fs := rolled()
		if len(fs) >= 2 && !strings.HasPrefix(filepath.Base(fs[0]), "access-2020") && allGzipped(fs) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fs := rolled()
	if len(fs) < 2 || !allGzipped(fs) {
		t.Fatalf("rolled files %v: want at least 2, all gzipped", fs)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the 2020 file outlived roll_keep_for 1d: %v", err)
	}
	if out := verify(logDir); !strings.Contains(out, "access.log: intact") {
		t.Fatalf("chain across rolled files:\n%s", out)
	}

	// A restarted mamori continues the same chain.
	m.Proc.Cmd.Process.Kill()
	m.Proc.Cmd.Process.Wait()
	m2 := harness.StartMamori(t, cfg, upstream)
	send(m2, 10)
	time.Sleep(200 * time.Millisecond)
	out := verify(logDir)
	if !strings.Contains(out, "access.log: intact") {
		t.Fatalf("chain after a restart:\n%s", out)
	}
	t.Logf("verify: %s", strings.TrimSpace(out))

	lines := strings.SplitAfter(strings.TrimSuffix(readFile(t, live), "\n"), "\n")
	if len(lines) < 6 {
		t.Fatalf("live file has %d lines", len(lines))
	}
	for _, tc := range []struct {
		name   string
		tamper func(dir string)
		want   string
	}{
		{"edited line", func(dir string) {
			l := append([]string(nil), lines...)
			l[2] = strings.Replace(l[2], `"http.response.status_code":200`, `"http.response.status_code":404`, 1)
			writeLines(t, filepath.Join(dir, "access.log"), l)
		}, "access.log:3: line seq"},
		{"deleted line", func(dir string) {
			l := append(append([]string(nil), lines[:2]...), lines[3:]...)
			writeLines(t, filepath.Join(dir, "access.log"), l)
		}, "access.log:3: 1 line(s) missing"},
		{"reordered lines", func(dir string) {
			l := append([]string(nil), lines...)
			l[2], l[3] = l[3], l[2]
			writeLines(t, filepath.Join(dir, "access.log"), l)
		}, "access.log:3: line seq"},
		{"last 5 lines deleted", func(dir string) {
			writeLines(t, filepath.Join(dir, "access.log"), lines[:len(lines)-5])
		}, "5 line(s) removed at the end"},
		{"first 5 lines of the live file deleted", func(dir string) {
			writeLines(t, filepath.Join(dir, "access.log"), lines[5:])
		}, "5 line(s) removed at the start"},
		{"removed rolled file", func(dir string) {
			fs, _ := filepath.Glob(filepath.Join(dir, "access-*.log.gz"))
			sort.Strings(fs)
			os.Remove(fs[len(fs)-1]) // the newest rolled file, between older ones and the live file
		}, "missing before this one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range append(rolled(), live, live+".head") {
				b, _ := os.ReadFile(f)
				os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600)
			}
			tc.tamper(dir)
			out := verify(dir)
			if !strings.Contains(out, "BROKEN") || !strings.Contains(out, tc.want) {
				t.Errorf("verify output lacks %q:\n%s", tc.want, out)
			}
			if tc.name == "reordered lines" && !strings.Contains(out, "out of order") {
				t.Errorf("reordering not named:\n%s", out)
			}
		})
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	z := gzipWriter(&b)
	z.Write([]byte(s))
	z.Close()
	return b.Bytes()
}

func allGzipped(files []string) bool {
	for _, f := range files {
		if !strings.HasSuffix(f, ".gz") {
			return false
		}
	}
	return true
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// metricsCaddyfile exposes Caddy's admin API, whose /metrics has mamori's.
const metricsCaddyfile = `{
	admin 127.0.0.1:{ADMIN}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		request_body_limit 1KiB
	}
	mamori_health /healthz
	reverse_proxy {UPSTREAM}
}
`

// TestMetricsCountAKnownMix (S13): after 4 allowed requests, 2 blocked by
// CRS and 1 refused by the body limit, the counters moved by exactly that;
// the rule-set version is exported; the health endpoint says ok, and says
// down where no WAF is loaded.
func TestMetricsCountAKnownMix(t *testing.T) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, metricsCaddyfile, upstream)
	scrape := func() string {
		resp, err := http.Get("http://" + m.Admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := scrape()
	send := func(method, path, body string, want int) {
		req, _ := http.NewRequest(method, m.URL+path, strings.NewReader(body))
		req.Host = "localhost"
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	for i := 0; i < 4; i++ {
		send("GET", "/status/200", "", 200)
	}
	send("GET", "/?q="+url.QueryEscape("<script>alert(1)</script>"), "", 403)
	send("GET", "/?id="+url.QueryEscape("1' OR '1'='1"), "", 403)
	send("POST", "/echo", "text="+strings.Repeat("b", 2000), 413)
	after := scrape()
	for _, tc := range []struct {
		metric string
		labels map[string]string
		delta  float64
	}{
		{"mamori_requests_total", map[string]string{"verdict": "allowed"}, 4},
		{"mamori_requests_total", map[string]string{"verdict": "blocked"}, 3},
		{"mamori_blocked_total", map[string]string{"guard": "waf"}, 3},
		{"mamori_blocked_rules_total", map[string]string{"guard": "waf", "rule": "949110"}, 2},
		{"mamori_events_total", map[string]string{"guard": "waf", "verdict": "blocked", "rule": "949110"}, 2},
		{"mamori_anomaly_score_count", map[string]string{"direction": "inbound"}, 7},
	} {
		got := metricValue(after, tc.metric, tc.labels) - metricValue(before, tc.metric, tc.labels)
		if got != tc.delta {
			t.Errorf("%s%v moved by %v, want %v", tc.metric, tc.labels, got, tc.delta)
		}
	}
	if metricValue(after, "mamori_ruleset_info", map[string]string{"crs_version": "v4.25.0"}) != 1 {
		t.Errorf("no mamori_ruleset_info for CRS v4.25.0 in:\n%s", grepLines(after, "mamori_ruleset"))
	}

	resp, err := http.Get(m.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
		Rules  int    `json:"waf_rules"`
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Status != "ok" || health.Rules < 100 {
		t.Errorf("health: %d %+v", resp.StatusCode, health)
	}
	// No WAF in this process: the balancer must take it out.
	bare := harness.StartMamori(t, `{
	admin off
}
http://:{PORT} {
	bind 127.0.0.1
	mamori_health /healthz
	reverse_proxy {UPSTREAM}
}
`, upstream)
	resp, err = http.Get(bare.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("health without a WAF: %d, want 503", resp.StatusCode)
	}
}

var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([0-9.eE+-]+|NaN|\+Inf)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// metricValue sums the samples of metric whose labels include labels.
func metricValue(text, metric string, labels map[string]string) float64 {
	sum := 0.0
	for _, line := range strings.Split(text, "\n") {
		m := metricLine.FindStringSubmatch(line)
		if m == nil || m[1] != metric {
			continue
		}
		have := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			have[p[1]] = p[2]
		}
		ok := true
		for k, v := range labels {
			if have[k] != v {
				ok = false
			}
		}
		if ok {
			v, _ := strconv.ParseFloat(m[3], 64)
			sum += v
		}
	}
	return sum
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLogsVerifyUnchainedLog (issue 15): a log written without a chain key
// is reported "not chained", not as dozens of unsealed lines.
func TestLogsVerifyUnchainedLog(t *testing.T) {
	bin, _ := harness.Binaries(t)
	dir := t.TempDir()
	var b strings.Builder
	for i := range 32 {
		fmt.Fprintf(&b, `{"msg":"handled request","n":%d}`+"\n", i)
	}
	os.WriteFile(filepath.Join(dir, "access.log"), []byte(b.String()), 0o600)
	out, err := runCmdEnv(bin, nil, "logs", "verify", "--key", testLogKey, dir)
	if err == nil || !strings.Contains(out, "access.log: not chained") || strings.Contains(out, "BROKEN") {
		t.Fatalf("verify of an unchained log: %v\n%s", err, out)
	}
}
