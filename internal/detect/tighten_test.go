package detect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
)

// tightWAF is a WAF running one CRS rule, as CRS ships it (tight false)
// or as mamori tightens it, refusing a request the rule scores.
func tightWAF(t *testing.T, id int, tight bool) coraza.WAF {
	t.Helper()
	crs, err := loadCRS()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range crs {
		if r.ID != id {
			continue
		}
		rule := fmt.Sprintf("SecRule %s \"%s\" \"%s\"\n", r.Variables, r.Operator, strings.Join(r.Actions, ","))
		if tight {
			var ok bool
			if _, rule, ok, err = tighten(r); err != nil || !ok {
				t.Fatalf("tighten %d: %v %v", id, ok, err)
			}
		}
		// The request is refused on the rule's score (as CRS's 949110
		// does), so that a rule whose actions score without matching is
		// seen.
		w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives("SecRuleEngine On\n" +
			`SecAction "id:1,phase:1,pass,nolog,setvar:tx.critical_anomaly_score=5,setvar:tx.inbound_anomaly_score_pl1=0"` + "\n" +
			rule + `SecRule TX:inbound_anomaly_score_pl1 "@gt 0" "id:2,phase:2,deny,log"` + "\n"))
		if err != nil {
			t.Fatalf("%d: %v\n%s", id, err, rule)
		}
		return w
	}
	t.Fatalf("CRS rule %d not found", id)
	return nil
}

// matches reports whether w refuses a request whose argument (name, or
// value of "v") is s.
func matches(w coraza.WAF, s string, name bool) bool {
	tx := w.NewTransaction()
	defer tx.Close()
	if name {
		tx.AddGetRequestArgument(s, "1")
	} else {
		tx.AddGetRequestArgument("v", s)
	}
	tx.ProcessRequestHeaders()
	it, _ := tx.ProcessRequestBody()
	return it != nil
}

// Each tightened rule stops matching the benign shapes it matched (real
// browser traffic, issue 11: stock CRS matches each, which the test
// checks too) and still matches CRS's own regression payloads for it and
// evasions near the benign shape.
func TestTightenedRules(t *testing.T) {
	tests := []struct {
		id     int
		benign []string
		attack []string
		// neither are inputs CRS as shipped does not match: the
		// tightened rule must not either.
		neither []string
		name    bool // the inputs are argument names
	}{
		{id: 930100,
			benign: []string{
				"/??/AWSC/AWSC/awsc.js,/sd/baxia/2.0.32/baxiaCommon.js", "/damai/??/vue-pc/0.0.76/vendor.js,vue-pc/0.0.76/perform/perform.js",
				"/??/sd/baxia/2.5.1/baxiaCommon.js", "/s/??/a.css,b.css", "/??/x/0.js,y10.js", "/??/",
			},
			attack: []string{
				// CRS's regression payloads (930100-2, -3).
				".../.../WINDOWS/win.ini", "0x2e.%000x2f0x2e.%00/WINDOWS/win.ini",
				// A combo URL carrying any other traversal form.
				"/??/../../etc/passwd", "/??/a.js,/../../etc/passwd", "/a/../??/b.js", "/??/0x2e0x2e/etc/passwd", "/??/a0x2e0x2e/x",
				"/??/0X2E0X2E/x", "/??/%2e%2e/etc/passwd", "/??/..\\..\\win.ini", "/??/a/??/b", "/??/.../x", "/??/./../x",
				"x/??/y", "/??/C:/boot.ini", "/??/a.js?/../x",
			}},
		{id: 932260, name: true,
			neither: []string{"qbase64", "xlastlog", "my_lastlogin"},
			benign:  []string{"lastLoginType", "lastlogins", "lastlog_time", "lastLogin2", "base64Data", "busyboxVersion", "realpathCache"},
			attack:  []string{"lastlog", "lastlogin", "lastlog -u root", "lastlogin|sh", "lastlog;id", "x;lastlog", "lastlog\n", "base64", "base64 -d", "busybox"}},
		{id: 932260,
			// CRS's negative payloads (932260-2, -3, -4, ...).
			neither: []string{"dont match commands that are not at start;tar -xzf /var/www/exfiltrate.tar.gz /etc", "ping pong tables", "time is of the essence",
				"find x for y", "head of", "evaluation", "schedule", "comment", "qbase64 -d", "see lastlog -u root"},
			benign: []string{"lastLoginType", "lastloginTime=1"},
			attack: []string{
				// CRS's regression payloads (932260-1, -5, -7, ...).
				"printf dwssap/cte/ tac | rev | sh", "python3.10 cmd",
				"printf dW5hbWUgLWE=|base64 -d|sh", "gunzip -c /var/log/sensitive_log_file.gz",
				"zstdcat /var/log/sensitive_log_file.zst", "busybox -c \"echo hi\"",
				"'ZsTdcaT /var/log/sensitive_log_file.zst",
				// Names CRS follows by a separator, or by a separator or
				// "_" (sudo_), names ending in "-" (docker-), and names
				// the tightening ends, as commands.
				"sudo ls", "sudo_x", "x;docker-compose up", "x;python3 -c 1", "x;python2.7 -c 1", "x;fgrep -r x /",
				"lastlog", "lastlogin", "; lastlog -u root", "$(lastlogin)", "`lastlog`",
				"base64 -d", "x|base64${IFS}-d", "x;bunzip2 f", "x;bunzip2<f", "x;mysqldump --all",
			}},
		{id: 942290, name: true,
			benign: []string{"$setOnce", "$login_aid", "$lastSeen", "region:0$instance", "$nextPage"},
			attack: []string{"u_id[$ne]", "u_id[$regex]", "[$lte]asdfsd", "a[$where]", "$set", "a[$in][]", "$gt"}},
		{id: 942290,
			benign: []string{"$setOnce", "$login_aid", "region:0$instance:0$expiring:0", "query Banner($lastSeen: DateTime)"},
			attack: []string{
				// CRS's regression payloads (942290-2, -5 to -9).
				"[$lte]asdfsd", `{"$not": "foo"}`, `{"$nor": "foo"}`, `{"$where": "foo"}`, `{"$elemMatch": "foo"}`, `{"$text": "foo"}`,
				// Operators ending the value or followed by punctuation.
				"$ne", "$where:sleep(100)", "$regex=.*", `{"password":{"$gt":""}}`, "$SET", "%5B%24ne%5D",
			}},
		{id: 932370,
			neither: []string{"cmd=Go to store.\nAt the store, shop.", "time warner", "a url b"},
			benign:  []string{"type:resperr;url:/mp/appmsg_comment?action=getcomment&scene=0", "x;url=1", "a|url"},
			attack: []string{
				// CRS's regression payloads (932370).
				"; regedit /E c:\\ads\\file.txt:regfile.reg HKEY_CURRENT_USER\\MyCustomRegKey", "; mshta http://example.com",
				// url.dll as LOLBAS runs it, and with cmd.exe's evasions.
				";url.dll,OpenURL \"C:\\x.url\"", "&rundll32 url.dll,FileProtocolHandler calc", ";u^rl.d^ll,OpenURL x", "|URL.DLL,OpenURL x",
			}},
		{id: 941170,
			benign: []string{"javascript:void(0);", "javascript:void(0)", "javascript: void(0);", "JavaScript:void(0)"},
			attack: []string{
				// CRS's regression payloads (941170).
				"javascript:\"/*'/*`/*--></noscript></title></textarea></style></template></noembed></script><html \"",
				"javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'></a>",
				" data: , <x>",
				// Calls and statements after a no-op.
				"javascript:void(0);alert(1)", "javascript:void(alert(1))", "javascript:alert(1)", "javascript:void(0)//\nalert(1)",
				"javascript:void(0)&#59;alert(1)", "javascript:void%280%29%3Balert%281%29", "x javascript:void(0)",
			}},
		{id: 941210,
			benign: []string{"javascript:;", "javascript:void(0);", "javascript:void 0;", "javascript: void(0);", "javascript:void(0)"},
			attack: []string{
				// CRS's regression payloads (941210-1, -3, -4).
				"ja&tab;vascript: ", "javascript&#10:alert(7)", "jav&#13ascript:alert(7)",
				"javascript:alert(1)", "javascript:void(0);alert(1)", "javascript:void(0),alert(1)", "j&#x61;vascript:alert(1)",
				"javascript:void(0);\nfetch('//x')", "javascript:void0",
			}},
	}
	for _, tc := range tests {
		stock, tight := tightWAF(t, tc.id, false), tightWAF(t, tc.id, true)
		for _, s := range tc.benign {
			if !matches(stock, s, tc.name) {
				t.Errorf("%d: CRS as shipped does not match benign %q (the case tests nothing)", tc.id, s)
			}
			if matches(tight, s, tc.name) {
				t.Errorf("%d tightened matches benign %q", tc.id, s)
			}
		}
		for _, s := range tc.neither {
			if matches(stock, s, tc.name) || matches(tight, s, tc.name) {
				t.Errorf("%d: %q matched (CRS as shipped: %v)", tc.id, s, matches(stock, s, tc.name))
			}
		}
		for _, s := range tc.attack {
			if !matches(stock, s, tc.name) {
				t.Errorf("%d: CRS as shipped does not match attack %q (not this rule's)", tc.id, s)
			}
			if !matches(tight, s, tc.name) {
				t.Errorf("%d tightened misses attack %q (CRS as shipped: %v)", tc.id, s, matches(stock, s, tc.name))
			}
		}
	}
}

// An argument that is a no-op javascript: URI does not hide another
// argument's attack from 941210 (the chain reads every matched value).
func TestTightenedRuleChainReadsEveryMatch(t *testing.T) {
	w := tightWAF(t, 941210, true)
	tx := w.NewTransaction()
	defer tx.Close()
	tx.AddGetRequestArgument("a", "javascript:alert(1)")
	tx.AddGetRequestArgument("b", "javascript:void(0)")
	tx.ProcessRequestHeaders()
	if it, _ := tx.ProcessRequestBody(); it == nil {
		t.Fatal("a no-op URI in another argument hid javascript:alert(1)")
	}
}

// A CRS rule that is not the one a tightening was written for (an
// upgrade changed its expression or level) makes tighten fail, so that
// Rules fails and the replacement is looked at again.
func TestTightenRefusesAnotherRule(t *testing.T) {
	crs, err := loadCRS()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tightenings {
		for _, r := range crs {
			if r.ID != tg.id {
				continue
			}
			changed := r
			changed.Operator = "@rx (?i)changed"
			if _, _, _, err := tighten(changed); err == nil && (len(tg.edits) > 0 || tg.endNames) {
				t.Errorf("%d: a changed expression was tightened", r.ID)
			}
			higher := r
			higher.Level = 2
			if _, _, _, err := tighten(higher); err == nil {
				t.Errorf("%d: a paranoia-level-2 rule was tightened", r.ID)
			}
		}
	}
}
