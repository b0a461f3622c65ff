// Package e2e tests the built mamori binary with a Caddyfile in front of
// the real upstream process: what the client gets, what the upstream
// received, and what the events and access log say.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/mamori-waf/mamori/tests/harness"
)

// caddyfile is the e2e test site: the admin endpoint, Caddy's log without
// events, events in {DIR}/events.log, the access log in {DIR}/access.log,
// a mamori block holding mamori, and the proxy to {UPSTREAM} with
// proxyOptions. global adds global options (whole lines).
func caddyfile(global, mamori, proxyOptions string) string {
	proxy := "reverse_proxy {UPSTREAM}"
	if proxyOptions != "" {
		proxy += " {\n\t\t" + proxyOptions + "\n\t}"
	}
	return "{\n\tadmin 127.0.0.1:{ADMIN}\n" + global + `	log default {
		output stderr
		level ERROR
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
		output file {DIR}/access.log
	}
	mamori {
		` + mamori + `
	}
	` + proxy + `
}
`
}

// siteCaddyfile is the plain test site; MODE is block or detect.
var siteCaddyfile = caddyfile("", "mode MODE", "flush_interval -1")

type site struct {
	*harness.Mamori
	upstream string
}

// startSite starts an upstream and a mamori in the given mode.
func startSite(t *testing.T, mode string) *site {
	t.Helper()
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, strings.Replace(siteCaddyfile, "MODE", mode, 1), upstream)
	return &site{Mamori: m, upstream: upstream}
}

// received is what the upstream's /echo saw.
type received struct {
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
	Chunked bool        `json:"chunked"`
}

// event is the part of a security event the tests read.
type event struct {
	Logger        string `json:"logger"`
	TransactionID string `json:"transaction.id"`
	Action        string `json:"event.action"`
	Verdict       string `json:"mamori.verdict"`
	RuleID        string `json:"rule.id"`
	RuleName      string `json:"rule.name"`
	Status        int    `json:"http.response.status_code"`
	SourceIP      string `json:"source.ip"`
	Path          string `json:"url.path"`
	Method        string `json:"http.request.method"`
	Inbound       int    `json:"mamori.anomaly.inbound"`
	Rules         []struct {
		ID       int    `json:"id"`
		Message  string `json:"message"`
		Severity string `json:"severity"`
		Target   string `json:"target"`
		Match    string `json:"match"`
	} `json:"mamori.rules"`
}

func (e event) ruleIDs() []int {
	var ids []int
	for _, r := range e.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// accessLine is the part of Caddy's access-log line the tests read.
type accessLine struct {
	Status    int    `json:"status"`
	RequestID string `json:"mamori.request_id"`
	Verdict   string `json:"mamori.verdict"`
	RuleIDs   []int  `json:"mamori.rule_ids"`
}

// findLine polls a JSON-lines log for the line whose field equals id.
func findLine[T any](t *testing.T, s *site, file, field, id string) (T, bool) {
	t.Helper()
	var zero T
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, l := range s.ReadLines(t, file) {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m[field] == id {
				var v T
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err)
				}
				return v, true
			}
		}
		if time.Now().After(deadline) {
			return zero, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBenignRequestsReachUpstreamUnchanged(t *testing.T) {
	s := startSite(t, "block")
	form := url.Values{"title": {"Gardening in May"}, "text": {"O'Reilly's guide: tomatoes & basil, 3 < 4."}}.Encode()
	json := `{"title":"Hello","tags":["a","b"],"body":"rock and roll"}`
	tests := []struct {
		name, method, path, contentType, body string
		chunked                               bool
	}{
		{"get_with_query", "GET", "/echo/entry?id=42&lang=ja&q=%E6%97%A5%E6%9C%AC", "", "", false},
		{"form_post", "POST", "/echo/comment", "application/x-www-form-urlencoded", form, false},
		{"json_post", "POST", "/echo/api", "application/json", json, false},
		{"chunked_form_post", "POST", "/echo/chunked", "application/x-www-form-urlencoded", form, true},
		{"japanese_form", "POST", "/echo/ja", "application/x-www-form-urlencoded", url.Values{"text": {"守りは大切です。日本語の本文、SELECT 文の解説を含む。"}}.Encode(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				if tc.chunked {
					// A reader of unknown length: Go sends it chunked.
					body = io.MultiReader(strings.NewReader(tc.body[:5]), strings.NewReader(tc.body[5:]))
				}
			}
			req, _ := http.NewRequest(tc.method, s.URL+tc.path, body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("X-Request-Id", "client-chosen-id")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			var got received
			if err := jsonDecode(resp.Body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Method != tc.method || got.URI != tc.path || got.Body != tc.body {
				t.Errorf("upstream got %s %s body %q; want %s %s body %q", got.Method, got.URI, got.Body, tc.method, tc.path, tc.body)
			}
			if tc.chunked && !got.Chunked {
				t.Error("upstream did not receive the body chunked")
			}
			id := resp.Header.Get("X-Request-Id")
			if len(id) != 24 || id == "client-chosen-id" {
				t.Errorf("response X-Request-Id %q is not mamori's", id)
			}
			if up := got.Header.Get("X-Request-Id"); up != id {
				t.Errorf("upstream got X-Request-Id %q, want mamori's %q", up, id)
			}
			line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id)
			if !ok {
				t.Fatalf("no access-log line for %s", id)
			}
			if line.Status != 200 || (line.Verdict != "allowed" && line.Verdict != "flagged") {
				t.Errorf("access line status %d verdict %q", line.Status, line.Verdict)
			}
		})
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// attacks used by the block and detect tests, one per class and place.
var attacks = []struct {
	name   string
	build  func(base string) *http.Request
	ruleID int
}{
	{"sqli_in_query", func(b string) *http.Request { return get(b + "/echo?id=1'%20OR%20'1'='1") }, 942100},
	{"xss_in_query", func(b string) *http.Request {
		return get(b + "/echo?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E")
	}, 941100},
	{"cmd_injection_in_query", func(b string) *http.Request { return get(b + "/echo?host=127.0.0.1%3Bcat%20/etc/passwd") }, 932160},
	{"traversal_in_query", func(b string) *http.Request { return get(b + "/echo?file=../../../../etc/passwd") }, 930100},
	{"sqli_in_form", func(b string) *http.Request {
		return post(b+"/echo", "application/x-www-form-urlencoded", "user=admin'--&pass=x' UNION SELECT password FROM users--")
	}, 942100},
	{"xss_in_form", func(b string) *http.Request {
		return post(b+"/echo", "application/x-www-form-urlencoded", "comment=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
	}, 941100},
	{"sqli_in_json", func(b string) *http.Request {
		return post(b+"/echo", "application/json", `{"id":"1' UNION SELECT username, password FROM users--"}`)
	}, 942100},
	{"cmd_injection_in_json", func(b string) *http.Request {
		return post(b+"/echo", "application/json", `{"cmd":"; /bin/cat /etc/passwd"}`)
	}, 932160},
	{"sqli_in_cookie", func(b string) *http.Request {
		r := get(b + "/echo")
		r.Header.Set("Cookie", "pref=1' OR '1'='1")
		return r
	}, 942100},
	{"xss_in_header", func(b string) *http.Request {
		r := get(b + "/echo")
		r.Header.Set("Referer", "http://x/<script>alert(1)</script>")
		return r
	}, 941110},
	{"traversal_in_path", func(b string) *http.Request { return rawPath(b, "/static/../../etc/passwd") }, 930110},
	{"encoded_traversal_in_path", func(b string) *http.Request { return rawPath(b, "/static/%2e%2e/%2e%2e/etc/passwd") }, 930100},
	{"sqli_in_chunked_body", func(b string) *http.Request {
		body := "q=1' UNION SELECT password FROM users--"
		r, _ := http.NewRequest("POST", b+"/echo", io.MultiReader(strings.NewReader(body[:4]), strings.NewReader(body[4:])))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}, 942100},
}

func get(u string) *http.Request {
	r, _ := http.NewRequest("GET", u, nil)
	return r
}

func post(u, contentType, body string) *http.Request {
	r, _ := http.NewRequest("POST", u, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// rawPath builds a request whose path Go's client sends as written: no
// cleaning of dot segments, no re-encoding.
func rawPath(base, path string) *http.Request {
	r, _ := http.NewRequest("GET", base+"/", nil)
	r.URL.Opaque = path
	return r
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestAttacksAreBlocked(t *testing.T) {
	s := startSite(t, "block")
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			req := a.build(s.URL)
			req.Header.Set("Accept-Language", "en")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403; body %.200s", resp.StatusCode, page)
			}
			id := resp.Header.Get("X-Request-Id")
			if len(id) != 24 {
				t.Fatalf("X-Request-Id %q", id)
			}
			if !strings.Contains(string(page), id) || !strings.Contains(string(page), "Request blocked") {
				t.Errorf("block page does not show the incident ID %s: %.300s", id, page)
			}
			if strings.Contains(string(page), "942") || strings.Contains(string(page), "script>alert") {
				t.Errorf("block page names a rule or echoes the request: %s", page)
			}
			ev, ok := findLine[event](t, s, "events.log", "transaction.id", id)
			if !ok {
				t.Fatalf("no event for %s", id)
			}
			if ev.Logger != "mamori.events" || ev.Verdict != "blocked" || ev.Action != "waf-blocked" || ev.Status != 403 {
				t.Errorf("event logger %q verdict %q action %q status %d", ev.Logger, ev.Verdict, ev.Action, ev.Status)
			}
			if ev.RuleID != "949110" || !strings.Contains(ev.RuleName, "Anomaly Score") {
				t.Errorf("deciding rule %q %q, want 949110", ev.RuleID, ev.RuleName)
			}
			if !contains(ev.ruleIDs(), a.ruleID) || ev.Inbound < 5 || ev.SourceIP != "127.0.0.1" {
				t.Errorf("event rules %v (want %d), inbound %d, source %q", ev.ruleIDs(), a.ruleID, ev.Inbound, ev.SourceIP)
			}
			line, ok := findLine[accessLine](t, s, "access.log", "mamori.request_id", id)
			if !ok {
				t.Fatalf("no access-log line for %s", id)
			}
			if line.Status != 403 || line.Verdict != "blocked" || !contains(line.RuleIDs, 949110) {
				t.Errorf("access line %+v", line)
			}
		})
	}
}

func TestDetectModePassesAttacksAndReportsThem(t *testing.T) {
	s := startSite(t, "detect")
	// Not following redirects: the upstream's mux redirects the traversal
	// paths, and the event wanted is the first request's.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			resp, err := client.Do(a.build(s.URL))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// The upstream answers: 200 from /echo, a redirect for the
			// traversal paths its mux cleans.
			if resp.StatusCode == http.StatusForbidden {
				t.Fatalf("detect mode blocked the request")
			}
			id := resp.Header.Get("X-Request-Id")
			ev, ok := findLine[event](t, s, "events.log", "transaction.id", id)
			if !ok {
				t.Fatalf("no event for %s", id)
			}
			if ev.Verdict != "detected" || ev.RuleID != "949110" || !contains(ev.ruleIDs(), a.ruleID) {
				t.Errorf("event verdict %q rule %q rules %v", ev.Verdict, ev.RuleID, ev.ruleIDs())
			}
		})
	}
}

func TestResponseLeakIsBlocked(t *testing.T) {
	s := startSite(t, "block")
	for _, path := range []string{"/leak", "/leak?untyped=1"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "mysql_fetch_array") {
				t.Fatalf("status %d body %.200s; want 403 without the leak", resp.StatusCode, body)
			}
			ev, ok := findLine[event](t, s, "events.log", "transaction.id", resp.Header.Get("X-Request-Id"))
			if !ok || ev.RuleID != "959100" || !contains(ev.ruleIDs(), 951230) {
				t.Errorf("event %+v, want rule 959100 with 951230", ev)
			}
		})
	}
}

func TestBlockPageLanguageAndJSON(t *testing.T) {
	s := startSite(t, "block")
	req := get(s.URL + "/echo?id=1'%20OR%20'1'='1")
	req.Header.Set("Accept-Language", "ja,en;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(page), "ブロック") {
		t.Errorf("Japanese page: status %d %s", resp.StatusCode, page)
	}
	req = get(s.URL + "/echo?id=1'%20OR%20'1'='1")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		IncidentID string `json:"incident_id"`
		Status     int    `json:"status"`
	}
	err = jsonDecode(resp.Body, &j)
	resp.Body.Close()
	if err != nil || j.Status != 403 || j.IncidentID != resp.Header.Get("X-Request-Id") {
		t.Errorf("JSON block: %v %+v", err, j)
	}
}

func TestStreamingAndWebSocketPassThrough(t *testing.T) {
	s := startSite(t, "block")
	t.Run("server_sent_events_stream", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/stream?id=e2e")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		// The upstream sends the rest only after /release: if mamori held
		// the stream back, the first event would never come.
		got := make(chan string, 1)
		br := bufio.NewReader(resp.Body)
		go func() { line, _ := br.ReadString('\n'); got <- line }()
		select {
		case first := <-got:
			if first != "data: event 1\n" {
				t.Fatalf("first line %q", first)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("the first event did not arrive: the stream was held back")
		}
		rel, err := http.Get(s.URL + "/release?id=e2e")
		if err != nil {
			t.Fatal(err)
		}
		rel.Body.Close()
		rest, err := io.ReadAll(br)
		if err != nil || !strings.Contains(string(rest), "data: event 3") {
			t.Errorf("rest of the stream %q, %v", rest, err)
		}
	})
	t.Run("websocket_echo", func(t *testing.T) {
		u, _ := url.Parse(s.URL)
		ws, err := websocket.Dial("ws://"+u.Host+"/ws", "", s.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		for _, msg := range []string{"hello", "守り"} {
			if _, err := ws.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := ws.Read(buf)
			if err != nil || string(buf[:n]) != msg {
				t.Fatalf("echo %q, %v; want %q", buf[:n], err, msg)
			}
		}
	})
}

// TestReloadUnderLoadKeepsServing: two Caddyfile reloads under load (a
// patch in, then out) answer every request that gets an answer with 200,
// and the patch is in force in between. Caddy's listener swap may reset a
// connection racing it (see docs/profiles.md), so transport errors are
// bounded (≤ 1 %), not forbidden; TestReloadRulesUnderLoadDropsNothing holds
// `mamori reload-rules` to zero.
func TestReloadUnderLoadKeepsServing(t *testing.T) {
	s := startSite(t, "block")
	bin, _ := harness.Binaries(t)
	var ok, failed, resets atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(s.URL + "/echo?q=hello")
				if err != nil {
					resets.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	// Two reloads, each a new WAF configuration (a virtual patch), then back.
	patch := filepath.Join(s.Dir, "patch.conf")
	if err := os.WriteFile(patch, []byte(`SecRule ARGS:cve "@streq 2026-0001" "id:1000001,phase:1,deny,status:403,log,msg:'virtual patch'"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(s.Caddyfile)
	withPatch := strings.Replace(string(orig), "mode block", "mode block\n\t\tinclude "+patch, 1)
	for i, cf := range []string{withPatch, string(orig)} {
		time.Sleep(700 * time.Millisecond)
		if err := os.WriteFile(s.Caddyfile, []byte(cf), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runCmd(bin, "reload", "--config", s.Caddyfile, "--adapter", "caddyfile", "--address", s.Admin)
		if err != nil {
			t.Fatalf("reload %d: %v\n%s", i, err, out)
		}
		if i == 0 {
			resp, err := client.Get(s.URL + "/echo?cve=2026-0001")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 {
				t.Errorf("virtual patch not active after reload: status %d", resp.StatusCode)
			}
		}
	}
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d requests during two reloads, %d answered other than 200, %d connections reset", ok.Load(), failed.Load(), resets.Load())
	if failed.Load() != 0 {
		t.Errorf("%d requests answered other than 200 during reload; first: %v", failed.Load(), firstErr.Load())
	}
	if resets.Load()*100 > ok.Load() {
		t.Errorf("%d of %d requests reset during two reloads (more than 1 %%)", resets.Load(), ok.Load())
	}
	if ok.Load() < 50 {
		t.Errorf("only %d requests completed: the load did not run", ok.Load())
	}
}

func TestProtectCommand(t *testing.T) {
	bin, _ := harness.Binaries(t)
	upstream := harness.Upstream(t)
	dir := t.TempDir()
	from := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	accessLog := filepath.Join(dir, "access.log")
	p := harness.Start(t, dir, bin, "protect", "--from", from, "--to", upstream, "--access-log", accessLog)
	harness.WaitHTTP(t, "http://"+from+"/", p)
	logBefore := countLines(accessLog)

	tests := []struct {
		path   string
		status int
		verdct string
	}{
		{"/", 200, "allowed"},
		{"/?id=1'%20OR%20'1'='1", 403, "blocked"},
		{"/status/200", 200, "allowed"},
		// --access-log is mamori's own, masked log (issue 15).
		{"/status/200?user=melody&password=Pr0tect-Pass-4431", 200, "allowed"},
	}
	harness.Secret("Pr0tect-Pass-4431")
	for _, tc := range tests {
		req, _ := http.NewRequest("GET", "http://"+from+tc.path, nil)
		req.Host = "localhost" // a name, so CRS's numeric-Host rule stays quiet
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for countLines(accessLog)-logBefore < len(tests) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(accessLog)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[logBefore:]
	if len(lines) != len(tests) {
		t.Fatalf("%d access lines for %d requests:\n%s", len(lines), len(tests), b)
	}
	for i, l := range lines {
		var a mamoriLine
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		if a.Status != tests[i].status || a.Verdict != tests[i].verdct || a.ID == "" {
			t.Errorf("line %d: %+v, want status %d verdict %s", i, a, tests[i].status, tests[i].verdct)
		}
	}
	if strings.Contains(string(b), "Pr0tect-Pass-4431") || !strings.Contains(string(b), "password=%5Bredacted%5D") {
		t.Errorf("the password is not masked in the access log:\n%s", b)
	}
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return 0
	}
	return strings.Count(strings.TrimSpace(string(b)), "\n") + 1
}

func runCmd(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBrokenReloadKeepsRulesInForce (V12): a reload with a broken patch is
// refused with the file and line, and the running rules keep protecting.
func TestBrokenReloadKeepsRulesInForce(t *testing.T) {
	s := startSite(t, "block")
	bin, _ := harness.Binaries(t)
	patch := filepath.Join(s.Dir, "broken.conf")
	if err := os.WriteFile(patch, []byte("SecRule ARGS:x \"@streq y\" \"id:1000002,phase:1,deny,bogus\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(s.Caddyfile)
	if err := os.WriteFile(s.Caddyfile, []byte(strings.Replace(string(orig), "mode block", "mode block\n\t\tinclude "+patch, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(bin, "reload", "--config", s.Caddyfile, "--adapter", "caddyfile", "--address", s.Admin)
	if err == nil || !strings.Contains(out, patch+":1") {
		t.Fatalf("reload with a broken patch: err %v, output lacks %s:1:\n%s", err, patch, out)
	}
	for path, want := range map[string]int{"/echo?q=hello": 200, "/echo?id=1'%20OR%20'1'='1": 403} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("after the refused reload, %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}
