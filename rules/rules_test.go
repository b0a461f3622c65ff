package rules_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mamori-waf/mamori/internal/waf"
	"github.com/mamori-waf/mamori/rules"
	"github.com/mamori-waf/mamori/tests/corpus"
)

// Each distinct engine (CRS takes about a second to compile) is built once.
var (
	enginesMu sync.Mutex
	engines   = map[string]*waf.Engine{}
)

// engine compiles CRS at the paranoia level with the profile's packs
// ("" for none) rendered for root.
func engine(t testing.TB, profile, root string, pl int, disabled ...string) *waf.Engine {
	t.Helper()
	cfg := waf.Config{ParanoiaLevel: pl}
	if profile != "" {
		packs, err := rules.ForProfile(profile, rules.Site{Root: root, Static: "/mt-static/"}, disabled)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range packs {
			cfg.Packs = append(cfg.Packs, waf.RulePack{Name: p.Name, SecLang: p.SecLang})
		}
	}
	c, err := waf.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if e, ok := engines[c.Fingerprint]; ok {
		return e
	}
	e, err := waf.New(c)
	if err != nil {
		t.Fatal(err)
	}
	engines[c.Fingerprint] = e
	return e
}

// result is what the WAF decided about one request.
type result struct {
	blocked bool
	rules   []int
	tags    []string
	detail  []string
}

func run(t testing.TB, e *waf.Engine, r *http.Request) result {
	t.Helper()
	tx := e.NewTransaction("t")
	defer tx.Close()
	it, err := tx.ProcessRequest(r, "203.0.113.7", 40000)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	v := tx.Verdict()
	res := result{blocked: it != nil, rules: v.RuleIDs()}
	for _, m := range v.Matches {
		res.tags = append(res.tags, m.Tags...)
		res.detail = append(res.detail, fmt.Sprintf("%d %s=%.60q", m.ID, m.Target, m.Value))
	}
	return res
}

// sessions are the logged-in credentials the corpora's session entries carry.
var sessions = map[string]corpus.Session{
	"movabletype": {
		Cookies: []*http.Cookie{{Name: "mt_user", Value: "melody::" + strings.Repeat("3f9c1e7a5b", 4) + "::0"}},
		Headers: map[string]string{"X-MT-Authorization": "MTAuth accessToken=tok3f9c1e7a5b3f9c1e7a5b"},
	},
	"wordpress": {
		Cookies: []*http.Cookie{{Name: "wordpress_logged_in_5d41402abc4b2a76b9719d911017c592", Value: "admin|1767225600|Zk3abc|d41d8cd98f00b204e9800998ecf8427e"}},
		Headers: map[string]string{"X-WP-Nonce": "0a1b2c3d4e"},
	},
}

func load(t testing.TB, profile, kind string) []corpus.Entry {
	t.Helper()
	entries, err := corpus.Load(filepath.Join("..", "tests", "testdata", "profiles", profile, kind+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestBenignCorpusPasses (V9, V12): every benign request of a profile's
// corpus passes CRS with the profile at paranoia levels 1 and 2.
func TestBenignCorpusPasses(t *testing.T) {
	for _, profile := range []string{"movabletype"} {
		entries := load(t, profile, "benign")
		for _, pl := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/PL%d", profile, pl), func(t *testing.T) {
				e := engine(t, profile, "/cgi-bin/mt/", pl)
				blocked := 0
				for _, en := range entries {
					r, err := en.Request("", sessions[profile])
					if err != nil {
						t.Fatal(err)
					}
					if res := run(t, e, r); res.blocked {
						blocked++
						t.Errorf("%s: blocked by %v", en.Name, res.detail)
					}
				}
				t.Logf("%s PL%d: %d benign requests, %d blocked", profile, pl, len(entries), blocked)
			})
		}
	}
}

var _ = slices.Contains[[]int]
