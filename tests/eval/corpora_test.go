package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/evalcorpus"
	"github.com/mamori-waf/mamori/tests/corpus"
	"github.com/mamori-waf/mamori/tests/harness"
)

// corporaCaddyfile is a site with a CMS profile at a paranoia level and
// mamori's events in a file, to name the rules of a refusal.
const corporaCaddyfile = `{
	admin off
	log default {
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
	mamori {
		paranoia PL
		profile PROFILE
	}
	reverse_proxy {UPSTREAM}
}
`

// heldOutRefused and heldOutPassed bound the benign requests of each
// corpus's held-out part that mamori refuses and its attacks that pass:
// the counts measured once the tuning part was done (issue 11), so that
// the held-out part guards against regressions without being looked at.
// They go down with fixes, and rise only when new entries land in the
// held-out part by their hash (rounds 2 to 4 added 27 Movable Type and
// 27 WordPress benign entries there; round 5's entries were all named into
// the tuning part); the target is 0 for both.
var (
	heldOutRefused = map[string]int{
		"movabletype PL1": 7, "movabletype PL2": 9,
		"wordpress PL1": 4, "wordpress PL2": 9,
	}
	heldOutPassed = map[string]int{
		"movabletype PL1": 1, "movabletype PL2": 1,
		"wordpress PL1": 1, "wordpress PL2": 1,
	}
)

// partTally counts one part of a corpus run.
type partTally struct {
	benign, refused, attacks, blocked int
	// kept counts the refused benign entries marked kept_crs.
	kept int
}

func (p partTally) String() string {
	return fmt.Sprintf("benign refused %s (%d kept CRS PL1)  attacks refused %s",
		evalcorpus.Rate{Hits: p.refused, Total: p.benign}, p.kept, evalcorpus.Rate{Hits: p.blocked, Total: p.attacks})
}

// TestOwnCorpora (issue 11; V2, V3, V9, V12): mamori's own Movable Type and
// WordPress corpora (tests/testdata/profiles: editors' work in the admin,
// the public side, and attacks, CVE shapes included) through the built
// binary with each profile, defaults, blocking, at PL1 and PL2. Each
// corpus is split by the hash of the entry's name (corpus.Entry.Tune,
// fixed before any tuning) into a tuning part and a held-out part, and
// both are printed side by side. Target: no benign request refused and
// every attack refused, in both parts. The tuning part is held to it
// (but for entries marked kept_crs, which must stay refused by their CRS
// PL1 rule), and its failures are named with the rules that refused; the
// held-out part's are only counted (its requests are never looked at
// when choosing a fix), and may not exceed heldOutRefused and
// heldOutPassed.
// MAMORI_CORPUS_PART=tune runs the tuning part only.
func TestOwnCorpora(t *testing.T) {
	tuneOnly := os.Getenv("MAMORI_CORPUS_PART") == "tune"
	upstream := harness.Upstream(t)
	client := evalcorpus.NewClient(30 * time.Second)
	var lines []string
	for _, profile := range []string{"movabletype", "wordpress"} {
		dir := filepath.Join("..", "testdata", "profiles", profile)
		benign, err := corpus.Load(filepath.Join(dir, "benign.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		attacks, err := corpus.Load(filepath.Join(dir, "attack.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, pl := range []int{1, 2} {
			label := fmt.Sprintf("%s PL%d", profile, pl)
			cf := strings.NewReplacer("PL", strconv.Itoa(pl), "PROFILE", profile).Replace(corporaCaddyfile)
			m := harness.StartMamori(t, cf, upstream)
			sess, err := corpus.LogIn(client, m.URL, profile)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			parts := map[bool]*partTally{true: {}, false: {}}
			var named []string // tuning-part failures, with their rules
			run := func(e corpus.Entry, attack bool) {
				if tuneOnly && !e.Tune() {
					return
				}
				refused, id, status := sendEntry(t, client, m.URL, e, sess)
				p := parts[e.Tune()]
				if e.KeptCRS != "" && e.Tune() {
					// Benign, refused on purpose by CRS PL1: counted as
					// refused, and it must stay refused by that rule.
					p.benign++
					if rules := eventRules(t, m, id); !refused || !strings.Contains(" "+rules, " "+e.KeptCRS+"@") {
						named = append(named, fmt.Sprintf("kept CRS rule %s no longer refuses %s: %d %s", e.KeptCRS, e.Name, status, rules))
					} else {
						p.refused++
						p.kept++
					}
					return
				}
				if attack {
					p.attacks++
					if refused {
						p.blocked++
						return
					}
				} else {
					p.benign++
					if !refused {
						return
					}
					p.refused++
				}
				if e.Tune() {
					if attack {
						named = append(named, fmt.Sprintf("attack passed %s: %d", e.Name, status))
					} else {
						named = append(named, fmt.Sprintf("benign refused %s: %d %s", e.Name, status, eventRules(t, m, id)))
					}
				}
			}
			for _, e := range benign {
				run(e, false)
			}
			for _, e := range attacks {
				run(e, true)
			}
			for _, n := range named {
				t.Errorf("%s tuning part: %s", label, n)
			}
			if h := parts[false]; !tuneOnly && (h.refused > heldOutRefused[label] || h.attacks-h.blocked > heldOutPassed[label]) {
				t.Errorf("%s held-out part: %d benign refused (at most %d), %d attacks passed (at most %d) (not named: held out)",
					label, h.refused, heldOutRefused[label], h.attacks-h.blocked, heldOutPassed[label])
			}
			line := fmt.Sprintf("OWN %-14s tune: %s | held-out: %s", label, parts[true], parts[false])
			fmt.Println(line)
			lines = append(lines, line)
		}
	}
	for _, l := range lines {
		t.Log(l)
	}
}

// sendEntry sends a corpus entry and reports whether mamori refused it
// with its block page (the incident ID in the page, whatever the status:
// 403 or 400 from the WAF, 404 from the path guards), with the request ID.
func sendEntry(t *testing.T, client *http.Client, base string, e corpus.Entry, sess corpus.Session) (refused bool, id string, status int) {
	t.Helper()
	r, err := e.Request(base, sess)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(r)
	if err != nil {
		t.Fatalf("%s: %v", e.Name, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id = resp.Header.Get("X-Request-Id")
	refused = resp.StatusCode >= 400 && id != "" && strings.Contains(string(b), id)
	return refused, id, resp.StatusCode
}

// eventRules names the rules (ID and target) of a request's event, or
// says there is none (a guard without rules, or an allowed request).
func eventRules(t *testing.T, m *harness.Mamori, id string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, l := range m.ReadLines(t, "events.log") {
			var ev struct {
				ID     string `json:"transaction.id"`
				Action string `json:"event.action"`
				Rules  []struct {
					ID     int    `json:"id"`
					Target string `json:"target"`
				} `json:"mamori.rules"`
			}
			if json.Unmarshal([]byte(l), &ev) != nil || ev.ID != id {
				continue
			}
			var rules []string
			for _, r := range ev.Rules {
				rules = append(rules, fmt.Sprintf("%d@%s", r.ID, r.Target))
			}
			sort.Strings(rules)
			return ev.Action + " " + strings.Join(rules, " ")
		}
		if id == "" || time.Now().After(deadline) {
			return "(no event)"
		}
		time.Sleep(50 * time.Millisecond)
	}
}
