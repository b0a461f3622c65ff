package events

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatchValue: any target and value give valid UTF-8 (for valid input),
// at most MaxMatchLength bytes plus the cut marker, and never the value of a
// password parameter embedded in a body.
func FuzzMatchValue(f *testing.F) {
	f.Add("ARGS:q", "1' OR '1'='1")
	f.Add("REQUEST_BODY", "user=alice&password=hunter2&x=1")
	f.Add("REQUEST_COOKIES:mt_user", "alice::abcdef::1")
	f.Add("XML:/*", `<a pwd="s3cret">日本語</a>`)
	f.Fuzz(func(t *testing.T, target, value string) {
		got := MatchValue(target, value)
		if utf8.ValidString(value) && !utf8.ValidString(got) {
			t.Fatalf("MatchValue(%q, %q) = %q: invalid UTF-8", target, value, got)
		}
		if len(got) > MaxMatchLength+len("…[")+20 {
			t.Fatalf("MatchValue kept %d bytes", len(got))
		}
		const secret = "Zq9secretXk"
		body := value + "&password=" + secret
		if out := MatchValue(target, body); strings.Contains(out, secret) {
			t.Fatalf("password value leaked: MatchValue(%q, %q) = %q", target, body, out)
		}
	})
}
