package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/corpus"
	"github.com/mamori-waf/mamori/tests/harness"
)

// profileCaddyfile is the e2e site with a CMS profile (PROFILE, "" for
// none) at a paranoia level (PL).
var profileCaddyfile = caddyfile("", "paranoia PL\n\t\tPROFILE", "")

func startProfileSite(t *testing.T, upstream, profile string, pl int) *site {
	t.Helper()
	line := ""
	if profile != "" {
		line = "profile " + profile
	}
	cf := strings.NewReplacer("PL", strconv.Itoa(pl), "PROFILE", line).Replace(profileCaddyfile)
	return &site{Mamori: harness.StartMamori(t, cf, upstream), upstream: upstream}
}

// logIn logs in to the fake CMS through mamori, as an editor's browser
// would, and returns the session the corpora's session entries carry.
func logIn(t *testing.T, s *site, profile string) corpus.Session {
	t.Helper()
	sess, err := corpus.LogIn(noRedirect, s.URL, profile)
	if err != nil {
		t.Fatalf("%s login through mamori: %v", profile, err)
	}
	return sess
}

// outcome is what a corpus request got.
type outcome struct {
	status  int
	blocked bool // mamori answered with its block page
	id      string
	body    string
}

func send(t *testing.T, s *site, e corpus.Entry, sess corpus.Session) outcome {
	t.Helper()
	r, err := e.Request(s.URL, sess)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect.Do(r)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	// mamori's block page carries the request ID as the incident ID; the
	// fake CMS never sees it in its answers. The WAF answers 403 or 400,
	// the path guards 404 (denied and installer paths) or 403.
	blocked := resp.StatusCode >= 400 && id != "" && strings.Contains(string(b), id)
	return outcome{status: resp.StatusCode, blocked: blocked, id: id, body: string(b)}
}

func loadCorpus(t *testing.T, profile, kind string) []corpus.Entry {
	t.Helper()
	entries, err := corpus.Load(filepath.Join("..", "testdata", "profiles", profile, kind+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestProfileCorpora (V2, V3, V9, V12, checklist "CMS profiles"): through
// a real mamori in front of the fake CMS, each profile's benign corpus
// passes whole at PL1 and PL2 (admin saves reach the CMS with the editor's
// session and their fields intact), its attack corpus is blocked whole
// (virtual patch shapes by their patch, named in the event), and without
// the profile CRS blocks part of the benign corpus at PL1: the exclusions
// are needed.
func TestProfileCorpora(t *testing.T) {
	upstream := harness.Upstream(t)
	for _, profile := range []string{"movabletype", "wordpress"} {
		benign, attacks := loadCorpus(t, profile, "benign"), loadCorpus(t, profile, "attack")
		for _, pl := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/PL%d", profile, pl), func(t *testing.T) {
				s := startProfileSite(t, upstream, profile, pl)
				sess := logIn(t, s, profile)
				passed, heldOut := 0, 0
				for _, e := range benign {
					o := send(t, s, e, sess)
					if e.KeptCRS != "" && e.Tune() {
						// Benign, but refused on purpose by a CRS PL1 rule
						// mamori keeps (public input): it must stay refused.
						ev, ok := findLine[event](t, s, "events.log", "transaction.id", o.id)
						if !o.blocked || !ok || !eventNames(ev, e.KeptCRS) {
							t.Errorf("benign %s: want it refused by the kept CRS rule %s, got %d %+v", e.Name, e.KeptCRS, o.status, ev)
						}
						continue
					}
					if o.blocked {
						// Held-out entries are counted, not named (issue 11:
						// they are never looked at when choosing a fix;
						// tests/eval's TestOwnCorpora bounds their count).
						if !e.Tune() {
							heldOut++
							continue
						}
						t.Errorf("benign %s: blocked (%d, incident %s)", e.Name, o.status, o.id)
						continue
					}
					passed++
					// The fake CMS's admin pages answer who it thinks the
					// user is and the form it got.
					admin, user := "/cgi-bin/mt/mt.cgi", "melody"
					if profile == "wordpress" {
						admin, user = "/wp-admin/", "admin"
					}
					if e.Session && strings.HasPrefix(e.Path, admin) && len(e.Form) > 0 {
						var v cmsView
						if err := json.Unmarshal([]byte(o.body), &v); err != nil || !v.Valid || v.User != user {
							t.Errorf("%s: the CMS saw no valid session (%d %.200s)", e.Name, o.status, o.body)
							continue
						}
						u, _ := url.Parse(e.Path)
						for k, want := range e.Form {
							if u.Query().Has(k) {
								continue // the CMS merges query and body values
							}
							if got := v.Form[k]; got != want {
								t.Errorf("%s: the CMS got %s=%.80q, want %.80q", e.Name, k, got, want)
							}
						}
					}
				}
				t.Logf("%s PL%d: benign corpus, held-out part: %d blocked (not named)", profile, pl, heldOut)
				t.Logf("%s PL%d: benign corpus %d requests, %d passed, %d blocked", profile, pl, len(benign), passed, len(benign)-passed)

				blocked, heldOut := 0, 0
				for _, e := range attacks {
					o := send(t, s, e, sess)
					if !o.blocked {
						if !e.Tune() {
							heldOut++
							continue
						}
						t.Errorf("attack %s: not blocked (%d %.120s)", e.Name, o.status, o.body)
						continue
					}
					blocked++
					if e.Rule != "" {
						ev, ok := findLine[event](t, s, "events.log", "transaction.id", o.id)
						if !ok || ev.Verdict != "blocked" || !eventNames(ev, e.Rule) {
							t.Errorf("attack %s: event %+v does not name %s", e.Name, ev, e.Rule)
						}
					}
				}
				t.Logf("%s PL%d: attack corpus, held-out part: %d not blocked (not named; bounded by tests/eval TestOwnCorpora)", profile, pl, heldOut)
				t.Logf("%s PL%d: attack corpus %d requests, %d blocked", profile, pl, len(attacks), blocked)
			})
		}
		t.Run(profile+"/without_profile_PL1", func(t *testing.T) {
			s := startProfileSite(t, upstream, "", 1)
			sess := logIn(t, s, profile)
			blocked := 0
			for _, e := range benign {
				if send(t, s, e, sess).blocked {
					blocked++
				}
			}
			t.Logf("%s benign corpus WITHOUT the profile at PL1: %d of %d blocked (the exclusions are needed)", profile, blocked, len(benign))
			if blocked < len(benign)/5 {
				t.Errorf("only %d of %d blocked without the profile: the corpus does not exercise the exclusions", blocked, len(benign))
			}
		})
	}
}

// eventNames reports whether an event's rules carry the rule ID or the
// CVE (in the rule's message, which every patch starts with its CVE).
func eventNames(ev event, rule string) bool {
	for _, r := range ev.Rules {
		if strconv.Itoa(r.ID) == rule || strings.Contains(r.Message, rule) {
			return true
		}
	}
	return false
}

// heySummary is what hey's summary says about the responses.
type heySummary struct {
	statuses map[int]int
	errors   []string
}

var (
	heyStatus = regexp.MustCompile(`^\s*\[(\d{3})\]\s+(\d+) responses`)
	heyError  = regexp.MustCompile(`^\s*\[(\d+)\]\s+(.+)$`)
)

func parseHey(out string) heySummary {
	s := heySummary{statuses: map[int]int{}}
	section := ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "Status code distribution:"):
			section = "status"
		case strings.HasPrefix(l, "Error distribution:"):
			section = "error"
		case section == "status" && heyStatus.MatchString(l):
			m := heyStatus.FindStringSubmatch(l)
			code, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			s.statuses[code] += n
		case section == "error" && heyError.MatchString(l):
			s.errors = append(s.errors, strings.TrimSpace(l))
		case strings.TrimSpace(l) == "":
		default:
			if section == "error" {
				s.errors = append(s.errors, strings.TrimSpace(l))
			}
		}
	}
	return s
}

func TestParseHey(t *testing.T) {
	out := "Summary:\n  Total:\t5.0 secs\n\nStatus code distribution:\n  [200]\t812 responses\n  [403]\t3 responses\n\nError distribution:\n  [2]\tPost \"http://x\": EOF\n"
	s := parseHey(out)
	if s.statuses[200] != 812 || s.statuses[403] != 3 || len(s.errors) != 1 {
		t.Fatalf("parsed %+v", s)
	}
}

// patchSite is a mamori with the movabletype profile whose Caddyfile
// includes <dir>/patches/*.conf (and has the extra lines), plus helpers.
type patchSite struct {
	*site
	t       *testing.T
	patches string
	session corpus.Session
}

func startPatchSite(t *testing.T, extra string) *patchSite {
	t.Helper()
	upstream := harness.Upstream(t)
	// The patches directory must exist before mamori starts: it lives
	// beside the Caddyfile, which StartMamori creates, so start once,
	// create it, and reload into the real configuration.
	s := startProfileSite(t, upstream, "movabletype", 1)
	p := &patchSite{site: s, t: t, patches: filepath.Join(s.Dir, "patches")}
	if err := os.Mkdir(p.patches, 0o700); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(s.Caddyfile)
	// Debian's hey sends its own User-Agent whatever -H says, so the load
	// cannot carry the browser the session was bound to: these tests are
	// about reloads, and bind the session to the network only.
	cf := strings.Replace(string(orig), "profile movabletype", "profile movabletype\n\t\tinclude "+p.patches+"/*.conf"+extra+
		"\n\t\tsession {\n\t\t\tbind user_agent off\n\t\t}", 1)
	if err := os.WriteFile(s.Caddyfile, []byte(cf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := p.reload(); err != nil {
		t.Fatalf("reload into the patch configuration: %v\n%s", err, out)
	}
	p.session = logIn(t, s, "movabletype")
	return p
}

func (p *patchSite) reload() (string, error) {
	bin, _ := harness.Binaries(p.t)
	return runCmd(bin, "reload", "--config", p.Caddyfile, "--adapter", "caddyfile", "--address", p.Admin)
}

func (p *patchSite) write(name, content string) {
	if err := os.WriteFile(filepath.Join(p.patches, name), []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

func (p *patchSite) status(path string) int {
	resp, err := noRedirect.Get(p.URL + path)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls path until it answers want (a watcher applies changes
// within its interval) and reports whether it did.
func (p *patchSite) waitStatus(path string, want int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p.status(path) == want {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func cvePatch(value string) string {
	return fmt.Sprintf(`SecRule ARGS:cve "@streq %s" "id:1000101,phase:1,deny,status:403,log,msg:'virtual patch %s'"`+"\n", value, value)
}

const brokenPatch = "SecRule ARGS:x \"@streq y\" \"id:1000102,phase:1,deny,bogus\"\n"

// heyRun is one hey load generator.
type heyRun struct {
	name string
	args []string
	out  []byte
	err  error
}

// startLoad runs hey against the site for the duration: an editor's entry
// save (rich HTML, through the profile's exclusions) on kept-alive
// connections and on a new connection each, and public page views.
func (p *patchSite) startLoad(duration string) (runs []*heyRun, wait func()) {
	hey, err := exec.LookPath("hey")
	if err != nil {
		p.t.Fatal("hey is not installed: run tests/setup.sh")
	}
	const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	save := url.Values{"__mode": {"save_entry"}, "_type": {"entry"}, "blog_id": {"1"}, "id": {"12"}, "title": {"Rock & Roll"},
		"return_args": {"__mode=view&_type=entry&blog_id=1&id=12"},
		"text":        {`<p>動画</p><iframe src="https://www.youtube.com/embed/x" allowfullscreen></iframe><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`}}
	var cookies []string
	for _, c := range p.session.Cookies {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	common := []string{"-z", duration, "-c", "3", "-host", "cms.example.com", "-H", "User-Agent: " + browser, "-H", "Sec-Fetch-Site: same-origin", "-A", "text/html"}
	post := append([]string{"-m", "POST", "-T", "application/x-www-form-urlencoded", "-H", "Cookie: " + strings.Join(cookies, "; "), "-d", save.Encode()}, common...)
	runs = []*heyRun{
		{name: "entry save, kept-alive connections", args: append(slices.Clone(post), p.URL+"/cgi-bin/mt/mt.cgi")},
		{name: "entry save, a new connection each", args: append(append(slices.Clone(post), "-disable-keepalive"), p.URL+"/cgi-bin/mt/mt.cgi")},
		{name: "public page", args: append(append([]string{"-T", "application/x-www-form-urlencoded"}, common...), p.URL+"/blog/2026/11/spring.html?q=O%27Reilly")},
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.out, r.err = exec.Command(hey, r.args...).CombinedOutput()
		}()
	}
	return runs, wg.Wait
}

// check reports each run's figures and fails the test on a status other
// than 200, on too little load and, when strict, on any failed request.
func checkLoad(t *testing.T, runs []*heyRun, strict bool) (total, failed int) {
	t.Helper()
	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("hey (%s): %v\n%s", r.name, r.err, r.out)
		}
		sum := parseHey(string(r.out))
		n := 0
		for code, c := range sum.statuses {
			n += c
			if code != 200 {
				t.Errorf("hey (%s): %d responses with status %d", r.name, c, code)
			}
		}
		errs := 0
		for _, e := range sum.errors {
			k := 1
			if m := heyError.FindStringSubmatch(e); m != nil {
				k, _ = strconv.Atoi(m[1])
			}
			errs += k
		}
		if strict && errs > 0 {
			t.Errorf("hey (%s): %d failed requests: %v", r.name, errs, sum.errors)
		}
		if n < 30 {
			t.Errorf("hey (%s): only %d responses: the load did not run\n%s", r.name, n, r.out)
		}
		t.Logf("hey (%s): %d responses %v, %d failed", r.name, n, sum.statuses, errs)
		total, failed = total+n, failed+errs
	}
	return total, failed
}

// TestWatchUnderLoadPicksUpPatches (V12): with `watch` on, a patch added,
// changed and broken on disk under load is applied, re-applied and refused
// (the last good rules stay) without a configuration reload: listeners and
// connections are untouched, and not one request fails, on kept-alive
// connections or new ones.
func TestWatchUnderLoadPicksUpPatches(t *testing.T) {
	p := startPatchSite(t, "\n\t\twatch 200ms")
	runs, wait := p.startLoad("5s")
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0001"))
	if !p.waitStatus("/echo?cve=2026-0001", 403) {
		t.Error("added patch not in force")
	}
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0002"))
	if !p.waitStatus("/echo?cve=2026-0002", 403) || p.status("/echo?cve=2026-0001") != 200 {
		t.Error("changed patch not in force, or the old one still is")
	}
	time.Sleep(700 * time.Millisecond)
	p.write("zz-broken.conf", brokenPatch)
	// The watcher compiles the broken set before refusing it: on a loaded
	// machine that takes seconds, so wait for the log line (generously).
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.Proc.String(), "zz-broken.conf:1") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(p.Proc.String(), "zz-broken.conf:1") {
		t.Errorf("the refused change was not logged with its file and line:\n%s", p.Proc.String())
	}
	if p.status("/echo?cve=2026-0002") != 403 {
		t.Error("after a broken patch the last good patch is gone")
	}
	wait()
	total, _ := checkLoad(t, runs, true)
	t.Logf("watch under load: %d requests during three rule changes, 0 failed", total)
}

// TestReloadUnderLoadPicksUpPatches (V12): `mamori reload` under load
// applies a new patch, a patch changed in place (the adapted configuration
// records the files' digest, so Caddy does not skip the reload as
// unchanged), and refuses a broken one naming file and line, keeping the
// last good rules. Every response is a 200. Requests on connections that
// race the listener swap are counted, not asserted: Caddy v2.11.9 binds a
// new SO_REUSEPORT socket per configuration and closes the old one, which
// resets connections still queued on it; plain Caddy (no mamori) shows
// the same. `watch` (above) avoids it.
func TestReloadUnderLoadPicksUpPatches(t *testing.T) {
	p := startPatchSite(t, "")
	runs, wait := p.startLoad("5s")
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0001"))
	if out, err := p.reload(); err != nil {
		t.Errorf("reload adding a patch: %v\n%s", err, out)
	}
	if got := p.status("/echo?cve=2026-0001"); got != 403 {
		t.Errorf("new patch not in force after reload: status %d", got)
	}
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0002")) // same file, changed
	if out, err := p.reload(); err != nil {
		t.Errorf("reload changing a patch: %v\n%s", err, out)
	}
	if a, b := p.status("/echo?cve=2026-0001"), p.status("/echo?cve=2026-0002"); a != 200 || b != 403 {
		t.Errorf("changed patch: old value %d (want 200), new value %d (want 403)", a, b)
	}
	time.Sleep(700 * time.Millisecond)
	p.write("zz-broken.conf", brokenPatch)
	if out, err := p.reload(); err == nil || !strings.Contains(out, "zz-broken.conf:1") {
		t.Errorf("reload with a broken patch: err %v, output lacks the file and line:\n%s", err, out)
	}
	if got := p.status("/echo?cve=2026-0002"); got != 403 {
		t.Errorf("after the refused reload the last good patch is gone: status %d", got)
	}
	wait()
	total, failed := checkLoad(t, runs, false)
	t.Logf("mamori reload under load: %d requests during three reloads, %d failed at the listener swap", total, failed)
}

// TestReloadRulesUnderLoadDropsNothing (V12): `mamori reload-rules` applies
// a patch added and then changed on disk, under load, and refuses a broken
// one with its file and line (the last good rules stay), without a single
// failed request: unlike `mamori reload` it never swaps listeners.
func TestReloadRulesUnderLoadDropsNothing(t *testing.T) {
	p := startPatchSite(t, "")
	bin, _ := harness.Binaries(t)
	reloadRules := func() (string, error) {
		return runCmd(bin, "reload-rules", "--address", p.Admin)
	}
	runs, wait := p.startLoad("5s")
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0001"))
	if out, err := reloadRules(); err != nil || !strings.Contains(out, "1 of 1 sites") {
		t.Errorf("reload-rules adding a patch: %v\n%s", err, out)
	}
	if got := p.status("/echo?cve=2026-0001"); got != 403 {
		t.Errorf("new patch not in force after reload-rules: status %d", got)
	}
	time.Sleep(700 * time.Millisecond)
	p.write("cve-2026-0001.conf", cvePatch("2026-0002"))
	if out, err := reloadRules(); err != nil {
		t.Errorf("reload-rules changing a patch: %v\n%s", err, out)
	}
	if a, b := p.status("/echo?cve=2026-0001"), p.status("/echo?cve=2026-0002"); a != 200 || b != 403 {
		t.Errorf("changed patch: old value %d (want 200), new value %d (want 403)", a, b)
	}
	time.Sleep(700 * time.Millisecond)
	p.write("zz-broken.conf", brokenPatch)
	if out, err := reloadRules(); err == nil || !strings.Contains(out, "zz-broken.conf:1") {
		t.Errorf("reload-rules with a broken patch: err %v, output lacks the file and line:\n%s", err, out)
	}
	if got := p.status("/echo?cve=2026-0002"); got != 403 {
		t.Errorf("after the refused change the last good patch is gone: status %d", got)
	}
	wait()
	total, failed := checkLoad(t, runs, true)
	t.Logf("mamori reload-rules under load: %d requests during three rule changes, %d failed", total, failed)
}

// TestWordPressGuardsOffSwitch (V12): through the built binary, the
// WordPress profile's guards are turned off by name with disable_patch:
// anonymous user enumeration and a brute-force system.multicall then
// reach the CMS (the multicall, with its guard's raw body handling gone,
// fails Coraza's XML parser as documented), while a patch left on still
// refuses its attack.
func TestWordPressGuardsOffSwitch(t *testing.T) {
	upstream := harness.Upstream(t)
	attacks := loadCorpus(t, "wordpress", "attack")
	byName := map[string]corpus.Entry{}
	for _, e := range attacks {
		byName[e.Name] = e
	}
	s := startProfileSite(t, upstream, "wordpress {\n\t\t\tdisable_patch mamori-wp-user-enum mamori-wp-xmlrpc-multicall\n\t\t}", 1)
	for _, name := range []string{"wp-user-enum-author-1", "wp-user-enum-rest-users", "wp-user-enum-rest-route"} {
		e, ok := byName[name]
		if !ok {
			t.Fatalf("no attack entry %s", name)
		}
		if o := send(t, s, e, corpus.Session{}); o.blocked || o.status != 200 {
			t.Errorf("%s with its guard disabled: %d (blocked %v), want it to reach the CMS", name, o.status, o.blocked)
		}
	}
	o := send(t, s, byName["wp-xmlrpc-multicall-six-getposts"], corpus.Session{})
	if ev, ok := findLine[event](t, s, "events.log", "transaction.id", o.id); !ok || eventNames(ev, "mamori-wp-xmlrpc-multicall") || !eventNames(ev, "200002") {
		t.Errorf("multicall with its guard disabled: %d, event %+v; want the XML parser's 200002, not the guard", o.status, ev)
	}
	if o := send(t, s, byName["cve-2023-28121-wcpay-header"], corpus.Session{}); !o.blocked {
		t.Errorf("CVE-2023-28121 (not disabled): %d, want refused", o.status)
	}
}
