package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"

	"github.com/mamori-waf/mamori/internal/detect"
	"github.com/mamori-waf/mamori/internal/jsondoc"
)

// jsonLeafDirectives make CRS's rules in jsondoc.Rules (942550, JSON-based
// SQL injection) read an argument that is a whole JSON document leaf by
// leaf (t:mamoriJSONLeaves before CRS's own transformations; see package
// jsondoc): the document's text, where each string holding JSON is written
// "{…}", is what an application parses, not SQL. Loaded after CRS. The
// transformations are read from CRS's own rule, so they follow CRS; a rule
// whose transformations cannot be read is left as CRS ships it.
var jsonLeafDirectives = sync.OnceValue(func() string {
	var b strings.Builder
	for _, id := range jsondoc.Rules {
		ts := crsTransformations(id)
		if len(ts) == 0 || ts[0] != "t:none" {
			continue
		}
		all := append([]string{"t:none", "t:" + jsondoc.Transformation}, ts[1:]...)
		fmt.Fprintf(&b, "SecRuleUpdateActionById %d \"%s\"\n", id, strings.Join(all, ","))
	}
	return b.String()
})

var transformAction = regexp.MustCompile(`\bt:[A-Za-z0-9]+`)

// crsTransformations returns the t: actions of a CRS rule, in order.
func crsTransformations(id int) []string {
	entries, err := fs.ReadDir(coreruleset.FS, "@owasp_crs")
	if err != nil {
		return nil
	}
	marker := fmt.Sprintf(`"id:%d,`, id)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") {
			continue
		}
		b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/"+e.Name())
		if err != nil {
			continue
		}
		text := string(b)
		i := strings.Index(text, marker)
		if i < 0 {
			continue
		}
		// The rule's actions end where the next directive begins.
		rest := text[i:]
		if j := strings.Index(rest, "\nSecRule "); j >= 0 {
			rest = rest[:j]
		}
		if j := strings.Index(rest, "\n    SecRule "); j >= 0 {
			rest = rest[:j] // a chained rule's own actions
		}
		return transformAction.FindAllString(rest, -1)
	}
	return nil
}

// jsonNameRuleID is the ID of 930120's copy on a JSON body's keys: CRS's
// ID in the range of mamori's copies of CRS rules (detect.CopyRanges), so
// that an exclusion of 930120 covers it. (930120 is a paranoia level 1
// rule, never promoted: the ID is free.)
const jsonNameRuleID = 9430120

// jsonNameRules make CRS's 930120 (OS file access) judge a JSON body's
// keys as the client sent them (TX:mamori_json_keys, markJSONKeys) instead
// of Coraza's dotted paths (ARGS_NAMES json.user.profile, whose ".profile"
// is a dot file of 930120's list): for a request whose body is read as
// JSON, 930120 stops reading ARGS_NAMES and its copy reads the query's
// names and the keys, with CRS's transformations and list. Loaded before
// CRS (a ctl must run before the rule it changes), after the default
// actions. With the detection layers on, the list's phrases are matched as
// names (@mamoriFileNames), as 930120 itself matches them then
// (internal/detect, filenames.go): a key written with dots as sent,
// "config.credentials", is a property path, not the dot file
// ".credentials" (issue 11: a log service's JSON beacons were refused for
// it). The keys are joined by NUL, which is no name character, so a key
// that is a dot file (".htaccess") still matches.
func jsonNameRules(names bool) string {
	if names {
		return jsonNameRulesNames()
	}
	return jsonNameRulesPM()
}

var (
	jsonNameRulesPM    = sync.OnceValue(func() string { return jsonNameRulesWith("@pmFromFile @owasp_crs/lfi-os-files.data") })
	jsonNameRulesNames = sync.OnceValue(func() string { return jsonNameRulesWith(detect.FileNameOperator("@pmFromFile lfi-os-files.data")) })
)

func jsonNameRulesWith(operator string) string {
	ts := crsTransformations(930120)
	if len(ts) == 0 || ts[0] != "t:none" {
		return ""
	}
	return `SecRule REQBODY_PROCESSOR "!@streq JSON" "id:200012,phase:2,pass,nolog,t:none,skipAfter:END-MAMORI-JSON-NAMES"
SecAction "id:200013,phase:2,pass,nolog,ctl:ruleRemoveTargetById=930120;ARGS_NAMES"
SecRule ARGS_GET_NAMES|TX:` + jsonKeysVar + ` "` + operator + `" "id:` + fmt.Sprint(jsonNameRuleID) + `,phase:2,block,capture,` + strings.Join(ts, ",") +
		`,msg:'OS File Access Attempt (mamori: CRS 930120, JSON keys)',logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}: %{MATCHED_VAR}',` +
		`tag:'application-multi',tag:'language-multi',tag:'platform-multi',tag:'attack-lfi',tag:'paranoia-level/1',tag:'OWASP_CRS',tag:'OWASP_CRS/ATTACK-LFI',tag:'capec/1000/255/153/126',tag:'mamori-detect',` +
		`severity:'CRITICAL',setvar:'tx.lfi_score=+%{tx.critical_anomaly_score}',setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
SecMarker END-MAMORI-JSON-NAMES
`
}
