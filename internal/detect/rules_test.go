package detect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
)

func TestRulesCompile(t *testing.T) {
	off := false
	tests := []struct {
		name    string
		o       Options
		want    []string
		notWant []string
	}{
		// A layer adds detection, never removes CRS's: no CRS rule is
		// removed or replaced (issue 11), but for the three PL1 rules of
		// file-name lists, which are replaced by themselves with their
		// names matched as names (same ID, targets and actions), the
		// rules tightened (tighten.go) and 920470, replaced by itself
		// with RFC 9110's empty parameters.
		{"defaults", Options{}, []string{"id:9542100,", "id:9642100,", "id:9742100,", "id:9834901,", "t:mamoriTextGate",
			"SecRuleRemoveById 930100 930120 930130 932160 932260 932370 941170 941210 942290\n", `"id:942290,`, "SecRule MATCHED_VARS \"!@rx ", `"@mamoriFileNames lfi-os-files.data" "id:930120,`, `"@mamoriFileNames restricted-files.data" "id:930130,`,
			`"@mamoriFileNames unix-shell.data" "id:932160,`, `"@mamoriFileNames unix-shell.data" "id:9532160,`,
			"SecRuleRemoveById 920470\n", `"id:920470,`},
			[]string{"id:942100,", "id:941120,", "@pmFromFile lfi-os-files.data", "@pmFromFile unix-shell.data", "@pmFromFile restricted-files.data"}},
		{"off", Options{Off: true}, nil, []string{"SecRule"}},
		{"no decode", Options{Decode: &off}, []string{"id:9642100,"}, []string{"id:9542100,"}},
		{"no text gate", Options{TextGate: &off}, []string{"id:9542100,"}, []string{"t:mamoriTextGate"}},
		{"no signatures", Options{Signatures: &off}, []string{"id:9542100,"}, []string{"id:9834901,"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Rules(tc.o, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("rules lack %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(s, w) {
					t.Errorf("rules hold %q", w)
				}
			}
		})
	}
}

// The signatures compile and match what they are for, and not the text
// around them.
func TestSignatures(t *testing.T) {
	var rules strings.Builder
	writeSignatures(&rules)
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives("SecRuleEngine On\n" +
		`SecAction "id:1,phase:1,pass,nolog,setvar:tx.critical_anomaly_score=5"` + "\n" +
		strings.ReplaceAll(rules.String(), "block,", "deny,")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value string
		rule  int
	}{
		{"{{config.__class__.__init__.__globals__}}", 9834901},
		{"*)(uid=*))(|(uid=*", 9834902},
		{`{"$ne": null}`, 9842902},
		{`<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`, 9834903},
		{"qx{id}", 9832901},
		{"; $x = qx/id/;", 9832901},
		{"print qx(cat /etc/passwd)", 9832901},
		// Base-36 telemetry paths (issue 11): qx as a path segment.
		{"@1r/////qo/gn//@1r+@1s/////qx/ge//@1s+6rgr/////r8/g6", 0},
		{"qw/qw/qw/qx/qx/qx+qz/2g//@1c", 0},
		{"@j/qw/qw/qw/qw/qw/qx+qx/2x//@i/rewardsapp", 0},
		{"qx{ /bin/sh -c id }", 9832901},
		{"& net user", 9832902},
		{"gopher://127.0.0.1:6379/_x", 9831901},
		{"x\r\nSet-Cookie: a=1", 9821901},
		{"rO0ABXNyABFqYXZh", 9844901},
		{"1 UNION ALL SELECT NULL", 9842901},
		{"| id", 9832903},
		{"$(whoami)", 9832903},
		{"127.0.0.1\nid", 9832903},
		{"127.0.0.1;whoami", 9832903},
		{"example.com | id", 9832903},
		{"name\nemail\nid", 0},
		{"tags: red; id", 0},
		{`parent['\u{0061}\u{006c}\u{0065}\u{0072}\u{0074}']('\u{0058}\u{0053}\u{0053}');//`, 9841901},
		{`parent['\141\154\145\162\164']('\130\123\123');//`, 9841901},
		{`x['\141\154\145\162\164']`, 9841901},
		{"globalThis[/*foo*/'alert'/*bar*/](globalThis[/*foo*/'document'/*bar*/]['domain']);//", 9841901},
		{"parent[/al/.source+/ert/.source](/XSS/.source)", 9841901},
		{"frames['ale'+'rt'](1)", 9841901},
		{"alert?.(1)", 9841901},
		{"(prompt)`1`", 9841901},
		{`[self][0]["alert"](1)`, 9841901},
		{"alert`1`", 9841901},
		{"new Function`al\\ert\\`1\\``", 9841901},
		{"{onerror=alert}throw 1", 9841901},
		{"valueOf=alert;window+''", 9841901},
		{"[1].find(alert)", 9841901},
		{"Use `alert` or `prompt` only while debugging; the onload handler and toString() are fine.", 0},
		{`<a href=# download="filename.html">Test</a>`, 9841902},
		{`<div popover id="x">XSS</div>`, 9841902},
		{"<a href=/files/report.pdf>report</a>: download the PDF", 0},
		{"how to use the html download attribute on a link", 0},
		{"copy (SELECT '') to program 'nslookup BURP-COLLABORATOR-SUBDOMAIN'", 9842903},
		{"COPY cmd_exec FROM PROGRAM 'id'", 9842903},
		{"strStartsWith(name,'x'') = true and 1=(SELECT CAST ((SELECT version()) AS integer)) -- ') = true", 9842903},
		{"SELECT banner FROM v$version", 9842903},
		{"SELECT * FROM all_tables", 9842903},
		{"psql --tuples-only -c 'select version()'", 0},
		{"Best practices for exporting data from Aurora MySQL: SELECT INTO OUTFILE S3", 0},
		{"SELECT UTL_INADDR.get_host_address('x.example')", 9842903},
		// Ordinary text and code near these forms.
		{"Copy the file to the program folder, then select the version (see the parent page).", 0},
		{"items[0].parent['name'] = self.title; window.location = '/';", 0},
		{"The Windows path C:\\Users\\123\\docs and the regex \\1 back-reference.", 0},
		{"x = (a) (b); alert the user (politely)", 0},
		{"select a plan from all the tables below; price = (select one)", 0},
		{"The id field holds the user's ID; ls lists files.", 0},
		{"Template {{ .Name }} renders the name (Go's text/template).", 0},
		{"Mr. O'Brien (the editor) and the net result of the union.", 0},
		{"https://example.com/docs/install.html", 0},
	}
	for _, tc := range tests {
		tx := w.NewTransaction()
		tx.AddGetRequestArgument("v", tc.value)
		tx.ProcessRequestHeaders()
		it, _ := tx.ProcessRequestBody()
		got := 0
		if it != nil {
			got = it.RuleID
		}
		if got != tc.rule {
			t.Errorf("%q: rule %d, want %d", tc.value, got, tc.rule)
		}
		_ = tx.Close()
	}
}

// Gated copies keep multiMatch: every copy of a multiMatch CRS rule
// carries it (930110 matches "..\..\" only on the untransformed value).
func TestCopiesKeepMultiMatch(t *testing.T) {
	crs, err := loadCRS()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Rules(Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range crs {
		if !r.isAttackRule() || !r.multiMatch() || r.Level > 1 {
			continue
		}
		for _, base := range []int{decodedBase, placementBase, pathBase} {
			id := fmt.Sprintf("id:%d,", base+r.ID-900000)
			i := strings.Index(s, id)
			if i < 0 {
				continue
			}
			line := s[i:]
			line = line[:strings.IndexByte(line, '\n')]
			checked++
			if !strings.Contains(line, "multiMatch") {
				t.Errorf("%s copy of %d lost multiMatch", id, r.ID)
			}
		}
	}
	if checked == 0 {
		t.Error("no multiMatch copy found: the check ran on nothing")
	}
}
