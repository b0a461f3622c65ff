package detect

import (
	"fmt"
	"io/fs"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// contentTypeRuleID is CRS's "Illegal Content-Type header" rule.
const contentTypeRuleID = 920470

// crsContentTypeOperator is 920470's operator as CRS v4.25.0 writes it: a
// media type followed by parameters, each "; name=value" with a name from
// a fixed list.
const crsContentTypeOperator = `!@rx ^[\w/.+*-]+(?:\s?;\s*(?:action|boundary|charset|component|start(?:-info)?|type|version)\s?=\s?['\"\w.()+,/:=?<>@#*-]+)*$`

// contentTypeOperator is the same check with RFC 9110's empty parameters
// allowed (section 8.3.1: parameters = *( OWS ";" OWS [ parameter ] )):
// "application/json;" and "text/plain;charset=utf-8;" are well-formed
// (browsers' fetch sends them when a script writes the header so), and CRS
// refused them. Everything else is CRS's: the same type characters, the
// same parameter names and value characters, so every header CRS's
// regression tests refuse ("text/xml; blah", "boundary=  x", OGNL) is
// still refused. An empty parameter carries nothing a parser reads; its
// whitespace is RFC 9110's OWS (space and tab), never a line break.
const contentTypeOperator = `!@rx ^[\w/.+*-]+(?:\s?;\s*(?:action|boundary|charset|component|start(?:-info)?|type|version)\s?=\s?['\"\w.()+,/:=?<>@#*-]+|[ \t]*;[ \t]*)*$`

// contentTypeRule returns CRS's 920470 with contentTypeOperator: same ID,
// variables, transformations and actions, to load after removing CRS's
// own. It fails when CRS's rule is not the one this replacement was
// written for (a CRS upgrade must look at it again).
func contentTypeRule() (string, error) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-920-PROTOCOL-ENFORCEMENT.conf")
	if err != nil {
		return "", err
	}
	rules, err := parseRules(string(b))
	if err != nil {
		return "", err
	}
	for _, r := range rules {
		if r.ID != contentTypeRuleID {
			continue
		}
		if r.Operator != crsContentTypeOperator || r.Variables != "REQUEST_HEADERS:Content-Type" {
			return "", fmt.Errorf("CRS rule %d is not the one mamori replaces: %s %q", r.ID, r.Variables, r.Operator)
		}
		return fmt.Sprintf("SecRule %s \"%s\" \"%s\"\n", r.Variables, contentTypeOperator, strings.Join(r.Actions, ",")), nil
	}
	return "", fmt.Errorf("CRS rule %d not found", contentTypeRuleID)
}
