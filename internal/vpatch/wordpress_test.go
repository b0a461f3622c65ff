package vpatch

import (
	"fmt"
	"strings"
	"testing"
)

// multicall builds a system.multicall body of the given calls, each with
// a username and password, the way brute-force tools write them.
func multicall(methods ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>`)
	for _, m := range methods {
		fmt.Fprintf(&b, `<value><struct><member><name>methodName</name><value><string>%s</string></value></member><member><name>params</name><value><array><data><value><array><data><value><string>admin</string></value><value><string>pass</string></value></data></array></value></data></array></value></member></struct></value>`, m)
	}
	b.WriteString(`</data></array></value></param></params></methodCall>`)
	return b.String()
}

func TestMulticallOperator(t *testing.T) {
	op, err := newMulticallOp(pluginOptions("5 wp.getUsersBlogs blogger.getUsersBlogs"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		unsafe     bool
	}{
		{"plain_call", `<?xml version="1.0"?><methodCall><methodName>wp.getPosts</methodName><params><param><value><int>1</int></value></param></params></methodCall>`, false},
		{"list_methods_no_params", `<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>`, false},
		{"multicall_of_two_posts", multicall("wp.getPost", "wp.getPost"), false},
		{"multicall_of_five", multicall("wp.getPost", "wp.getPost", "wp.getPost", "wp.getPost", "wp.getPost"), false},
		{"multicall_of_six", multicall("wp.getPost", "wp.getPost", "wp.getPost", "wp.getPost", "wp.getPost", "wp.getPost"), true},
		{"multicall_of_500_getUsersBlogs", multicall(strings.Split(strings.Repeat("wp.getUsersBlogs ", 500), " ")[:500]...), true},
		{"multicall_one_getUsersBlogs", multicall("wp.getUsersBlogs"), true},
		{"multicall_nested", multicall("system.multicall"), true},
		{"bare_value_name", strings.Replace(multicall("wp.getUsersBlogs"), "<string>wp.getUsersBlogs</string>", "wp.getUsersBlogs", 1), true},
		{"cdata_name", strings.Replace(multicall("wp.getUsersBlogs"), "wp.getUsersBlogs", "wp.get<![CDATA[UsersBlogs]]>", 1), true},
		{"entity_name", strings.Replace(multicall("wp.getUsersBlogs"), "wp.getUsersBlogs", "wp&#46;getUsersBlogs", 1), true},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + multicall("wp.getPost"), true},
		{"two_method_names", strings.Replace(multicall("wp.getPost"), "<params>", "<methodName>wp.getPost</methodName><params>", 1), true},
		{"call_not_a_struct", `<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><string>x</string></value></data></array></value></param></params></methodCall>`, true},
		{"not_xml", `methodName=system.multicall`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := op.Evaluate(nil, tc.body); got != tc.unsafe {
				t.Errorf("unsafe = %v, want %v (%s)", got, tc.unsafe, op.(multicallOp).finding(tc.body))
			}
		})
	}
}

func TestFoldedNameContains(t *testing.T) {
	op, err := newFoldedOp(pluginOptions("_capabilities _user_level"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		unsafe bool
	}{
		{"wp_capabilities[administrator]", true},
		{"WP_Capabilities[administrator]", true},
		{"wp_càpabilities[administrator]", true},
		{"wp_ca\u0301pabilities[administrator]", true},
		{"wp_ｃａｐａｂｉｌｉｔｉｅｓ[administrator]", true},
		{"wpx3_user_level", true},
		{"user_login", false},
		{"first_name", false},
		{"capabilities_note", false},
	}
	for _, tc := range tests {
		if got := op.Evaluate(nil, tc.name); got != tc.unsafe {
			t.Errorf("%q: matched %v, want %v", tc.name, got, tc.unsafe)
		}
	}
}

func FuzzMulticallCalls(f *testing.F) {
	f.Add([]byte(multicall("wp.getUsersBlogs", "wp.getPost")))
	f.Add([]byte(`<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value>x</value></member></struct></value></data></array></value></param></params></methodCall>`))
	f.Add([]byte(`<methodCall><methodName>system.multicall</methodName></methodCall>`))
	op, err := newMulticallOp(pluginOptions("5 wp.getUsersBlogs"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		calls, err := MulticallCalls(b)
		if err == nil && len(calls) > 5 && !op.Evaluate(nil, string(b)) {
			t.Fatalf("%d calls not refused", len(calls))
		}
	})
}

func FuzzFold(f *testing.F) {
	f.Add("wp_càpabilities[administrator]")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		_ = Fold(s) // must not panic
	})
}
