package vpatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

func TestUnsafeFilterItems(t *testing.T) {
	tests := []struct {
		name, items string
		unsafe      bool
	}{
		{"empty_lists_everything", ``, false},
		{"status_filter", `[{"type":"status","args":{"value":"2"}}]`, false},
		{"title_contains_apostrophe", `[{"type":"title","args":{"option":"contains","string":"O'Reilly"}}]`, false},
		{"date_range", `[{"type":"authored_on","args":{"option":"range","from":"2026-01-01","to":"2026-03-31"}}]`, false},
		{"comment_count_number", `[{"type":"comment_count","args":{"option":"greater_than","value":3}}]`, false},
		{"comment_count_digits_string", `[{"type":"comment_count","args":{"option":"equal","value":"12"}}]`, false},
		{"pack_of_two", `[{"type":"pack","args":{"op":"and","items":[{"type":"status","args":{"value":"2"}},{"type":"comment_count","args":{"option":"less_than","value":"5"}}]}}]`, false},
		{"category_ids_list", `[{"type":"category_id","args":{"value":[1,2,3]}}]`, false},
		{"quoted_and_js_escaped_as_mt_accepts", `"[{\"type\":\"status\",\"args\":{\"value\":\"2\"}}]"`, false},
		{"item_without_args", `[{"type":"current_context"}]`, false},

		{"count_value_with_code", `[{"type":"comment_count","args":{"option":"equal","value":"1;system('id')"}}]`, true},
		{"count_value_sql", `[{"type":"comment_count","args":{"option":"greater_than","value":"0) OR 1=1--"}}]`, true},
		{"count_value_negative_float", `[{"type":"entry_count","args":{"value":-1.5}}]`, true},
		{"count_value_list", `[{"type":"comment_count","args":{"value":["1","2"]}}]`, true},
		{"count_option_injected", `[{"type":"comment_count","args":{"option":"equal OR 1","value":"1"}}]`, true},
		{"object_in_args", `[{"type":"status","args":{"value":{"-and":["1"]}}}]`, true},
		{"object_in_args_list", `[{"type":"author_id","args":{"value":[{"op":"like"}]}}]`, true},
		{"object_nested_in_a_pack", `[{"type":"pack","args":{"op":"or","items":[{"type":"status","args":{"value":{"x":1}}}]}}]`, true},
		{"count_attack_escaped_in_quotes", `"[{\"type\":\"comment_count\",\"args\":{\"value\":\"1\\u0027 or 1\"}}]"`, true},
		{"unicode_escaped_object", `"[{\"type\":\"status\",\"args\":{\"value\":\u007b\"a\":1}}}]"`, true},
		{"pack_with_extra_argument", `[{"type":"pack","args":{"op":"and","items":[],"sql":"1"}}]`, true},
		{"pack_bad_operator", `[{"type":"pack","args":{"op":"; drop","items":[]}}]`, true},
		{"type_with_code", `[{"type":"status;rm -rf","args":{}}]`, true},
		{"not_json", `status=2`, true},
		{"object_at_top", `{"type":"status"}`, true},
		{"trailing_garbage", `[{"type":"status"}] [1]`, true},
		{"deep_packs", strings.Repeat(`[{"type":"pack","args":{"op":"and","items":`, 6) + `[]` + strings.Repeat(`}}]`, 6), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			why := UnsafeFilterItems(tc.items)
			if (why != "") != tc.unsafe {
				t.Errorf("UnsafeFilterItems(%s) = %q, want unsafe=%v", tc.items, why, tc.unsafe)
			}
		})
	}
}

func TestXMLRPCMethod(t *testing.T) {
	const params = `<params><param><value><string>1</string></value></param><param><value><string>melody</string></value></param></params>`
	tests := []struct {
		name, body, want string
		bad              bool
	}{
		{"plain", `<?xml version="1.0"?><methodCall><methodName>metaWeblog.newPost</methodName>` + params + `</methodCall>`, "metaWeblog.newPost", false},
		{"whitespace_around_the_name", "<methodCall>\n  <methodName>\n\tblogger.getUsersBlogs \n</methodName>" + params + "</methodCall>", "blogger.getUsersBlogs", false},
		{"cdata", `<methodCall><methodName><![CDATA[mt.handler_to_coderef]]></methodName></methodCall>`, "mt.handler_to_coderef", false},
		{"split_by_cdata", `<methodCall><methodName>mt.handler<![CDATA[_to_]]>coderef</methodName></methodCall>`, "mt.handler_to_coderef", false},
		{"character_references", `<methodCall><methodName>mt&#46;handler&#x5f;to_coderef</methodName></methodCall>`, "mt.handler_to_coderef", false},
		{"comment_inside_name", `<methodCall><methodName>mt.handler<!-- x -->_to_coderef</methodName></methodCall>`, "mt.handler_to_coderef", false},
		{"doctype", `<!DOCTYPE m [<!ENTITY n "metaWeblog.newPost">]><methodCall><methodName>&n;</methodName></methodCall>`, "", true},
		{"two_names", `<methodCall><methodName>metaWeblog.newPost</methodName><methodName>mt.handler_to_coderef</methodName></methodCall>`, "", true},
		{"namespaced_name", `<methodCall xmlns:x="urn:x"><x:methodName>metaWeblog.newPost</x:methodName></methodCall>`, "", true},
		{"name_in_wrong_case", `<methodCall><MethodName>metaWeblog.newPost</MethodName></methodCall>`, "", true},
		{"nested_name", `<methodCall><params><methodName>metaWeblog.newPost</methodName></params></methodCall>`, "", true},
		{"markup_in_name", `<methodCall><methodName>metaWeblog.<b>newPost</b></methodName></methodCall>`, "", true},
		{"wrong_root", `<methodResponse><methodName>metaWeblog.newPost</methodName></methodResponse>`, "", true},
		{"second_root", `<methodCall><methodName>metaWeblog.newPost</methodName></methodCall><methodCall/>`, "", true},
		{"unclosed", `<methodCall><methodName>metaWeblog.newPost</methodName>`, "", true},
		{"empty", ``, "", true},
		{"not_utf8", "<methodCall><methodName>a\xff</methodName></methodCall>", "", true},
		{"no_name", `<methodCall>` + params + `</methodCall>`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := XMLRPCMethod([]byte(tc.body))
			if tc.bad {
				if !errors.Is(err, ErrNotMethodCall) {
					t.Fatalf("XMLRPCMethod = %q, %v; want ErrNotMethodCall", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("XMLRPCMethod = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestXMLRPCOperator(t *testing.T) {
	op, err := newXMLRPCOp(pluginOptions("blogger.newPost metaWeblog.newPost"))
	if err != nil {
		t.Fatal(err)
	}
	for body, match := range map[string]bool{
		`<methodCall><methodName>metaWeblog.newPost</methodName></methodCall>`:    false,
		`<methodCall><methodName>mt.handler_to_coderef</methodName></methodCall>`: true,
		`<methodCall><methodName>metaWeblog.newPost</methodName>`:                 true,
	} {
		if got := op.Evaluate(nil, body); got != match {
			t.Errorf("Evaluate(%s) = %v, want %v", body, got, match)
		}
	}
	if _, err := newXMLRPCOp(pluginOptions("  ")); err == nil {
		t.Error("an empty allow-list was accepted")
	}
}

func FuzzUnsafeFilterItems(f *testing.F) {
	f.Add(`[{"type":"pack","args":{"op":"and","items":[{"type":"comment_count","args":{"value":"3"}}]}}]`)
	f.Add(`"[{\"type\":\"status\",\"args\":{\"value\":\"2\"}}]"`)
	f.Add(`"\u`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = UnsafeFilterItems(s) // must not panic
	})
}

func FuzzXMLRPCMethod(f *testing.F) {
	f.Add([]byte(`<methodCall><methodName>metaWeblog.newPost</methodName><params/></methodCall>`))
	f.Add([]byte(`<methodCall><methodName><![CDATA[x]]></methodName></methodCall>`))
	f.Add([]byte(`<!DOCTYPE a><methodCall/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := XMLRPCMethod(b)
		if err == nil && strings.TrimSpace(name) != name {
			t.Fatalf("name %q not trimmed", name)
		}
	})
}

func BenchmarkXMLRPCMethod(b *testing.B) {
	body := []byte(`<?xml version="1.0"?><methodCall><methodName>metaWeblog.newPost</methodName><params><param><value><string>1</string></value></param><param><value><struct><member><name>description</name><value><string>` + strings.Repeat("&lt;p&gt;Hello world&lt;/p&gt; ", 100) + `</string></value></member></struct></value></param></params></methodCall>`)
	for b.Loop() {
		if _, err := XMLRPCMethod(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnsafeFilterItems(b *testing.B) {
	items := `[{"type":"pack","args":{"op":"and","items":[{"type":"status","args":{"value":"2"}},{"type":"comment_count","args":{"option":"greater_than","value":"3"}}]}}]`
	for b.Loop() {
		if UnsafeFilterItems(items) != "" {
			b.Fatal("unsafe")
		}
	}
}

func pluginOptions(args string) plugintypes.OperatorOptions {
	return plugintypes.OperatorOptions{Arguments: args}
}

func TestCheckFilterItemsKinds(t *testing.T) {
	tests := []struct {
		name, items       string
		structure, counts bool
	}{
		{"count_only", `[{"type":"comment_count","args":{"value":"1 or 1"}}]`, false, true},
		{"structure_only", `[{"type":"status","args":{"value":{"a":1}}}]`, true, false},
		{"both", `[{"type":"status","args":{"value":{"a":1}}},{"type":"comment_count","args":{"value":"x"}}]`, true, true},
		{"neither", `[{"type":"comment_count","args":{"value":"7"}}]`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := CheckFilterItems(tc.items)
			if (f.Structure != "") != tc.structure || (f.Counts != "") != tc.counts {
				t.Errorf("CheckFilterItems = %+v, want structure=%v counts=%v", f, tc.structure, tc.counts)
			}
		})
	}
	for _, arg := range []string{"structure", "counts"} {
		if _, err := newFilterItemsOp(pluginOptions(arg)); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
	}
	if _, err := newFilterItemsOp(pluginOptions("all")); err == nil {
		t.Error("an unknown argument was accepted")
	}
}
