package jsondoc

import (
	"regexp"
	"strings"
	"testing"
)

// crs942550 is CRS v4.25.0's 942550 expression (after its transformations:
// these inputs hold no URL escapes or whitespace that matter).
var crs942550 = regexp.MustCompile(`(?i)["'` + "`" + `][\[\{][^#\]\}]*[\]\}]+["'` + "`" + `]|(?:[\-@]>?|<@|@[\?@]|\?(?:(?:)|&|\|#>)|#(?:>>|-)|->>|[<>])["'` + "`" + `](?:[\[\{][^#\]\}]*[\]\}]+["'` + "`" + `]|\$[\.\[])|\bjson_extract\b[^\(]*\([^\)]*\)`)

func TestLeaves(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		doc            bool
	}{
		{"object", `{"a":"x","b":[1,"y",null,true]}`, "a\x00x\x00b\x00y", true},
		{"nested_document_in_a_string", `{"flags":"{\"v\":{\"value\":\"{}\"}}","n":1}`, "flags\x00v\x00value\x00n", true},
		{"array_with_leading_space", ` ["[Capi]",{"k":"v"}]`, "[Capi]\x00k\x00v", true},
		{"not_json", `{"a":1}' @> '{"a":1}'`, `{"a":1}' @> '{"a":1}'`, false},
		{"scalar_string_is_no_document", `"{}"`, `"{}"`, false},
		{"plain_text", `hello world`, `hello world`, false},
		{"number", `12`, `12`, false},
		{"sqli_in_a_leaf", `{"q":"1' and '{\"a\":1}'::jsonb @> '{\"a\":1}'--"}`, "q\x001' and '{\"a\":1}'::jsonb @> '{\"a\":1}'--", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, doc := Leaves(c.in)
			if got != c.want || doc != c.doc {
				t.Fatalf("Leaves(%q) = %q %v, want %q %v", c.in, got, doc, c.want, c.doc)
			}
		})
	}
}

// 942550 reads the leaves: benign documents with JSON in their strings no
// longer match; SQL in a leaf still does; anything else is read as before.
func TestRuleOnLeaves(t *testing.T) {
	for _, c := range []struct {
		name, in string
		match    bool
	}{
		{"telemetry_feature_flags", `{"feed_version":{"enabled":true,"value":11},"advanced":{"enabled":true,"value":"{}"}}`, false},
		{"events_with_json_parameters", `[{"event_action":"show","parameters":"{\"itemId\":4009935,\"key\":\"x\"}"}]`, false},
		{"log_array_with_bracketed_text", `["[Capi Success]",{"body":{"serviceType":"ba"}}]`, false},
		{"sqli_in_a_leaf", `{"q":"1' and '{\"a\":1}'::jsonb @> '{\"a\":1}'--"}`, true},
		{"sqli_in_a_nested_leaf", `{"d":"{\"q\":\"x' or '[1]' <@ '[1,2]'\"}"}`, true},
		{"sqli_not_a_document", `1' and '{"a":1}' @> '{"a":1}'--`, true},
		{"json_extract_in_a_leaf", `{"q":"(json_extract(a,'$.b'))"}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, _ := Leaves(c.in)
			if got := crs942550.MatchString(strings.ReplaceAll(v, " ", "")); got != c.match {
				t.Fatalf("942550 on the leaves of %q: %v, want %v (leaves %q)", c.in, got, c.match, v)
			}
		})
	}
}

func FuzzLeaves(f *testing.F) {
	f.Add(`{"a":"{\"b\":[\"c\"]}"}`)
	f.Add(`[[[[[[[[[["x"]]]]]]]]]]`)
	f.Fuzz(func(t *testing.T, s string) {
		out, doc := Leaves(s)
		if !doc && out != s {
			t.Fatalf("not a document but changed: %q", out)
		}
		if doc && len(out) > len(s)*2 {
			t.Fatalf("leaves longer than twice the document: %d > 2×%d", len(out), len(s))
		}
	})
}
