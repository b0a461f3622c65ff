package rules_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// roots are the profiles' default admin paths.
var roots = map[string]string{"movabletype": "/cgi-bin/mt/", "wordpress": "/"}

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
// corpus tuning part passes CRS with the profile at paranoia levels 1 and
// 2, but those marked kept_crs, which their CRS PL1 rule refuses. The
// held-out part (issue 11) is counted, never named: tests/eval's
// TestOwnCorpora reports and bounds it through the built binary.
func TestBenignCorpusPasses(t *testing.T) {
	for _, profile := range []string{"movabletype", "wordpress"} {
		entries := load(t, profile, "benign")
		for _, pl := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/PL%d", profile, pl), func(t *testing.T) {
				e := engine(t, profile, roots[profile], pl)
				blocked, heldOut := 0, 0
				for _, en := range entries {
					r, err := en.Request("", sessions[profile])
					if err != nil {
						t.Fatal(err)
					}
					res := run(t, e, r)
					if res.blocked {
						blocked++
					}
					switch {
					case !en.Tune():
						if res.blocked {
							heldOut++
						}
					case en.KeptCRS != "" && (!res.blocked || !slices.Contains(res.rules, atoi(en.KeptCRS))):
						t.Errorf("%s: want it refused by CRS %s (kept), got blocked=%v %v", en.Name, en.KeptCRS, res.blocked, res.detail)
					case en.KeptCRS == "" && res.blocked:
						t.Errorf("%s: blocked by %v", en.Name, res.detail)
					}
				}
				t.Logf("%s PL%d: %d benign requests, %d blocked (%d of them in the held-out part)", profile, pl, len(entries), blocked, heldOut)
			})
		}
	}
}

// TestAttackCorpusIsBlocked (V2, V3, V9, V12): every attack of a profile's
// corpus is blocked with the profile at paranoia levels 1 and 2, and each
// virtual patch's attack shape by that patch. Attacks that a mamori guard
// outside the WAF refuses (guard: in the corpus) are left to the tests
// through the built binary (tests/e2e, tests/eval).
func TestAttackCorpusIsBlocked(t *testing.T) {
	for _, profile := range []string{"movabletype", "wordpress"} {
		entries := load(t, profile, "attack")
		for _, pl := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/PL%d", profile, pl), func(t *testing.T) {
				e := engine(t, profile, roots[profile], pl)
				blocked, heldOut := 0, 0
				for _, en := range entries {
					if en.Guard != "" {
						continue
					}
					r, err := en.Request("", sessions[profile])
					if err != nil {
						t.Fatal(err)
					}
					res := run(t, e, r)
					switch {
					case !res.blocked && !en.Tune():
						heldOut++
					case !res.blocked:
						t.Errorf("%s: passed (matched %v)", en.Name, res.detail)
					case en.Rule != "" && !slices.Contains(res.tags, en.Rule) && !slices.Contains(res.rules, atoi(en.Rule)):
						t.Errorf("%s: blocked, but not by %s: %v", en.Name, en.Rule, res.detail)
					default:
						blocked++
					}
				}
				t.Logf("%s PL%d: %d attacks, %d blocked, %d of the held-out part passed", profile, pl, len(entries), blocked, heldOut)
			})
		}
	}
}

// TestExclusionsAreNeeded: without the profile, CRS at PL1 blocks part of
// the benign corpus, the editor's work above all: the profile's
// exclusions are what lets it through.
func TestExclusionsAreNeeded(t *testing.T) {
	for _, profile := range []string{"movabletype", "wordpress"} {
		entries := load(t, profile, "benign")
		e := engine(t, "", "", 1)
		blocked := 0
		for _, en := range entries {
			r, err := en.Request("", sessions[profile])
			if err != nil {
				t.Fatal(err)
			}
			if run(t, e, r).blocked {
				blocked++
			}
		}
		t.Logf("%s benign corpus without the profile at PL1: %d of %d blocked", profile, blocked, len(entries))
		if blocked < len(entries)/5 {
			t.Errorf("only %d of %d blocked without the profile; the corpus does not exercise the exclusions", blocked, len(entries))
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func entryNamed(t testing.TB, entries []corpus.Entry, name string) corpus.Entry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no corpus entry %q", name)
	return corpus.Entry{}
}

// TestVirtualPatches (V12): each patch blocks its attack shape (the block
// carries the CVE's tag), lets its benign twin through, and is what blocks:
// with the patch turned off (disable_patch) the shape is no longer caught
// by it.
func TestVirtualPatches(t *testing.T) {
	attacks, benign := load(t, "movabletype", "attack"), load(t, "movabletype", "benign")
	tests := []struct{ cve, attack, twin string }{
		{"CVE-2021-20837", "cve-2021-20837-cdata-split", "mt-xmlrpc-metaWeblog-newPost"},
		{"CVE-2022-38078", "cve-2022-38078-soapaction", "mt-xmlrpc-blogger-getUsersBlogs"},
		{"CVE-2026-25776", "cve-2026-25776-nested-object", "mt-filtered-list-pack-author-and-comments"},
		{"CVE-2026-33088", "cve-2026-33088-count-word", "mt-filtered-list-pack-author-and-comments"},
		{"CVE-2013-2184", "cve-2013-2184-hex-storable", "mt-comment-state-plain"},
		{"CVE-2015-1592", "cve-2015-1592-raw-storable", "mt-comment-state-plain"},
	}
	s := sessions["movabletype"]
	for _, tc := range tests {
		t.Run(tc.cve, func(t *testing.T) {
			on := engine(t, "movabletype", "/cgi-bin/mt/", 1)
			off := engine(t, "movabletype", "/cgi-bin/mt/", 1, tc.cve)
			attack, _ := entryNamed(t, attacks, tc.attack).Request("", s)
			if res := run(t, on, attack); !res.blocked || !slices.Contains(res.tags, tc.cve) {
				t.Errorf("attack %s: blocked %v by %v, want a block tagged %s", tc.attack, res.blocked, res.detail, tc.cve)
			}
			twin, _ := entryNamed(t, benign, tc.twin).Request("", s)
			if res := run(t, on, twin); res.blocked {
				t.Errorf("benign twin %s blocked by %v", tc.twin, res.detail)
			}
			attack, _ = entryNamed(t, attacks, tc.attack).Request("", s)
			if res := run(t, off, attack); slices.Contains(res.tags, tc.cve) {
				t.Errorf("with %s disabled its rules still ran: %v", tc.cve, res.detail)
			}
		})
	}
}

// TestWordPressPatches (V12): each WordPress patch and guard refuses its
// attack (the block carries its tag), lets a benign request of the same
// plugin through, and is what blocks: turned off (disable_patch), its
// rules no longer run.
func TestWordPressPatches(t *testing.T) {
	attacks, benign := load(t, "wordpress", "attack"), load(t, "wordpress", "benign")
	tests := []struct{ patch, attack, twin string }{
		{"mamori-wp-user-enum", "wp-user-enum-author-1", "wp-editor-block-editor-lists-authors"},
		{"mamori-wp-user-enum", "wp-user-enum-rest-users", "wp-editor-block-editor-lists-authors"},
		{"mamori-wp-user-enum", "wp-user-enum-rest-route-encoded", "wp-editor-rest-route-users-me"},
		{"mamori-wp-user-enum", "wp-user-enum-rest-double-slash-case", "wp-public-get-author-archive-by-slug"},
		{"mamori-wp-xmlrpc-multicall", "wp-xmlrpc-multicall-bruteforce-getusersblogs", "wp-xmlrpc-multicall-two-getposts"},
		{"mamori-wp-xmlrpc-multicall", "wp-xmlrpc-multicall-single-getusersblogs-cdata", "wp-xmlrpc-getposts-with-params"},
		{"mamori-wp-xmlrpc-multicall", "wp-xmlrpc-multicall-six-getposts", "wp-xmlrpc-list-methods"},
		{"mamori-wp-xmlrpc-multicall", "wp-xmlrpc-multicall-path-info-case", "wp-xmlrpc-list-methods"},
		{"CVE-2023-6063", "cve-2023-6063-wpfc-cookie-sqli", "wp-editor-block-editor-lists-authors"},
		{"CVE-2023-6063", "cve-2023-6063-wpfc-cookie-sqli-encoded", "wp-editor-rest-route-users-me"},
		{"CVE-2020-35489", "cve-2020-35489-cf7-tab-in-filename", "wp-cf7-submit-with-pdf"},
		{"CVE-2018-19207", "cve-2018-19207-gdpr-users-can-register", "gdpr-admin-saves-own-setting"},
		{"CVE-2018-19207", "cve-2018-19207-gdpr-default-role-escaped", "gdpr-admin-saves-own-setting"},
		{"CVE-2023-3460", "cve-2023-3460-um-capabilities-lookalike", "wp-um-register"},
		{"CVE-2023-3460", "cve-2023-3460-um-capabilities-plain", "wp-um-register"},
		{"CVE-2023-32243", "cve-2023-32243-ea-reset-without-key", "wp-ea-reset-with-key"},
		{"CVE-2020-25213", "cve-2020-25213-file-manager-connector", "wp-file-manager-asset"},
		{"CVE-2024-27956", "cve-2024-27956-wp-automatic-csv", "wp-automatic-asset"},
		{"CVE-2023-28121", "cve-2023-28121-wcpay-header", "wp-woocommerce-store-cart"},
		{"CVE-2024-25600", "cve-2024-25600-bricks-query-editor", "wp-bricks-render-heading"},
		{"CVE-2024-25600", "cve-2024-25600-bricks-rest-route-code", "wp-bricks-render-heading"},
		{"CVE-2021-24284", "cve-2021-24284-kaswara-upload", "wp-kaswara-asset"},
		{"CVE-2020-8772", "cve-2020-8772-infinitewp-add-site", "wp-infinitewp-get-stats"},
		{"CVE-2019-9978", "cve-2019-9978-social-warfare-rfi", "wp-social-warfare-cache-rebuild"},
		{"CVE-2021-25003", "cve-2021-25003-wpcargo-barcode-file", "wp-wpcargo-barcode"},
		{"CVE-2022-0779", "cve-2022-0779-user-meta-traversal", "wp-user-meta-show-upload"},
		{"CVE-2020-11738", "cve-2020-11738-duplicator-traversal", "wp-duplicator-download-package"},
		{"CVE-2020-12800", "cve-2020-12800-dnd-supported-type", "wp-dnd-upload-photo"},
		{"CVE-2024-28000", "cve-2024-28000-litespeed-role-cookie", "wp-litespeed-asset"},
	}
	// The plugin posts its settings as JSON in a form field, which CRS's
	// PL2 SQL heuristics (942200, 942430) refuse whatever the patch does,
	// so this twin is not in the benign corpus (run at PL1 and PL2).
	benign = append(benign, corpus.Entry{
		Name: "gdpr-admin-saves-own-setting", Method: "POST", Path: "/wp-admin/admin-ajax.php", Session: true,
		Form: map[string]string{"action": "wpgdprc_process_action", "security": "7a1d2e3f4b",
			"data": `{"type":"save_setting","append":false,"option":"wpgdprc_enable_access_request","value":"1"}`},
	})
	// A forged logged-in cookie never reaches the WAF through mamori with
	// its session guard on (it is dropped as forged first), so this attack
	// is not in the end-to-end corpus: the patch is for sites without it.
	attacks = append(attacks, corpus.Entry{
		Name: "cve-2023-6063-wpfc-cookie-sqli", Path: "/",
		Headers: map[string]string{"Cookie": `wordpress_logged_in_1=" AND (SELECT 3809 FROM (SELECT(SLEEP(5)))RDVP) AND "HQDg"="HQDg`},
	}, corpus.Entry{
		Name: "cve-2023-6063-wpfc-cookie-sqli-encoded", Path: "/",
		Headers: map[string]string{"Cookie": `wordpress_logged_in_1=admin%27%20OR%20SLEEP(5)%23|1767225600|x|y`},
	})
	covered := map[string]bool{}
	s := sessions["wordpress"]
	for _, tc := range tests {
		covered[tc.patch] = true
		t.Run(tc.patch+"/"+tc.attack, func(t *testing.T) {
			on := engine(t, "wordpress", "/", 1)
			off := engine(t, "wordpress", "/", 1, tc.patch)
			attack, _ := entryNamed(t, attacks, tc.attack).Request("", s)
			if res := run(t, on, attack); !res.blocked || !slices.Contains(res.tags, tc.patch) {
				t.Errorf("attack %s: blocked %v by %v, want a block tagged %s", tc.attack, res.blocked, res.detail, tc.patch)
			}
			twin, _ := entryNamed(t, benign, tc.twin).Request("", s)
			if res := run(t, on, twin); res.blocked {
				t.Errorf("benign twin %s blocked by %v", tc.twin, res.detail)
			}
			attack, _ = entryNamed(t, attacks, tc.attack).Request("", s)
			if res := run(t, off, attack); slices.Contains(res.tags, tc.patch) {
				t.Errorf("with %s disabled its rules still ran: %v", tc.patch, res.detail)
			}
		})
	}
	for _, p := range rules.Patches("wordpress") {
		if !covered[p] {
			t.Errorf("patch %s has no test here", p)
		}
	}
}

// TestCustomAdminPath: the packs follow admin_path; the default paths get
// no exclusion and no XML-RPC handling there.
func TestCustomAdminPath(t *testing.T) {
	e := engine(t, "movabletype", "/mt/", 1)
	s := sessions["movabletype"]
	benign, attacks := load(t, "movabletype", "benign"), load(t, "movabletype", "attack")
	moved := func(en corpus.Entry) *http.Request {
		en.Path = strings.Replace(en.Path, "/cgi-bin/mt/", "/mt/", 1)
		r, err := en.Request("", s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, name := range []string{"mt-save-entry-youtube-iframe", "mt-save-template-php-dynamic-template", "mt-xmlrpc-metaWeblog-newPost", "mt-data-api-create-entry"} {
		if res := run(t, e, moved(entryNamed(t, benign, name))); res.blocked {
			t.Errorf("%s under /mt/: blocked by %v", name, res.detail)
		}
		r, _ := entryNamed(t, benign, name).Request("", s)
		if res := run(t, e, r); !res.blocked {
			t.Errorf("%s under the default path, not the site's admin_path: passed", name)
		}
	}
	if res := run(t, e, moved(entryNamed(t, attacks, "cve-2021-20837-plain"))); !slices.Contains(res.tags, "CVE-2021-20837") {
		t.Errorf("CVE-2021-20837 under /mt/: %v", res.detail)
	}
}

func TestForProfile(t *testing.T) {
	tests := []struct {
		name, profile, root string
		disabled            []string
		wantErr             string
	}{
		{"movabletype_defaults", "movabletype", "/cgi-bin/mt/", nil, ""},
		{"wordpress_root", "wordpress", "/", nil, ""},
		{"disable_one_patch", "movabletype", "/cgi-bin/mt/", []string{"CVE-2015-1592"}, ""},
		{"disable_wordpress_guards", "wordpress", "/", []string{"mamori-wp-user-enum", "mamori-wp-xmlrpc-multicall", "CVE-2021-24284"}, ""},
		{"other_profiles_patch", "wordpress", "/", []string{"CVE-2015-1592"}, `no virtual patch "CVE-2015-1592"`},
		{"unknown_patch", "movabletype", "/cgi-bin/mt/", []string{"CVE-2099-0001"}, `no virtual patch "CVE-2099-0001"`},
		{"unknown_profile", "drupal", "/", nil, "no rule pack"},
		{"quote_in_path", "movabletype", `/cgi"bin/`, nil, "must be a directory path"},
		{"space_in_path", "movabletype", "/cgi bin/", nil, "must be a directory path"},
		{"comma_in_path", "movabletype", "/a,ctl:ruleEngine=Off/", nil, "must be a directory path"},
		{"no_trailing_slash", "movabletype", "/cgi-bin/mt", nil, "must be a directory path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			packs, err := rules.ForProfile(tc.profile, rules.Site{Root: tc.root}, tc.disabled)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := len(rules.Patches(tc.profile)) - len(tc.disabled) + 1
			if len(packs) != want || packs[len(packs)-1].Name != "profiles/"+tc.profile+".conf" {
				t.Fatalf("%d packs, last %q; want %d ending with the profile", len(packs), packs[len(packs)-1].Name, want)
			}
		})
	}
}

// TestEveryFileRendersAndCompiles: each embedded file renders for a
// non-default path, compiles, uses rule IDs only from mamori's ranges, and
// keeps no default path.
func TestEveryFileRendersAndCompiles(t *testing.T) {
	idPattern := regexp.MustCompile(`id:([0-9]+)`)
	for _, name := range rules.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := rules.Render(name, rules.Site{Root: "/site/cgi/", Static: "/site/static/"})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(p.SecLang, "/cgi-bin/mt/") || strings.Contains(p.SecLang, "{{") {
				t.Errorf("%s keeps a default path or an unrendered action", name)
			}
			lo, hi := 9900000, 9919999
			if strings.HasPrefix(name, "patches/") {
				lo, hi = 9920000, 9999999
			}
			for _, m := range idPattern.FindAllStringSubmatch(p.SecLang, -1) {
				if id := atoi(m[1]); id < lo || id > hi {
					t.Errorf("rule ID %d outside %d-%d", id, lo, hi)
				}
			}
			if _, err := waf.New(mustCompile(t, waf.Config{Packs: []waf.RulePack{{Name: p.Name, SecLang: p.SecLang}}})); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func mustCompile(t testing.TB, c waf.Config) *waf.Compiled {
	t.Helper()
	compiled, err := waf.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return compiled
}

// BenchmarkProfile measures the per-request cost the movabletype profile
// and its patches add to CRS at PL1, by request kind.
func BenchmarkProfile(b *testing.B) {
	benign := load(b, "movabletype", "benign")
	kinds := []string{"mt-public-get-blog-2026-11-spring.html", "mt-comment-3", "mt-save-entry-youtube-iframe", "mt-xmlrpc-metaWeblog-newPost", "mt-filtered-list-pack-author-and-comments"}
	for _, withProfile := range []bool{false, true} {
		name, prof := "crs", ""
		if withProfile {
			name, prof = "crs+movabletype", "movabletype"
		}
		e := engine(b, prof, "/cgi-bin/mt/", 1)
		for _, k := range kinds {
			en := entryNamed(b, benign, k)
			b.Run(name+"/"+k, func(b *testing.B) {
				for b.Loop() {
					r, _ := en.Request("", sessions["movabletype"])
					tx := e.NewTransaction("b")
					if _, err := tx.ProcessRequest(r, "203.0.113.7", 40000); err != nil {
						b.Fatal(err)
					}
					tx.Close()
				}
			})
		}
	}
}
