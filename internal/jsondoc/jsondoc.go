// Package jsondoc reads argument values that are whole JSON documents as
// an application reads them: as JSON, leaf by leaf (issue 11).
//
// Telemetry and single-page applications put JSON documents in form
// fields, query parameters and in string values of JSON bodies (a JSON
// document serialized into a string of another one: "feature_flags":
// "{\"a\":{\"value\":\"{}\"}}"). Some CRS rules take JSON's own syntax
// for attack syntax: 942550 (JSON-based SQL injection) looks for a JSON
// literal inside SQL quotes ('{"a":1}' @> ...) and fires on the document's
// text, where every string value that holds JSON is written "{…}"; the
// command-injection rules 932230, 932250, 932280, 932370 and 932380 take
// "{" for a command separator ({"url":… reads as "{ url"). For such a
// value those rules read its leaves instead:
// the keys and string values of the document, a string that is itself a
// document read the same way, each on its own (joined by NUL, which no
// transformation of the rule removes, so no match spans two leaves). The
// document's structure can carry no SQL (outside its strings it is only
// brackets, commas, colons, numbers and true/false/null); whatever SQL
// or command it carries is in a leaf, which the rule still reads. A value that is
// not a whole JSON object or array is read as it is.
package jsondoc

import (
	"encoding/json"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
)

// Rules are the CRS rules that read JSON-document values leaf by leaf
// (t:mamoriJSONLeaves first among their transformations), in CRS and in
// mamori's copies of them: those whose patterns take JSON's brackets and
// quotes for attack syntax. The other rules read the whole value.
var Rules = []int{942550, 932370, 932380, 932230, 932250, 932280}

// Transformation is the name of the transformation for the rules.
const Transformation = "mamoriJSONLeaves"

// Sep joins the leaves.
const Sep = "\x00"

// maxDepth bounds the documents read inside string values.
const maxDepth = 8

func init() {
	plugins.RegisterTransformation(Transformation, func(v string) (string, bool, error) {
		out, ok := Leaves(v)
		return out, ok, nil
	})
}

// Leaves returns the keys and string values of v, joined by Sep, when v is
// a JSON object or array; strings that are themselves JSON objects or
// arrays give their leaves in turn. Otherwise it returns v and false.
func Leaves(v string) (string, bool) {
	if !isDocument(v) {
		return v, false
	}
	var b strings.Builder
	leaves(v, 0, &b)
	return b.String(), true
}

// isDocument reports a value that is one whole JSON object or array.
func isDocument(v string) bool {
	t := strings.TrimLeft(v, " \t\r\n")
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return false
	}
	return json.Valid([]byte(v))
}

func leaves(doc string, depth int, b *strings.Builder) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return // the end (the document is valid)
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		if depth < maxDepth && isDocument(s) {
			leaves(s, depth+1, b)
			continue
		}
		if b.Len() > 0 {
			b.WriteString(Sep)
		}
		b.WriteString(s)
	}
}
