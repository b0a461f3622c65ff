package detect

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mamori-waf/mamori/internal/jsondoc"
)

// Options switch mamori's detection layers; each is on unless set to
// false. The zero value turns everything on.
type Options struct {
	// Off turns every layer off: plain CRS.
	Off bool `json:"off,omitempty"`
	// Decode reapplies CRS's rules and libinjection to the decoded forms of
	// the variables CRS inspects (ARGS, ARGS_NAMES, cookies, XML text):
	// bounded recursive URL decoding, HTML/XML entities, JS/JSON escapes,
	// overlong UTF-8, Base64 tokens that decode to text, GraphQL strings.
	Decode *bool `json:"decode,omitempty"`
	// Placements applies the same rules to what CRS leaves out: every
	// request header, XML attributes, multipart part headers and file
	// names, and each URL path segment, raw and decoded.
	Placements *bool `json:"placements,omitempty"`
	// Signatures adds mamori's own rules for attack classes CRS does not
	// cover at paranoia level 1 (SSTI, LDAP, NoSQL operators, XXE, Perl).
	Signatures *bool `json:"signatures,omitempty"`
	// Promote runs the CRS paranoia-level-2 rules that mamori's benign
	// corpus shows to be safe as if they were level 1.
	Promote *bool `json:"promote,omitempty"`
	// TextGate is mamori's scoring for free text: mamori's copies
	// (decoded, header and path) of the CRS rules that fire on prose and
	// code (generic command, code and SQL patterns) do not score in long
	// free text. CRS's own rules are never gated: a layer adds detection,
	// it never removes what CRS detects.
	TextGate *bool `json:"text_gate,omitempty"`
}

func on(b *bool) bool { return b == nil || *b }

// Enabled reports whether any layer is on.
func (o Options) Enabled() bool {
	return !o.Off && (on(o.Decode) || on(o.Placements) || on(o.Signatures) || on(o.Promote) || on(o.TextGate))
}

// promoted are CRS paranoia-level-2 and -3 rules run at level 1: they
// matched none of 5,800 benign texts (the committed corpus and a held-out
// extraction, gen -reverse, every rule up to level 4 measured in detection
// mode) and each matched attacks of mamori's corpus.
var promoted = []int{
	921151, 921210, 930121, 931131, 932131, 932161, 932205, 932220, 932237,
	932239, 933152, 933190, 934120, 941101, 942152, 942361, 942420, 944151,
}

// gated are the CRS rules that, on mamori's benign corpus, fire on
// article text, changelogs and code samples: generic Unix/Windows command
// patterns, PHP and JavaScript call syntax, OS file names and SQL
// operator patterns. With TextGate their copies do not score in long free
// text (CRS's own rules are left as shipped).
var gated = []int{
	921130, 930100, 930110, 930120, 932120, 932125, 932130, 932140, 932160,
	932230, 932235, 932250, 932260, 932280, 932340, 932370, 932380, 933135,
	933160, 933180, 933210, 934110, 941100, 941120, 941160, 941180, 941390,
	942100, 942140, 942151, 942190, 942350, 942360, 942550,
}

// demoted are gated rules whose match alone, in short values, is too
// weak to block: on the benign corpus they fire on single words of
// technical text (SQL function names, "update", shell builtins, file
// name brace lists). With TextGate their copies score as a warning (3):
// they block together with another match.
var demoted = []int{932120, 932140, 932280, 941390, 942151, 942360, 942550}

// Detection rule IDs: CRS's ID minus 900000 plus a base per copy. The
// signatures (signatureBase) are numbered in the family of the CRS file
// closest to them (942 for SQL), so that ID ranges carry over.
const (
	promotedBase  = 9400000
	decodedBase   = 9500000
	placementBase = 9600000
	pathBase      = 9700000
	signatureBase = 9800000
)

// decidedBase numbers the score gates (scoreGate): IDs of CRS's
// configuration range (900000-900999, never copied) in the decoded
// copies' range, beside the decode layer's own rules (decodedBase, +1).
const decidedBase = decodedBase + 2

// scoreGate skips mamori's rules up to marker when the request's score
// at paranoia level 1 has reached the blocking threshold: the refusal is
// decided (the blocking score adds the higher levels' scores to it), and
// no rule of the layers lowers a score. A request under the threshold
// meets every layer as before, so no detection is lost.
func scoreGate(id int, marker string) string {
	return fmt.Sprintf("SecRule TX:INBOUND_ANOMALY_SCORE_PL1 \"@ge %%{tx.inbound_anomaly_score_threshold}\" \"id:%d,phase:2,pass,nolog,t:none,skipAfter:%s\"\n", id, marker)
}

// CopyRanges maps a CRS rule ID range (lo to hi, within 900000-999999) to
// the ranges of mamori's rules derived from it: its promoted, decoded,
// header and path copies and the signatures of its family. An exclusion
// of CRS rules applies to these too. Other ranges map to nothing.
func CopyRanges(lo, hi int) [][2]int {
	if lo < 900000 || hi > 999999 || lo > hi {
		return nil
	}
	var out [][2]int
	for _, base := range []int{promotedBase, decodedBase, placementBase, pathBase, signatureBase} {
		out = append(out, [2]int{base + lo - 900000, base + hi - 900000})
	}
	return out
}

// headerTargets are the request headers whose values an application may
// read as data: all but cookies (read one by one in REQUEST_COOKIES) and
// the standard content-negotiation, caching and framing headers, whose
// syntax (*/*, q=0.9) CRS's protocol rules check already.
const headerTargets = "REQUEST_HEADERS|!REQUEST_HEADERS:Cookie|!REQUEST_HEADERS:Content-Type|!REQUEST_HEADERS:Content-Length|" +
	"!REQUEST_HEADERS:Accept|!REQUEST_HEADERS:Accept-Language|!REQUEST_HEADERS:Accept-Encoding|!REQUEST_HEADERS:Accept-Charset|" +
	"!REQUEST_HEADERS:Cache-Control|!REQUEST_HEADERS:Connection|!REQUEST_HEADERS:Pragma|!REQUEST_HEADERS:TE|" +
	"!REQUEST_HEADERS:If-None-Match|!REQUEST_HEADERS:If-Modified-Since|!REQUEST_HEADERS:Range|!REQUEST_HEADERS:/^Sec-/|" +
	"!REQUEST_HEADERS:Origin|!REQUEST_HEADERS:Upgrade"

// urlHeaderExclusion leaves Referer out of the remote-file-inclusion and
// SSRF copies (CRS 931, 934): a Referer is always a URL, and one naming a
// site reached by its IP address (an intranet CMS) is no attack.
func urlHeaderExclusion(id int) string {
	if family := id / 1000; family == 931 || family == 934 {
		return "|!REQUEST_HEADERS:Referer"
	}
	return ""
}

// placementTargets are the variables CRS leaves out (raw and decoded).
// Multipart part headers are represented by FILES (the file names): the
// raw header lines are Content-Disposition syntax (name="x"; filename=
// "y"), whose quotes and semicolons CRS's PL2 SQL rules read as injection
// on every upload.
const placementTargets = headerTargets + "|XML://@*|FILES"

// fixationPolicy judges CRS's session-fixation rules (943110 a
// session-ID-named parameter with an off-site Referer, 943120 one without
// Referer) on the requests they are about: a page the victim is made to
// open (a link, a form, a frame). Fixation needs the victim's browser to
// adopt the session ID, so it is the victim's browser that sends the
// request, and a browser says what kind of request it sends in headers a
// page cannot set: Sec-Fetch-Mode cors, no-cors, same-origin or websocket
// (fetch, XHR, sendBeacon, images, scripts) or a WebSocket handshake. No
// one browses through such a request (a session ID carried in URLs stays
// in that request), and a session cookie it sets is one a cross-site
// subresource response may not set (SameSite Lax by default, partitioned
// or blocked third-party cookies). Those requests are left to the other
// rules; navigations, and requests that do not say (older browsers,
// scripts, CRS's own tests), are judged as CRS ships. On real traffic the
// rules fired on analytics calls that name their own sessions "sessionId"
// (issue 11).
const fixationPolicy = `SecRule REQUEST_HEADERS:Sec-Fetch-Mode "@rx ^(?:cors|no-cors|same-origin|websocket)$" "id:9400001,phase:1,pass,nolog,t:none,t:lowercase,ctl:ruleRemoveById=943110,ctl:ruleRemoveById=943120"
SecRule REQUEST_HEADERS:Upgrade "@streq websocket" "id:9400002,phase:1,pass,nolog,t:none,t:lowercase,chain"
	SecRule &REQUEST_HEADERS:Sec-WebSocket-Key "@eq 1" "t:none,ctl:ruleRemoveById=943110,ctl:ruleRemoveById=943120"
`

// Rules returns the SecLang of the enabled layers, to load after CRS's
// detection rules and before its blocking evaluation (949). level is the
// blocking paranoia level: copies are made of the rules that score at it.
func Rules(o Options, level int) (string, error) {
	if !o.Enabled() {
		return "", nil
	}
	crs, err := loadCRS()
	if err != nil {
		return "", fmt.Errorf("reading CRS: %w", err)
	}
	// placed holds the header copies that may match a token (run on
	// every request), placedGated those that cannot (run only when a
	// header value is more than a token: tokens.go).
	var own, decoded, placed, placedGated, path, names strings.Builder
	var replaced []string
	found := 0
	for _, r := range crs {
		if op, ok := fileNameOperator(r.Operator); ok && r.Level == 1 {
			// CRS's own PL1 rule, with its file names matched as names
			// (filenames.go): same ID, targets and actions.
			replaced = append(replaced, fmt.Sprint(r.ID))
			fmt.Fprintf(&names, "SecRule %s \"%s\" \"%s\"\n", r.Variables, op, strings.Join(r.Actions, ","))
		}
		// CRS's own PL1 rule, tightened (tighten.go): its copies below
		// use the tightened operator too.
		tightened, rule, ok, err := tighten(r)
		if err != nil {
			return "", err
		}
		if ok {
			r = tightened
			replaced = append(replaced, fmt.Sprint(r.ID))
			names.WriteString(rule)
			found++
		}
		if !r.isAttackRule() {
			continue
		}
		isPromoted := on(o.Promote) && r.Level > level && slices.Contains(promoted, r.ID) && !r.byteRegex()
		if r.Level > level && !isPromoted {
			continue
		}
		// The gate and the demotion apply to mamori's copies only: CRS's
		// own rules run as shipped, so no layer removes what CRS detects
		// at the blocking level. A multiMatch rule is not gated (multiMatch
		// judges the value before the gate too; dropping it would lose
		// matches such as 930110's on "..\..\").
		gate := on(o.TextGate) && slices.Contains(gated, r.ID) && !r.multiMatch()
		if gate && slices.Contains(demoted, r.ID) {
			r = r.demote()
		}
		if isPromoted {
			own.WriteString(r.copy(promotedBase+r.ID-900000, r.Variables, "", gate, true))
		}
		decoded.WriteString(r.copy(decodedBase+r.ID-900000, r.Variables, "t:mamoriDecode", gate, isPromoted))
		if !r.byteRegex() {
			into := &placedGated
			if r.matchesTokens() {
				into = &placed
			}
			into.WriteString(r.copy(placementBase+r.ID-900000, placementTargets+r.headersRead()+urlHeaderExclusion(r.ID), "t:mamoriHeader", gate, isPromoted))
		}
		if !strings.Contains(r.Variables, "REQUEST_FILENAME") {
			path.WriteString(r.copy(pathBase+r.ID-900000, "REQUEST_URI_RAW", "t:mamoriPath", gate, isPromoted))
		}
	}
	if found != len(tightenings) {
		return "", fmt.Errorf("%d of the %d CRS rules mamori tightens were not found", len(tightenings)-found, len(tightenings))
	}
	contentType, err := contentTypeRule()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# mamori detection layers (internal/detect), generated.\n")
	b.WriteString(fixationPolicy)
	// CRS's 920470 with RFC 9110's empty parameters allowed (protocol.go).
	fmt.Fprintf(&b, "SecRuleRemoveById %d\n%s", contentTypeRuleID, contentType)
	if len(replaced) > 0 {
		b.WriteString("SecRuleRemoveById " + strings.Join(replaced, " ") + "\n")
		b.WriteString(names.String())
	}
	// The layers only add to the score: once CRS's rules (or a layer
	// before) have scored a request to the blocking threshold, its
	// refusal is decided and the rest would only add lines to its event
	// (a Cookie header of 60 KB at random: the layers cost 2.5× CRS alone
	// before, as much as CRS after, each request refused either way).
	fmt.Fprint(&b, scoreGate(decidedBase, "END-MAMORI-PROMOTED"))
	b.WriteString(own.String())
	b.WriteString("SecMarker END-MAMORI-PROMOTED\n")
	fmt.Fprint(&b, scoreGate(decidedBase+1, "END-MAMORI-DECODED"))
	if on(o.Decode) {
		// Most requests hold nothing encoded: one rule finds out, and the
		// copies are skipped (their per-argument cost is the layer's cost).
		fmt.Fprintf(&b, "SecRule ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|XML:/* \"@rx .\" \"id:%d,phase:2,pass,nolog,t:none,t:mamoriDecode,setvar:tx.mamori_decoded=1\"\n", decodedBase)
		fmt.Fprintf(&b, "SecRule &TX:mamori_decoded \"@eq 0\" \"id:%d,phase:2,pass,nolog,skipAfter:END-MAMORI-DECODED\"\n", decodedBase+1)
		b.WriteString(decoded.String())
	}
	b.WriteString("SecMarker END-MAMORI-DECODED\n")
	fmt.Fprint(&b, scoreGate(decidedBase+2, "END-MAMORI-LAYERS"))
	if on(o.Placements) {
		b.WriteString(placed.String())
		// Most header values (Host, a short ID, "1") are tokens: one rule
		// finds out, and the copies that cannot match a token are skipped.
		fmt.Fprintf(&b, "SecRule %s \"@rx %s\" \"id:%d,phase:2,pass,nolog,t:none,t:mamoriHeader,setvar:tx.mamori_placed=1\"\n", lowerExclusions(placementTargets), tokenClass, placementBase)
		fmt.Fprintf(&b, "SecRule &TX:mamori_placed \"@eq 0\" \"id:%d,phase:2,pass,nolog,skipAfter:END-MAMORI-PLACED\"\n", placementBase+1)
		b.WriteString(placedGated.String())
		b.WriteString("SecMarker END-MAMORI-PLACED\n")
		// Path segments of letters (any script), digits and ._~- (slugs)
		// hold no attack: the path copies are skipped for them. (No \x80
		// escape: it would send the expression to the slow byte matcher.)
		fmt.Fprintf(&b, "SecRule REQUEST_URI_RAW \"@rx [^\\x00A-Za-z0-9._~\\-\\p{L}\\p{M}\\p{N}]\" \"id:%d,phase:2,pass,nolog,t:none,t:mamoriPath,setvar:tx.mamori_path=1\"\n", pathBase)
		fmt.Fprintf(&b, "SecRule &TX:mamori_path \"@eq 0\" \"id:%d,phase:2,pass,nolog,skipAfter:END-MAMORI-PATH\"\n", pathBase+1)
		b.WriteString(path.String())
		b.WriteString("SecMarker END-MAMORI-PATH\n")
	}
	if on(o.Signatures) {
		writeSignatures(&b)
	}
	b.WriteString("SecMarker END-MAMORI-LAYERS\n")
	return b.String(), nil
}

// copy writes r again with a new ID and targets, decode (a mamori
// transformation, or "") first among its transformations, t:mamoriTextGate
// after it when gated, and (promoted) its score counted at level 1.
func (r crsRule) copy(id int, variables, decode string, gate, promote bool) string {
	op, _ := fileNameOperator(r.Operator)
	if decode != "" {
		op = strings.Replace(op, "@detectSQLi", "@mamoriSQLi", 1)
		op = strings.Replace(op, "@detectXSS", "@mamoriXSS", 1)
	}
	var actions []string
	transforms := false
	for _, a := range r.Actions {
		switch {
		case strings.HasPrefix(a, "id:"):
			a = fmt.Sprintf("id:%d", id)
		case a == "t:none":
			transforms = true
			a = "t:none"
			if slices.Contains(jsondoc.Rules, r.ID) {
				a += ",t:" + jsondoc.Transformation // as CRS's own (internal/waf)
			}
			if decode != "" {
				a += "," + decode
			}
			if gate {
				a += "," + gateFor(r.Operator)
			}
		case a == "t:removeNulls" && decode != "":
			continue // NUL separates the decoded parts
		case strings.HasPrefix(a, "msg:") && id != r.ID:
			a = "msg:'" + strings.TrimSuffix(strings.TrimPrefix(a, "msg:'"), "'") + fmt.Sprintf(" (mamori: CRS %d%s)'", r.ID, copyNote(decode, promote))
		case strings.HasPrefix(a, "tag:'paranoia-level/") && promote:
			a = "tag:'paranoia-level/1'"
		case strings.HasPrefix(a, "setvar:") && promote:
			a = strings.Replace(a, fmt.Sprintf("_pl%d=", r.Level), "_pl1=", 1)
		}
		actions = append(actions, a)
	}
	if !transforms {
		// Every CRS attack rule starts with t:none; one that does not
		// would lose the decode, so it is not copied.
		return ""
	}
	if id != r.ID {
		actions = append(actions, "tag:'mamori-detect'")
	}
	return fmt.Sprintf("SecRule %s \"%s\" \"%s\"\n", lowerExclusions(variables), op, strings.Join(actions, ","))
}

// lowerExclusions writes the header names a variable list excludes
// (!REQUEST_HEADERS:Cookie) in lower case. Coraza compares them with each
// header's lowercased name by lowercasing the exclusion again, for every
// header and rule: a name with a capital costs an allocation each time
// (≈ 26,000 per browser request over the header copies), one in lower
// case none. The match is the same: header names are case-insensitive.
func lowerExclusions(variables string) string {
	parts := strings.Split(variables, "|")
	for i, p := range parts {
		if key, ok := strings.CutPrefix(p, "!REQUEST_HEADERS:"); ok && !strings.HasPrefix(key, "/") {
			parts[i] = "!REQUEST_HEADERS:" + strings.ToLower(key)
		}
	}
	return strings.Join(parts, "|")
}

func copyNote(decode string, promote bool) string {
	var notes []string
	switch decode {
	case "t:mamoriDecode":
		notes = append(notes, "decoded")
	case "t:mamoriDecodeAll", "t:mamoriHeader":
		notes = append(notes, "headers, XML attributes, multipart")
	case "t:mamoriPath":
		notes = append(notes, "path segments")
	}
	if promote {
		notes = append(notes, "promoted to PL1")
	}
	if len(notes) == 0 {
		return ""
	}
	return ", " + strings.Join(notes, ", ")
}

// multiMatch reports a rule that judges the value after each
// transformation.
func (r crsRule) multiMatch() bool { return slices.Contains(r.Actions, "multiMatch") }

// demote makes r score as a warning instead of critical.
func (r crsRule) demote() crsRule {
	actions := make([]string, len(r.Actions))
	for i, a := range r.Actions {
		switch {
		case strings.HasPrefix(a, "severity:"):
			a = "severity:'WARNING'"
		case strings.HasPrefix(a, "setvar:"):
			a = strings.ReplaceAll(a, "critical_anomaly_score", "warning_anomaly_score")
		}
		actions[i] = a
	}
	r.Actions = actions
	return r
}

// headersRead excludes (for the header copy) the headers r reads itself,
// such as User-Agent and Referer: CRS reads them raw, and the decoded
// copy (r's own variables) reads their decoded forms.
func (r crsRule) headersRead() string {
	var out strings.Builder
	for _, v := range strings.Split(r.Variables, "|") {
		if h, ok := strings.CutPrefix(v, "REQUEST_HEADERS:"); ok && !strings.HasPrefix(h, "/") {
			out.WriteString("|!REQUEST_HEADERS:" + h)
		}
	}
	return out.String()
}

var byteEscape = regexp.MustCompile(`\\x[89a-fA-F][0-9a-fA-F]`)

// byteRegex reports an expression that matches bytes beyond UTF-8 (\x80
// to \xff): internal/rx runs those with a backtracking-free but slow byte
// matcher, too slow to run on every header of every request (933180, a
// PHP variable-function pattern, and 934120, an SSRF pattern).
func (r crsRule) byteRegex() bool {
	return strings.HasPrefix(r.Operator, "@rx ") && byteEscape.MatchString(r.Operator)
}

// gateFor is the free-text gate of a rule: libinjection's gate starts at
// longer prose (LongProse) than the patterns' (LongText).
func gateFor(operator string) string {
	if strings.HasPrefix(operator, "@detect") || strings.HasPrefix(operator, "@mamoriSQLi") || strings.HasPrefix(operator, "@mamoriXSS") {
		return "t:mamoriProseGate"
	}
	return "t:mamoriTextGate"
}
