package waf

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
)

// TestTransformationCacheDuplicateKeys: every value of a parameter sent
// twice is inspected by every rule. The patched Coraza caches transformed
// values by the value (third_party/coraza.patch); rules see a collection's
// values in a different order each time (map iteration), so a cache entry
// must never stand for another value of the same parameter.
func TestTransformationCacheDuplicateKeys(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS "@rx ^never$" "id:1,phase:1,pass,nolog,t:lowercase"
SecRule ARGS "@contains evil" "id:2,phase:1,deny,status:403,t:lowercase"
`)
	q := url.Values{}
	q.Add("a", "EVIL")
	q.Add("a", "harmless")
	for _, k := range strings.Fields("b c d e f g h i j k l m n o p") {
		q.Set(k, "x")
	}
	missed := 0
	for range 200 {
		tx := w.NewTransaction()
		tx.ProcessURI("/?"+q.Encode(), "GET", "HTTP/1.1")
		if it := tx.ProcessRequestHeaders(); it == nil || it.RuleID != 2 {
			missed++
		}
		_ = tx.Close()
	}
	if missed > 0 {
		t.Fatalf("the attack value passed rule 2 in %d of 200 requests", missed)
	}
}

// TestRuleCollection: the patched Coraza skips filling the RULE collection
// while nothing reads it; a rule set that reads it (a macro %{rule.msg}, a
// target RULE:id) still gets it as v3.8.1 filled it.
func TestRuleCollection(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS:q "@contains x" "id:10,phase:1,pass,msg:'seen %{ARGS.q}',setvar:'tx.m=%{rule.msg}'"
SecRule TX:m "@streq seen axb" "id:11,phase:1,deny,status:403"
SecRule RULE:id "@streq 12" "id:12,phase:1,deny,status:401"
`)
	for _, tc := range []struct {
		query string
		rule  int
	}{{"q=axb", 11}, {"q=zzz", 12}} {
		tx := w.NewTransaction()
		tx.ProcessURI("/?"+tc.query, "GET", "HTTP/1.1")
		it := tx.ProcessRequestHeaders()
		if it == nil || it.RuleID != tc.rule {
			t.Errorf("%s: interruption %+v, want rule %d", tc.query, it, tc.rule)
		}
		_ = tx.Close()
	}
}

// TestLiteralGate: long values go through the shared literal scan
// (internal/litgate, kept in the transaction by the patch's PluginState).
// A rule must still see its literal whatever rule or variable scanned the
// value first, in any letter case, in a later transaction on a pooled
// Coraza transaction, and a negated operator must still see its absence.
func TestLiteralGate(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS "@rx (?i)needle[0-9]+haystack" "id:1,phase:1,deny,status:406"
SecRule ARGS|REQUEST_URI "@rx (?:select|union)\s+from" "id:2,phase:1,deny,status:403"
SecRule ARGS "@pm dangerous-phrase other-phrase" "id:3,phase:1,deny,status:401"
SecRule ARGS:b "!@pm required-marker" "id:4,phase:1,deny,status:402"
`)
	pad := strings.Repeat("plain words and more plain words ", 8) // > litgate.MinLen
	tests := []struct {
		name string
		a    string
		want int // rule that denies, 0 for none
	}{
		{"benign", pad, 0},
		{"rx literal", pad + " select  from t", 403},
		{"rx literal in capitals, (?i)", pad + "NEEDLE42HayStack", 406},
		{"rx literal in capitals, case-sensitive", pad + "SELECT from", 0},
		{"rx literal at the start", "union from " + pad, 403},
		{"pm phrase", pad + "Dangerous-Phrase", 401},
		{"benign again", pad + "select nothing", 0},
	}
	for round := range 3 {
		for _, tc := range tests {
			q := url.Values{}
			q.Set("a", tc.a)
			q.Set("b", pad+"REQUIRED-marker")
			tx := w.NewTransaction()
			tx.ProcessURI("/?"+q.Encode(), "GET", "HTTP/1.1")
			it := tx.ProcessRequestHeaders()
			got := 0
			if it != nil {
				got = it.Status
			}
			if got != tc.want {
				t.Errorf("round %d, %s: status %d, want %d", round, tc.name, got, tc.want)
			}
			_ = tx.Close()
		}
		// The negated list: its phrase absent from a long value.
		q := url.Values{}
		q.Set("b", pad)
		tx := w.NewTransaction()
		tx.ProcessURI("/?"+q.Encode(), "GET", "HTTP/1.1")
		if it := tx.ProcessRequestHeaders(); it == nil || it.Status != 402 {
			t.Errorf("round %d: a long value without the required marker: %+v, want 402", round, it)
		}
		_ = tx.Close()
	}
}

// TestFieldCache: the patched Coraza looks a collection's values up once
// per phase and shares them between rules (fieldCache). A rule's target
// exception (ctl:ruleRemoveTargetById) must filter only that rule's view,
// a keyed target and a count must see the same values, and the next
// transaction on a pooled Coraza transaction its own.
func TestFieldCache(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS:x "@streq go" "id:20,phase:1,pass,nolog,ctl:ruleRemoveTargetById=21;ARGS:a"
SecRule ARGS "@contains evil" "id:21,phase:1,pass,nolog,setvar:tx.r21=1"
SecRule ARGS "@contains evil" "id:22,phase:1,pass,nolog,setvar:tx.r22=1"
SecRule ARGS:A "@contains evil" "id:23,phase:1,pass,nolog,setvar:tx.r23=1"
SecRule &ARGS "@eq 2" "id:24,phase:1,pass,nolog,setvar:tx.r24=1"
SecRule ARGS_NAMES "@streq a" "id:25,phase:1,pass,nolog,setvar:tx.r25=1"
`)
	tests := []struct {
		query string
		want  string // the rules that matched
	}{
		{"a=evil&x=go", "r22 r23 r24 r25"},
		{"a=evil&x=no", "r21 r22 r23 r24 r25"},
		{"b=evil&x=go", "r21 r22 r24"},
		{"a=fine", "r25"},
	}
	for round := range 3 {
		for _, tc := range tests {
			if got := flagsSet(t, w, tc.query, "r21 r22 r23 r24 r25"); got != tc.want {
				t.Errorf("round %d, %s: matched %v, want %s", round, tc.query, got, tc.want)
			}
		}
	}
}

// TestCtlByTag: ctl:ruleRemoveByTag and ctl:ruleRemoveTargetByTag find
// the tagged rules through the patched Coraza's tag index, built after the
// rule set is complete (SecRuleRemoveById and SecRuleUpdateTargetByTag
// before it).
func TestCtlByTag(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS:mode "@streq t" "id:30,phase:1,pass,nolog,ctl:ruleRemoveTargetByTag=grp-a;ARGS:a"
SecRule ARGS:mode "@streq r" "id:31,phase:1,pass,nolog,ctl:ruleRemoveByTag=grp-b"
SecRule ARGS "@contains evil" "id:32,phase:1,pass,nolog,tag:grp-a,tag:grp-a,setvar:tx.r32=1"
SecRule ARGS "@contains evil" "id:33,phase:1,pass,nolog,tag:grp-b,tag:grp-a,setvar:tx.r33=1"
SecRule ARGS "@contains evil" "id:34,phase:1,pass,nolog,tag:grp-b,setvar:tx.r34=1"
SecRule ARGS "@contains evil" "id:35,phase:1,pass,nolog,tag:grp-c,setvar:tx.r35=1"
SecRule ARGS "@contains evil" "id:36,phase:1,pass,nolog,tag:grp-b,setvar:tx.r36=1"
SecRuleRemoveById 36
`)
	tests := []struct{ query, want string }{
		{"a=evil&mode=t", "r34 r35"},
		{"b=evil&mode=t", "r32 r33 r34 r35"},
		{"a=evil&mode=r", "r32 r35"},
		{"a=evil", "r32 r33 r34 r35"},
	}
	for _, tc := range tests {
		if got := flagsSet(t, w, tc.query, "r32 r33 r34 r35 r36"); got != tc.want {
			t.Errorf("%s: matched %v, want %s", tc.query, got, tc.want)
		}
	}
}

// TestTransformationChains: the patched transformation cache (one entry
// per value, found through the value's match data) gives every rule its
// own chain's result, whatever other rules computed on the same value
// first: chains sharing a prefix, a chain that is a prefix of another, the
// same value under two parameters and two collections, a value that is a
// prefix of another (the same bytes, shorter), and the next phase (the
// cache is emptied per phase), over pooled transactions.
func TestTransformationChains(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS "@streq a b" "id:41,phase:1,pass,nolog,t:lowercase,setvar:tx.r41=+1"
SecRule ARGS "@streq ab" "id:42,phase:1,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.r42=+1"
SecRule ARGS "@streq AB" "id:43,phase:1,pass,nolog,t:removeWhitespace,setvar:tx.r43=+1"
SecRule ARGS_GET "@streq ab" "id:44,phase:1,pass,nolog,t:removeWhitespace,t:lowercase,setvar:tx.r44=+1"
SecRule ARGS "@streq A B" "id:45,phase:1,pass,nolog,setvar:tx.r45=+1"
SecRule ARGS "@streq a" "id:46,phase:1,pass,nolog,t:lowercase,setvar:tx.r46=+1"
SecRule ARGS "@streq ab" "id:47,phase:2,pass,nolog,t:lowercase,t:removeWhitespace,setvar:tx.r47=+1"
SecRule ARGS "@streq a b" "id:48,phase:2,pass,nolog,t:lowercase,setvar:tx.r48=+1"
`)
	// x and y hold "A B"; z holds "A" (the parser gives it its own string,
	// but the rules must not care either way).
	checkMatchCounts(t, w, "/?x=A+B&y=A+B&z=A", map[string]string{"r41": "2", "r42": "2", "r43": "2", "r44": "2", "r45": "2", "r46": "1", "r47": "2", "r48": "2"})
}

// checkMatchCounts sends GET uri through w's request phases 20 times, on
// pooled transactions, and checks each TX counter a rule's setvar:+1 left.
func checkMatchCounts(t *testing.T, w coraza.WAF, uri string, want map[string]string) {
	t.Helper()
	for range 20 {
		tx := w.NewTransaction()
		tx.ProcessURI(uri, "GET", "HTTP/1.1")
		if it := tx.ProcessRequestHeaders(); it != nil {
			t.Fatalf("interrupted %+v", it)
		}
		if _, err := tx.ProcessRequestBody(); err != nil {
			t.Fatal(err)
		}
		col := tx.(plugintypes.TransactionState).Variables().TX()
		for rule, n := range want {
			if got := col.Get(rule); len(got) != 1 || got[0] != n {
				t.Errorf("%s matched %v times, want %s", rule, got, n)
			}
		}
		_ = tx.Close()
	}
}

// TestExceptionsOnSharedValues: a rule with a target exception filters
// the phase's shared values into its own copy (made at the first value it
// removes, wherever that value is); rules after it still see every value.
func TestExceptionsOnSharedValues(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS|!ARGS:b "@contains evil" "id:51,phase:1,pass,nolog,setvar:tx.r51=+1"
SecRule ARGS|!ARGS:zz "@contains evil" "id:52,phase:1,pass,nolog,setvar:tx.r52=+1"
SecRule ARGS "@contains evil" "id:53,phase:1,pass,nolog,setvar:tx.r53=+1"
`)
	tests := []struct{ query, r51, r52, r53 string }{
		{"a=evil&b=evil&c=evil", "2", "3", "3"},
		{"b=evil", "", "1", "1"},
		{"a=evil&c=evil&d=fine&e=evil", "3", "3", "3"},
		{"b=evil&b=evil&a=evil", "1", "3", "3"},
	}
	for range 30 {
		for _, tc := range tests {
			tx := w.NewTransaction()
			tx.ProcessURI("/?"+tc.query, "GET", "HTTP/1.1")
			if it := tx.ProcessRequestHeaders(); it != nil {
				t.Fatalf("%s: interrupted %+v", tc.query, it)
			}
			col := tx.(plugintypes.TransactionState).Variables().TX()
			for r, want := range map[string]string{"r51": tc.r51, "r52": tc.r52, "r53": tc.r53} {
				got := ""
				if v := col.Get(r); len(v) > 0 {
					got = v[0]
				}
				if got != want {
					t.Errorf("%s: %s = %q, want %q", tc.query, r, got, want)
				}
			}
			_ = tx.Close()
		}
	}
}

// TestMatchedVarsKeys: the patch gives MATCHED_VARS its lower-case keys
// from the variables' names in lower case and the key's; the collection
// still finds a matched variable by its name in any case, and
// MATCHED_VARS_NAMES keeps the name as sent.
func TestMatchedVarsKeys(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS "@contains evil" "id:61,phase:1,pass,nolog,chain"
	SecRule MATCHED_VARS:args:fOo "@streq evil" "setvar:tx.r61=1"
SecRule ARGS "@contains evil" "id:62,phase:1,pass,nolog,chain"
	SecRule MATCHED_VARS_NAMES "@streq ARGS:FoO" "setvar:tx.r62=1"
SecRule ARGS "@contains evil" "id:63,phase:1,pass,nolog,chain"
	SecRule MATCHED_VARS:ARGS:ÄBC "@streq evil" "setvar:tx.r63=1"
SecRule REQUEST_METHOD "@streq GET" "id:64,phase:1,pass,nolog,chain"
	SecRule MATCHED_VARS:request_method "@streq GET" "setvar:tx.r64=1"
`)
	for _, tc := range []struct{ query, want string }{
		{"FoO=evil", "r61 r62 r64"},
		{"foo=evil", "r61 r64"},
		{"%C3%A4bc=evil", "r63 r64"},
		{"other=evil", "r64"},
	} {
		if got := flagsSet(t, w, tc.query, "r61 r62 r63 r64"); got != tc.want {
			t.Errorf("%s: matched %v, want %s", tc.query, got, tc.want)
		}
	}
}

// flagsSet runs query's request headers through w and returns which of
// names (TX variables the test's rules set to 1) are set, space-separated.
func flagsSet(t *testing.T, w coraza.WAF, query, names string) string {
	t.Helper()
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessURI("/?"+query, "GET", "HTTP/1.1")
	if it := tx.ProcessRequestHeaders(); it != nil {
		t.Fatalf("%s: interrupted %+v", query, it)
	}
	col := tx.(plugintypes.TransactionState).Variables().TX()
	var got []string
	for _, r := range strings.Fields(names) {
		if v := col.Get(r); len(v) > 0 && v[0] == "1" {
			got = append(got, r)
		}
	}
	return strings.Join(got, " ")
}

// TestMultiMatchFromCache: a multiMatch rule takes its chain's steps from
// the patched transformation cache and adds the ones it computes, so it
// must still see the value and each form a step changed (and only those),
// whichever rule computed a step first: a plain rule before it with the
// same chain, a multiMatch rule before a plain one, a step that changes
// nothing (evaluated once), and pooled transactions.
func TestMultiMatchFromCache(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS "@streq abc" "id:61,phase:1,pass,nolog,t:urlDecode,t:lowercase,setvar:tx.r61=+1"
SecRule ARGS "@streq Abc" "id:62,phase:1,pass,nolog,multiMatch,t:urlDecode,t:lowercase,setvar:tx.r62=+1"
SecRule ARGS "@streq %41bc" "id:63,phase:1,pass,nolog,multiMatch,t:urlDecode,t:lowercase,setvar:tx.r63=+1"
SecRule ARGS "@rx ^(?:abc|Abc|ABC)$" "id:64,phase:1,pass,nolog,multiMatch,t:lowercase,t:urlDecode,setvar:tx.r64=+1"
SecRule ARGS "@streq Abc" "id:65,phase:1,pass,nolog,t:lowercase,t:urlDecode,setvar:tx.r65=+1"
SecRule ARGS "@rx ^%41bc$" "id:66,phase:1,pass,nolog,multiMatch,t:lowercase,setvar:tx.r66=+1"
SecRule ARGS "@streq Abc" "id:67,phase:1,pass,nolog,t:urlDecode,setvar:tx.r67=+1"
`)
	// q holds "%41bc" (urlDecode: "Abc", then lowercase: "abc"); r holds
	// "ABC" (urlDecode changes nothing, lowercase: "abc").
	checkMatchCounts(t, w, "/?q=%2541bc&r=ABC", map[string]string{
		"r61": "2", // q's and r's full chain: "abc"
		"r62": "1", // q after urlDecode
		"r63": "1", // q as sent
		"r64": "3", // q: "Abc" after both (lowercase changed nothing); r: "ABC", "abc"
		"r65": "1", // q's full chain, taken from 64's steps
		"r66": "1", // q once: lowercase changed nothing
		"r67": "1", // q after urlDecode, a prefix 61 and 62 computed
	})
}

// TestMarkers: the patched Coraza does not evaluate a SecMarker as a
// SecAction (a match record on every phase, MATCHED_VAR set to nothing):
// skipAfter still lands on the marker, and a rule after a marker still
// reads the MATCHED_VAR of the last match before it, as in ModSecurity.
func TestMarkers(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecRule ARGS:a "@streq x" "id:71,phase:1,pass,nolog,skipAfter:END-71"
SecRule ARGS:a "@rx ." "id:72,phase:1,deny,status:401"
SecMarker END-71
SecRule ARGS:c "@streq z" "id:73,phase:1,pass,nolog"
SecMarker AFTER-73
SecRule MATCHED_VAR "@streq z" "id:74,phase:1,deny,status:402"
`)
	for _, tc := range []struct {
		query  string
		status int // 0: no interruption
	}{
		{"a=x&c=z", 402}, // 72 skipped; 74 reads 73's match across the marker
		{"a=q&c=z", 401}, // not skipped
		{"a=x&c=y", 0},   // skipped, nothing matched since
	} {
		_, it := requestHeaders(t, w, "/?"+tc.query)
		got := 0
		if it != nil {
			got = it.Status
		}
		if got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.query, got, tc.status)
		}
	}
}

// TestResponseBodyWhole: the patched Coraza copies the buffered response
// body into RESPONSE_BODY in one write (no io.Copy buffer): every byte of
// bodies around the copy sizes is there, in order.
func TestResponseBodyWhole(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecResponseBodyAccess On
SecResponseBodyMimeType text/html
SecResponseBodyLimit 1048576
SecRule RESPONSE_BODY "@rx ^<(a+)>END$" "id:81,phase:4,deny,status:403"
`)
	for _, n := range []int{0, 1, 8190, 32 << 10, 32<<10 + 1, 300 << 10} {
		tx := w.NewTransaction()
		tx.ProcessURI("/", "GET", "HTTP/1.1")
		tx.ProcessRequestHeaders()
		if _, err := tx.ProcessRequestBody(); err != nil {
			t.Fatal(err)
		}
		tx.AddResponseHeader("Content-Type", "text/html")
		tx.ProcessResponseHeaders(200, "HTTP/1.1")
		body := "<" + strings.Repeat("a", n) + ">END"
		if n == 0 {
			body = "<>END" // no match: (a+) needs one
		}
		if _, _, err := tx.WriteResponseBody([]byte(body)); err != nil {
			t.Fatal(err)
		}
		it, err := tx.ProcessResponseBody()
		if err != nil {
			t.Fatal(err)
		}
		if got := it != nil; got != (n > 0) {
			t.Errorf("%d bytes: interrupted %v, want %v", n, got, n > 0)
		}
		_ = tx.Close()
	}
}

// TestSingleValueLookups: the patched Coraza keeps a key's single-value
// match data for the next look-up (Map.FindString). A rule's logged match
// keeps the value it matched after setvar changes the variable, a later
// rule sees the new value, and a look-up through ARGS does not rename the
// ARGS_GET match data that ARGS_GET's own rules get.
func TestSingleValueLookups(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecAction "id:90,phase:1,pass,nolog,setvar:tx.a=1"
SecRule TX:a "@eq 1" "id:91,phase:1,pass,log,msg:'a is 1',setvar:tx.a=2"
SecRule TX:a "@eq 2" "id:92,phase:1,pass,log,msg:'a is 2'"
SecRule ARGS:q "@streq x" "id:93,phase:1,pass,log,msg:'args'"
SecRule ARGS_GET:q "@streq x" "id:94,phase:1,pass,log,msg:'args_get'"
`)
	tx, _ := requestHeaders(t, w, "/?q=x")
	got := map[int]string{}
	for _, mr := range tx.MatchedRules() {
		if mds := mr.MatchedDatas(); len(mds) > 0 {
			got[mr.Rule().ID()] = mds[0].Variable().Name() + ":" + mds[0].Key() + "=" + mds[0].Value()
		}
	}
	want := map[int]string{91: "TX:a=1", 92: "TX:a=2", 93: "ARGS:q=x", 94: "ARGS_GET:q=x"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("rule %d matched %q, want %q", id, got[id], w)
		}
	}
}

// TestUnloggedMatches: the patched Coraza records no match of a rule with
// nolog (and no auditlog); its actions still run, and rules that log or
// audit-log are listed as before. mamori's Verdict reads only the rules
// that log.
func TestUnloggedMatches(t *testing.T) {
	w := patchedWAF(t, `
SecRuleEngine On
SecAction "id:100,phase:1,pass,nolog,setvar:tx.n=1"
SecRule TX:n "@eq 1" "id:101,phase:1,pass,nolog,setvar:tx.n=2"
SecRule TX:n "@eq 2" "id:102,phase:1,pass,log,msg:'logged'"
SecRule TX:n "@eq 2" "id:103,phase:1,pass,nolog,auditlog"
SecRule TX:n "@eq 2" "id:104,phase:1,deny,status:403,nolog"
`)
	tx, it := requestHeaders(t, w, "/")
	if it == nil || it.RuleID != 104 {
		t.Fatalf("interruption %+v, want rule 104's (its nolog match still acts)", it)
	}
	var got []int
	for _, mr := range tx.MatchedRules() {
		got = append(got, mr.Rule().ID())
	}
	if want := []int{102, 103}; !slices.Equal(got, want) {
		t.Errorf("matched rules %v, want %v", got, want)
	}
}

// patchedWAF compiles directives with the patched Coraza.
func patchedWAF(t *testing.T, directives string) coraza.WAF {
	t.Helper()
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(directives))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// requestHeaders runs a GET of uri through w's request-headers phase; the
// transaction is closed when the test ends.
func requestHeaders(t *testing.T, w coraza.WAF, uri string) (types.Transaction, *types.Interruption) {
	t.Helper()
	tx := w.NewTransaction()
	t.Cleanup(func() { _ = tx.Close() })
	tx.ProcessURI(uri, "GET", "HTTP/1.1")
	return tx, tx.ProcessRequestHeaders()
}
