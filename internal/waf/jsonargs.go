package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"

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
