package detect

import (
	"fmt"
	"strings"
)

// Patterns anchor at the start of a value or of a decoded part (the
// parts of a GraphQL document or a path are separated by NUL, Sep).

// signature is one of mamori's own rules, for an attack class CRS does
// not cover at paranoia level 1. Each reads every placement, raw and
// decoded, and scores as a critical match. Its ID is signatureBase plus a
// number in the family of the closest CRS file (9842901: SQL, like
// 942xxx); its path-segment twin is the ID plus 50.
type signature struct {
	id         int
	tag, msg   string
	transforms string // after the decoding, e.g. "t:cmdLine"
	pattern    string // RE2 syntax
}

// SignatureRanges maps a CRS rule ID range (within 900000-999999) to the
// ID ranges of mamori's signatures of the same CRS families, with their
// path twins (9842900-9842999 for any 942xxx rule): a signature is what
// the layers add to the attack class of its family, so an operator's
// exclusion of a family's rule, for a field that legitimately carries
// SQL say, also covers the SQL signatures there.
func SignatureRanges(lo, hi int) [][2]int {
	if lo < 900000 || hi > 999999 || lo > hi {
		return nil
	}
	var out [][2]int
	for family := lo / 1000; family <= hi/1000; family++ {
		first := signatureBase + (family-900)*1000 + 900
		out = append(out, [2]int{first, first + 99})
	}
	return out
}

// signatureExclude are targets a signature leaves out.
var signatureExclude = map[int]string{
	// A Referer naming an intranet or local host is ordinary.
	9831901: "|!REQUEST_HEADERS:Referer",
}

// signatureTargets are every placement but the path (read per segment).
const signatureTargets = "ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|XML:/*|" + placementTargets

var signatureList = []signature{
	{9834901, "attack-ssti", "Server-side template injection", "",
		`(?i)\{\{[^}]{0,200}?(?:\d\s*[*+/-]\s*\d|__\w+__|\bconfig\b|\bself\b|\brequest\.|\bpopen\b|\bsystem\b|\bimport\b|\bexec\b|\beval\b)` +
			`|\{%-?\s*(?:import|include|extends)\s` +
			`|[$#*@]\{\s*\d+\s*[*+/-]\s*\d+\s*\}` +
			`|<%=?\s*\d+\s*[*+/-]\s*\d+\s*%>` +
			`|\$\{\s*T\s*\(` +
			`|__(?:class|mro|subclasses|globals|builtins|init)__` +
			`|#\{[^}]{0,100}\.(?:getClass|getClassLoader|forName)\b`},
	{9834902, "attack-ldap", "LDAP filter injection", "",
		`(?i)\)\s*\(\s*[|&!]|\*\s*\)\s*\(|\)\s*\(\s*(?:uid|cn|sn|mail|objectclass|userpassword|password|description|samaccountname)\s*[~<>]?=|\(\s*[|&]\s*\(\s*(?:uid|cn|objectclass|userpassword|password)\s*=`},
	{9842902, "attack-nosql", "NoSQL operator injection", "",
		`(?i)\{\s*"?\$(?:ne|gt|gte|lt|lte|eq|in|nin|regex|where|exists|or|and|not|nor|expr|elemmatch)"?\s*:` +
			`|\[\s*\$(?:ne|gt|gte|lt|lte|eq|in|nin|regex|where|exists|or|and|not|nor)\s*\]` +
			`|\$where\b|'\s*;\s*return\s+(?:true|1)\b|'\s*\|\|\s*'[^']*'\s*==\s*'`},
	{9834903, "attack-xxe", "XML external entity or XInclude", "",
		`(?i)<!DOCTYPE[^>]*\[|<!ENTITY\b|<!DOCTYPE\s+\S+\s+SYSTEM\s|<xi:include\b|xmlns:xi\s*=\s*["']http://www\.w3\.org/2001/XInclude`},
	// qx, Perl's command quote, where an expression starts, holding what
	// a command starts with (a name, a path, a variable or a quote) and
	// closed (qx{id}, ;qx/id/): not after a path's "/", in a word or
	// around a number, where base-36 telemetry has it ("/qw/qx/ge/",
	// "+qx/2x/", issue 11).
	{9832901, "attack-rce", "Perl code injection", "",
		"(?i)(?:^|[^\\w/\\\\.\\-])qx\\s*(?:\\{\\s*[a-z/.$~'\"][^}\\x00]{0,200}\\}|\\(\\s*[a-z/.$~'\"][^)\\x00]{0,200}\\)|\\[\\s*[a-z/.$~'\"][^\\]\\x00]{0,200}\\]|/\\s*[a-z.$~'\"][^/\\x00]{0,200}/|\\|\\s*[a-z/.$~'\"][^|\\x00]{0,200}\\||!\\s*[a-z/.$~'\"][^!\\x00]{0,200}!)|\\buse\\s+IO::Socket|IO::Socket::INET\\s*->\\s*new|\\bopen\\s*\\(\\s*\\w+\\s*,\\s*[\"']\\s*\\||\\beval\\s*\\{\\s*(?:system|exec)\\b|\\bprint\\s*\\x60|\\b(?:system|exec)\\s*\\(\\s*[\"'](?:/bin/|/usr/bin/|cat\\s|id\\b|sh\\b|bash\\b|nc\\s|wget\\s|curl\\s)"},
	{9832902, "attack-rce", "Windows command injection", "t:cmdLine",
		`(?:^|[&|])\s*(?:net\s+(?:user|localgroup|view|share)\b|dir\s+[a-z]:|type\s+[a-z]:|ipconfig\s*/all|whoami\s*/(?:all|priv|groups)|certutil\s+-urlcache|cmd(?:\.exe)?\s+/[ck]\b|powershell(?:\.exe)?\s+-(?:enc|encodedcommand|command|c|nop|noprofile|e)\b)`},
	{9831901, "attack-rfi", "Remote file inclusion or server-side request forgery", "",
		`(?i)(?:^|\x00)\s*(?:gopher|dict|ldap|jar|netdoc|tftp|expect|phar)://` +
			`|(?:^|\x00)\s*(?:https?|ftp)://(?:127\.\d+\.\d+\.\d+|localhost|0\.0\.0\.0|\[::1?\]|169\.254\.169\.254|metadata\.google\.internal|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+)(?:[:/]|$|\x00)` +
			`|(?:^|\x00)\s*(?:https?|ftp)://[^?#\s\x00]+\.(?:php|txt|sh|pl|py|jsp|aspx?|exe|cgi)\?+\s*(?:$|\x00)`},
	// A host or address first, as a ping form's field carries it
	// ("127.0.0.1\nid", issue 11: a newline separates commands too).
	{9832903, "attack-rce", "Unix command injection: a bare command after a separator", "",
		`(?:^|\x00)\s*(?:(?:\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9-]+(?:\.[a-z0-9-]+)+)\s*\n\s*|(?:\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9-]+(?:\.[a-z0-9-]+)+)?\s*(?:[;|&]+|\$\(|\x60)\s*)(?:id|whoami|uname(?:\s+-[a-z]+)?|ls(?:\s+-[a-z]+)*(?:\s+/\S*)?|pwd|hostname|ifconfig|env|printenv)\s*(?:\)|\x60)?\s*;?\s*(?:$|\x00)`},
	{9821901, "attack-protocol", "CRLF injection: a header or response inside a value", "",
		`(?i)[\r\n][\t ]*(?:set-cookie|location|content-(?:length|type)|refresh|x-[a-z-]+)[\t ]*:|\r?\n\r?\n[\t ]*http/\d`},
	{9844901, "attack-java", "Java code injection or serialized object", "",
		`\brO0AB[A-Za-z0-9+/]|%\{\s*\(?\s*#|@java\.lang\.Runtime@|#_memberAccess|java\.lang\.(?:Runtime|ProcessBuilder)\b|Class\.forName\s*\(|\.getClass\s*\(\s*\)\s*\.getClassLoader|Runtime\.getRuntime\s*\(`},
	// Issue 11: script calls that name no function CRS knows. A global
	// object other than the four of CRS 941370 (window, self, top, this)
	// called through a computed property (parent['al'+'ert'](1),
	// globalThis[/al/.source+/ert/.source]()), a property name written
	// only in escapes (['\141\154…'], ['\x61…'], ['\u{61}…']: nobody
	// escapes every letter of a name but to hide it), indirect calls of
	// the dialog and eval functions (alert?.(1), (alert)(1), ["alert"](1),
	// alert`1`, [1].map(alert)) and handlers set to them
	// (onerror=alert;throw 1, valueOf=alert).
	{9841901, "attack-xss", "JavaScript obfuscation: computed call on a global object, escaped property name or indirect call", "",
		`\b(?:parent|globalThis|frames|opener|window|self|top)\s*(?:/\*.*?\*/\s*)*\[.{1,1000}?\]\s*(?:/\*.*?\*/\s*)*(?:\(|\x60)` +
			`|\[\s*(?:/\*.*?\*/\s*)*['"\x60](?:\\(?:[0-7]{1,3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,8}\}))+['"\x60]\s*(?:/\*.*?\*/\s*)*\]` +
			`|\b(?:alert|prompt|confirm|eval)\s*\?\.\s*[(\x60]|\(\s*(?:alert|prompt|confirm|eval)\s*\)\s*[(\x60]` +
			`|\[\s*['"\x60](?:alert|prompt|confirm|eval|constructor)['"\x60]\s*\]\s*[(\x60]` +
			`|(?:^|[^\x60\w])(?:alert|prompt|confirm|Function)\x60` +
			`|\b(?:on[a-z]{3,30}|valueOf|toString)\s*=\s*(?:alert|prompt|confirm|eval)\s*(?:[;,}]|$)` +
			`|\.(?:find|map|forEach|filter|some|every|call|apply)\s*\(\s*(?:alert|prompt|confirm|eval)\s*\)`},
	// Issue 11: the database-specific forms of the public cheat sheets
	// that CRS PL1 lets through: PostgreSQL's COPY … TO/FROM PROGRAM (a
	// shell command), a comparison with or a cast of a subquery
	// (1=(SELECT CAST((SELECT version()) AS integer)), error-based
	// extraction, as in GeoServer's CQL_FILTER injection CVE-2023-25157),
	// the system catalogs (v$version, all_tables, pg_shadow, ...) and the
	// out-of-band packages (UTL_INADDR, DBMS_PIPE, xp_dirtree). Not the
	// bare "SELECT version()" or "INTO OUTFILE": people search for them
	// (CRS reads INTO OUTFILE with a quoted path, 942190).
	{9842903, "attack-sqli", "SQL injection: server-side program, subquery comparison, system catalog or out-of-band function", "t:lowercase",
		`\bcopy\s*(?:\(.{1,1000}?\)|[\w.]+)\s*(?:to|from)\s+program\b` +
			`|=\s*\(\s*select\s+(?:cast|case|count|concat|substr\w*|ascii|char|version|user|database|@@|\d|'|"|\(|[\w.*]+\s+from\s)|\bcast\s*\(\s*\(\s*select\b` +
			`|\bfrom\s+(?:v\$(?:version|instance|database|session)|all_(?:tables|tab_columns|users)|dba_(?:users|tables)|user_tables|pg_(?:shadow|user|roles|tables|database)|pg_catalog\.\w+|mysql\.user|sys\.(?:objects|tables|databases|sql_logins)|sysobjects|syscolumns|sqlite_master)\b` +
			`|\butl_(?:inaddr|http|tcp|file)\s*\.|\bdbms_(?:pipe|lock|xmlgen|java|scheduler)\s*\.|\bxp_(?:cmdshell|dirtree|fileexist|regread|subdirs)\b`},
	{9842901, "attack-sqli", "SQL injection: UNION SELECT, stacked query, time delay or tautology", "t:lowercase",
		`\bunion(?:\s|/\*.*?\*/|\()+(?:all(?:\s|/\*.*?\*/)+|distinct(?:\s|/\*.*?\*/)+)?select\b|@@version\b|\b(?:sleep|pg_sleep|benchmark)\s*\(\s*\d|\bwaitfor\s+delay\b|\bextractvalue\s*\(|\bupdatexml\s*\(|\bconvert\s*\(\s*int\s*,|;\s*(?:drop|truncate|alter)\s+table\b|'\s*(?:or|and)\s*\(?\s*'[^']*'\s*=\s*'|\b(?:or|and)\s+(\d+)\s*=\s*\d+\s*(?:--|#|$)|'\s*(?:--|#)\s*$|^\s*'?\s*\)\s*(?:or|and)\s*\(`},
}

// queryHTMLPattern (issue 11) is an HTML element, in a query-string
// argument or a Referer's, with an attribute that acts without any script
// and that CRS PL1 does not read: download (<a href=# download=x.html>
// saves the page under the attacker's name), ping, formaction,
// referrerpolicy, popover. Forms and comments post HTML in bodies, where
// <a href=... download> is ordinary content; a query string carries an
// element only when it is injected, so bodies are left alone.
const queryHTMLPattern = `<[a-z][\w-]*\b[^<>]*?\s(?:download|ping|formaction|referrerpolicy|popover(?:target)?(?:action)?)\b\s*(?:=|>|/|\s|$)`

const queryHTMLID = signatureBase + 41902

// rawBodyOffset numbers a signature's copy on raw request bodies (its ID
// plus 25, between the placements' and the path's).
const rawBodyOffset = 25

// writeSignatures writes each signature three times: for the placements,
// for the URL path's segments, and for a body read as raw bytes (a type
// that is neither a form nor XML nor JSON: internal/waf reads it with
// Coraza's RAW processor, so it holds no ARGS and only REQUEST_BODY
// carries it); and the upload rules (upload.go).
func writeSignatures(b *strings.Builder) {
	writeUploadRules(b)
	fmt.Fprintf(b, "SecRule ARGS_GET|ARGS_GET_NAMES|REQUEST_HEADERS:Referer \"@rx %s\" \"id:%d,phase:2,block,capture,t:none,t:mamoriDecodeURL,t:lowercase,"+
		"msg:'HTML injection in the query string: an element with an attribute that acts without script (mamori)',"+
		"logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}',"+
		"tag:'attack-xss',tag:'mamori-detect',tag:'paranoia-level/1',severity:'CRITICAL',"+
		"setvar:'tx.inbound_anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n", escapeQuotes(queryHTMLPattern), queryHTMLID)
	defer func() {
		fmt.Fprintf(b, "SecRule REQBODY_PROCESSOR \"!@streq RAW\" \"id:%d,phase:2,pass,nolog,t:none,skipAfter:END-MAMORI-RAW-BODY\"\n", signatureBase+1)
		for _, s := range signatureList {
			if s.tag == "attack-protocol" {
				// CRLF injection needs a value that ends up in a header; a
				// raw body never does, and multi-line bodies (NDJSON, text)
				// hold "name: value" lines by nature.
				continue
			}
			t := "t:none,t:mamoriDecodeAll"
			if s.transforms != "" {
				t += "," + s.transforms
			}
			fmt.Fprintf(b, "SecRule REQUEST_BODY \"@rx %s\" \"id:%d,phase:2,block,capture,%s,"+
				"msg:'%s (mamori, raw body)',logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}',"+
				"tag:'%s',tag:'mamori-detect',tag:'paranoia-level/1',severity:'CRITICAL',"+
				"setvar:'tx.inbound_anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n",
				escapeQuotes(s.pattern), s.id+rawBodyOffset, t, s.msg, s.tag)
		}
		b.WriteString("SecMarker END-MAMORI-RAW-BODY\n")
	}()
	// Signatures that cannot match a token run only when a value they read
	// is more than one (tokens.go); the others run on every request.
	write := func(s signature) {
		for i, target := range []struct{ vars, decode string }{
			{lowerExclusions(signatureTargets + signatureExclude[s.id]), signatureDecode},
			{"REQUEST_URI_RAW", "t:mamoriPath"},
		} {
			t := "t:none," + target.decode
			if s.transforms != "" {
				t += "," + s.transforms
			}
			fmt.Fprintf(b, "SecRule %s \"@rx %s\" \"id:%d,phase:2,block,capture,%s,"+
				"msg:'%s (mamori)',logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}',"+
				"tag:'%s',tag:'mamori-detect',tag:'paranoia-level/1',severity:'CRITICAL',"+
				"setvar:'tx.inbound_anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n",
				target.vars, escapeQuotes(s.pattern), s.id+i*50, t, s.msg, s.tag)
		}
	}
	var gated []signature
	for _, s := range signatureList {
		if s.matchesTokens() {
			write(s)
		} else {
			gated = append(gated, s)
		}
	}
	fmt.Fprintf(b, "SecRule %s \"@rx %s\" \"id:%d,phase:2,pass,nolog,t:none,%s,setvar:tx.mamori_signed=1\"\n", lowerExclusions(signatureTargets), tokenClass, signatureBase+2, signatureDecode)
	fmt.Fprintf(b, "SecRule REQUEST_URI_RAW \"@rx %s\" \"id:%d,phase:2,pass,nolog,t:none,t:mamoriPath,setvar:tx.mamori_signed=1\"\n", tokenClass, signatureBase+3)
	fmt.Fprintf(b, "SecRule &TX:mamori_signed \"@eq 0\" \"id:%d,phase:2,pass,nolog,skipAfter:END-MAMORI-SIGNATURES\"\n", signatureBase+4)
	for _, s := range gated {
		write(s)
	}
	b.WriteString("SecMarker END-MAMORI-SIGNATURES\n")
}

// matchesTokens reports whether s may match a value made only of token
// characters (tokens.go).
func (s signature) matchesTokens() bool {
	for _, t := range strings.Split(s.transforms, ",") {
		if name, ok := strings.CutPrefix(t, "t:"); ok && !tokenClosed[name] {
			return true
		}
	}
	return regexMatchesTokens(s.pattern)
}

// signatureDecode is how the signatures read the variables of
// signatureTargets; their token gate reads them the same way.
const signatureDecode = "t:mamoriDecodeURL"

// escapeQuotes escapes double quotes for a SecLang quoted argument.
func escapeQuotes(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }
