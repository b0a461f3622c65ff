package evalcorpus

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// benignJSONL is the benign corpus: real text extracted by gen/main.go,
// one {"kind","src","text"} per line.
//
//go:embed benign.jsonl
var benignJSONL []byte

type benignEntry struct {
	Kind string `json:"kind"`
	Src  string `json:"src"`
	Text string `json:"text"`
}

// benignPlacements are where real traffic carries each kind of text, used
// in turn: article text in comment forms, CMS API JSON, XML-RPC/Atom and
// SOAP bodies; search phrases in query strings, slugs, GraphQL and
// cookies; names in author fields; URLs in Referer and link fields.
var benignPlacements = map[string][]string{
	"prose":     {"form", "json-html", "multipart", "xml-text", "soap", "json-value"},
	"technical": {"form", "json-value", "multipart", "xml-text", "json-html"},
	"code":      {"form", "json-value", "multipart"},
	"search":    {"query", "graphql", "path", "query-quoted", "cookie", "header", "query-amp"},
	"ja":        {"form", "query", "json-value", "path", "xml-text", "cookie", "graphql"},
	"name":      {"form", "json-value", "xml-attr", "query-apostrophe"},
	"changelog": {"form", "json-value", "xml-text"},
	"url":       {"referer", "query", "json-value", "header"},
	"key":       {"json-key", "xml-attr"},
	"upload":    {"upload"},
}

// userAgents are real browsers' and tools' User-Agent strings.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"WordPress/6.7.1; https://blog.example.jp",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko",
	"Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
}

// Benign returns the benign corpus, each text in the placements real
// traffic puts it in.
func Benign() ([]Case, error) { return BenignFrom(bytes.NewReader(benignJSONL)) }

// BenignFrom reads a benign corpus in gen/main.go's format (to check
// another extraction, such as a held-out one made with gen -reverse).
func BenignFrom(r io.Reader) ([]Case, error) {
	var out []Case
	turn := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e benignEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("benign corpus: %w", err)
		}
		places := benignPlacements[e.Kind]
		if len(places) == 0 {
			return nil, fmt.Errorf("benign corpus: unknown kind %q", e.Kind)
		}
		where := places[turn[e.Kind]%len(places)]
		turn[e.Kind]++
		placement, value := benignValue(where, e.Text)
		p, _ := PlacementByName(placement)
		if placement == "upload" {
			p = upload
		}
		if !p.carries(value) {
			value = strings.Join(strings.Fields(value), " ")
		}
		out = append(out, Case{
			ID:       fmt.Sprintf("benign/%s/%s/%d", e.Kind, placement, turn[e.Kind]),
			Category: e.Kind, Placement: placement, Encoding: "plain", Value: value, Source: e.Src,
		})
	}
	for i, ua := range userAgents {
		out = append(out, Case{ID: fmt.Sprintf("benign/ua/user-agent/%d", i), Category: "ua",
			Placement: "user-agent", Encoding: "plain", Value: ua, Source: "browsers"})
	}
	return out, sc.Err()
}

// benignValue shapes text for a benign placement: CMS content as HTML
// paragraphs, search phrases quoted or joined with &, slugs for paths,
// names with an apostrophe form (O'Brien) in author searches.
func benignValue(where, text string) (string, string) {
	switch where {
	case "json-html":
		return "json-value", "<p>" + text + "</p>\n<p><strong>Note:</strong> see <a href=\"https://example.com/docs\">the docs</a>.</p>"
	case "query-quoted":
		return "query", `"` + text + `"`
	case "query-amp":
		return "query", text + " & " + strings.ToLower(text)
	case "query-apostrophe":
		// Irish and Italian surnames: O'Brien, D'Angelo.
		f := strings.Fields(text)
		return "query", f[0] + " O'" + f[len(f)-1]
	case "path":
		return "path", slug(text)
	}
	return where, text
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '/' || r == '_' {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	return strings.Trim(b.String(), "-")
}
