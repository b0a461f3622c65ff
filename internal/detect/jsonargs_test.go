package detect

import (
	"slices"
	"strings"
	"testing"
)

func TestJSONStrings(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		ok       bool
	}{
		{"object", `{"url":"https://a.example/x?y=1","n":3,"ok":true}`, []string{"url", "https://a.example/x?y=1", "n", "ok"}, true},
		{"array of objects", `[{"T":"CI.DevLoc","TS":1688}]`, []string{"T", "CI.DevLoc", "TS"}, true},
		// Escapes are kept: CRS's byte rules see what the client sent.
		{"escapes kept", `{"a":"x\u003cy\"z"}`, []string{"a", `x\u003cy\"z`}, true},
		// A JSON document inside a string is read as JSON too.
		{"nested", `{"msg":"[\"[Capi Success]\",{\"body\":1}]"}`, []string{"msg", "[Capi Success]", "body"}, true},
		{"attack stays", `{"q":"1' UNION SELECT password FROM users--"}`, []string{"q", "1' UNION SELECT password FROM users--"}, true},
		{"numbers only", `[1,2,3]`, nil, false},
		{"not json", `{"a":1} OR 1=1`, nil, false},
		{"plain", `hello`, nil, false},
		{"string literal", `"abc"`, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := JSONStrings(tc.in)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Errorf("JSONStrings(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// Deeply nested JSON strings are bounded (maxJSONDepth) and never panic.
func TestJSONStringsBounded(t *testing.T) {
	v := `"x"`
	for range 10 {
		b, _ := jsonQuote(`{"a":` + v + `}`)
		v = b
	}
	got, ok := JSONStrings(`{"a":` + v + `}`)
	if !ok || len(got) == 0 {
		t.Fatalf("JSONStrings = %q, %v", got, ok)
	}
}

func jsonQuote(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// Issue 11: a JSON document sent as an argument's name (a form body that
// is one document) gives the arguments CRS makes of a JSON body: leaves
// under their dotted paths, so a key never starts a name.
func TestJSONNameArgs(t *testing.T) {
	got, ok := JSONNameArgs(`{"adReqData":{"chid":9,"slot":[{"loid":"2","orders_info":[]}],"netstatus":"unknown","ok":false,"x":null,"msg":"{\"a\":\"b\"}"}}`)
	want := [][2]string{
		{"json.adReqData.chid", "9"},
		{"json.adReqData.slot.0.loid", "2"},
		{"json.adReqData.slot.0.orders_info", ""},
		{"json.adReqData.netstatus", "unknown"},
		{"json.adReqData.ok", "false"},
		{"json.adReqData.x", "null"},
		{"json.adReqData.msg", "a"},
		{"json.adReqData.msg", "b"},
	}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("JSONNameArgs = %q, %v; want %q", got, ok, want)
	}
	// Attacks stay arguments: in a value, and in a key (in the name).
	got, _ = JSONNameArgs(`[{"q":"1' UNION SELECT password FROM users--"},{"<script>alert(1)</script>":1}]`)
	want = [][2]string{{"json.0.q", "1' UNION SELECT password FROM users--"}, {"json.1.<script>alert(1)</script>", "1"}}
	if !slices.Equal(got, want) {
		t.Errorf("JSONNameArgs = %q; want %q", got, want)
	}
	if _, ok := JSONNameArgs(`{"a":1} OR 1=1`); ok {
		t.Error("JSONNameArgs read an invalid document")
	}
}
