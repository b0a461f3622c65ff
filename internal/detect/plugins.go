package detect

import (
	"net/url"
	"strings"
	"unicode"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/libinjection-go"
)

// The registrations are process-wide, like internal/rx's @rx: every WAF in
// the binary can use them; only mamori's generated rules do.
func init() {
	plugins.RegisterTransformation("mamoriDecode", decodedOnly)
	plugins.RegisterTransformation("mamoriDecodeAll", decodedAll)
	plugins.RegisterTransformation("mamoriPath", pathSegments)
	plugins.RegisterTransformation("mamoriHeader", headerParts)
	plugins.RegisterTransformation("mamoriDecodeURL", decodedWithURLParts)
	plugins.RegisterTransformation("mamoriTextGate", func(v string) (string, bool, error) { return gate(v, LongText) })
	plugins.RegisterTransformation("mamoriProseGate", func(v string) (string, bool, error) { return gate(v, LongProse) })
	plugins.RegisterOperator("mamoriSQLi", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		return partsOperator{match: func(s string) bool { ok, _ := libinjection.IsSQLi(s); return ok }}, nil
	})
	plugins.RegisterOperator("mamoriXSS", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		return partsOperator{match: libinjection.IsXSS}, nil
	})
	plugins.RegisterOperator("mamoriScriptUpload", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		return scriptUpload{}, nil
	})
}

// decodedOnly (t:mamoriDecode) gives the decoded forms of a value joined
// by Sep, or "" when nothing decodes: for the variables CRS already
// inspects as they are, only what decoding reveals is new.
//
// A value that is, or decodes to, an absolute http(s) URL (an escaped or
// Base64 link in a tracking parameter) is read as the URL-valued headers are: its
// decoded parts without its search phrases (codeParts), not as one string
// whose "&plan=ps" reads as a command after a separator (issue 11).
func decodedOnly(v string) (string, bool, error) {
	once, isPlain := firstRound(v)
	if isPlain {
		return "", v != "", nil
	}
	if url, ok := codeParts(v); ok {
		// Its own escapes are the URL's: each part is unescaped once by
		// URLParts, then decoded.
		return strings.Join(url, Sep), true, nil
	}
	parts := decodeFrom(v, once)
	if len(parts) == 1 && parts[0] == v {
		return "", v != "", nil
	}
	var out []string
	for _, p := range parts {
		if url, ok := codeParts(p); ok {
			out = append(out, url...)
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, Sep), true, nil
}

// decodedAll (t:mamoriDecodeAll) gives the decoded forms, or the value
// itself when nothing decodes: for placements CRS does not inspect.
func decodedAll(v string) (string, bool, error) {
	once, isPlain := firstRound(v)
	if isPlain {
		return v, false, nil
	}
	parts := decodeFrom(v, once)
	if len(parts) == 1 && parts[0] == v {
		return v, false, nil
	}
	return strings.Join(parts, Sep), true, nil
}

// firstRound gives v's first decoding round and whether v is plain: a
// value that Decode returns as it is (one decoding round changes nothing
// and it is no GraphQL document with string literals), found without
// building Decode's result: most values are plain. A value that is not
// plain goes on to decodeFrom with the round already done.
func firstRound(v string) (once string, plain bool) {
	if len(v) > maxDecodeLen {
		return v, true
	}
	once = decodeOnce(v)
	return once, once == v && len(graphQLStrings(v)) == 0
}

// headerParts (t:mamoriHeader) reads a header, XML attribute or file name:
// an absolute http(s) URL (Referer, a link in a custom header or an
// attribute) as the parts its own request would be judged in (URLParts),
// each decoded, its search phrases left out (codeParts); anything else as
// decodedAll does. A Referer that is an admin screen's URL
// (mt.cgi?__mode=view&_type=entry&id=12) is then judged parameter by
// parameter, as the request that loaded the screen was, instead of as one
// string whose "=view&" looks like a command line.
func headerParts(v string) (string, bool, error) {
	parts, ok := codeParts(v)
	if !ok {
		return decodedAll(v)
	}
	return strings.Join(parts, Sep), true, nil
}

// codeParts gives the decoded parts of an absolute http(s) URL (urlParts)
// without the query values that are search phrases (SearchPhrase). ok is
// false for anything that is no such URL.
func codeParts(v string) (out []string, ok bool) {
	parts, ok := urlParts(v)
	if !ok {
		return nil, false
	}
	for _, p := range parts {
		for _, d := range Decode(p.text) {
			if p.value && SearchPhrase(d) {
				continue
			}
			out = append(out, d)
		}
	}
	return out, true
}

// SearchPhrase reports a URL's query value that is two or more words
// only: letters and digits of any script separated by single spaces, with
// the ".", ":", "_" and single "-" of host names, dates and search
// operators ("site:example.com union select 关键字怎么用"). A URL-valued header carries
// the query its page was loaded with, and on a search engine's or the
// site's own results page that is what someone typed: it names SQL
// keywords and commands as often as anything else. Such a value has no
// quote, bracket, operator, separator, comment or line break, so it breaks
// out of no string, statement or command; the one injection it can be (a
// bare continuation in a numeric context, "1 union select password from
// users") is left, as a search for "select 1 from a" is, to CRS's own
// rules on the whole header (942100, libinjection, on the Referer), as
// CRS PL1 leaves it (issue 11: a Bing results page's Referer, "union
// select 关键字怎么用", refused every beacon of the page; libinjection on
// each parameter refused a Zhihu search for "select 1 from a" instead).
func SearchPhrase(s string) bool {
	if !strings.Contains(s, " ") || strings.Contains(s, "--") || strings.Contains(s, "  ") {
		return false // a single token stays: "rO0ABXNy…" is a Java object
	}
	for _, r := range s {
		switch {
		case r == ' ' || r == '.' || r == ':' || r == '_' || r == '-':
		case r < 0x80:
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		case !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r):
			return false
		}
	}
	return true
}

// decodedWithURLParts (t:mamoriDecodeURL, the signatures' reading) gives
// what decodedAll gives, except that an absolute http(s) URL (a Referer,
// a link parameter) is given as its decoded origin and path (up to the
// query: an RFI target, "http://evil.example/shell.txt?") followed by the
// decoded parts of codeParts: a signature sees each parameter on its own,
// with "+" read as a space (issue 11: an injection carried in the
// Referer's query, "id=1+and+1=1", reads as the request that carried it
// did), and the search phrases of the query not at all (SearchPhrase).
func decodedWithURLParts(v string) (string, bool, error) {
	parts, ok := codeParts(v)
	if !ok {
		return decodedAll(v)
	}
	base := strings.TrimSpace(v)
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		rest := base[i:]
		base = base[:i]
		if strings.Trim(rest, "?# ") == "" {
			base += rest // "shell.txt?": the RFI signature's trailing "?"
		}
	}
	d, _, err := decodedAll(base)
	if err != nil {
		return d, false, err
	}
	return strings.Join(append([]string{d}, parts...), Sep), true, nil
}

// urlPart is one part of a URL: its text, as yet undecoded beyond the
// URL's own escapes, and whether it is a query parameter's value.
type urlPart struct {
	text  string
	value bool
}

// URLParts splits an absolute http(s) URL into its origin
// ("https://host:port", for the SSRF and RFI rules), its decoded path
// segments, each query parameter's decoded name and value, and its
// fragment. ok is false for anything else, and for a URL that does not
// parse (judged whole, as before).
func URLParts(v string) (parts []string, ok bool) {
	ps, ok := urlParts(v)
	for _, p := range ps {
		parts = append(parts, p.text)
	}
	return parts, ok
}

func urlParts(v string) (parts []urlPart, ok bool) {
	lower := strings.ToLower(strings.TrimSpace(v))
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return nil, false
	}
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, false
	}
	parts = append(parts, urlPart{text: u.Scheme + "://" + u.Host})
	if u.User != nil {
		parts = append(parts, urlPart{text: u.User.String()})
	}
	for _, seg := range PathSegments(u.EscapedPath()) {
		parts = append(parts, urlPart{text: seg})
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		for i, s := range []string{name, value} {
			if s == "" {
				continue
			}
			if d, err := url.QueryUnescape(s); err == nil {
				s = d
			}
			parts = append(parts, urlPart{text: s, value: i == 1})
		}
	}
	if u.Fragment != "" {
		parts = append(parts, urlPart{text: u.Fragment})
	}
	return parts, true
}

// pathSegments (t:mamoriPath) gives the decoded segments of a raw request
// target's path, joined by Sep.
func pathSegments(v string) (string, bool, error) {
	return strings.Join(PathSegments(v), Sep), true, nil
}

// gate (t:mamoriTextGate with LongText, t:mamoriProseGate with
// LongProse) drops the parts of a value that are long free text, so that
// a rule written for short parameters does not fire on prose or code;
// short parts (a GraphQL document's string arguments) stay.
func gate(v string, long func(string) bool) (string, bool, error) {
	if !strings.Contains(v, Sep) {
		if long(v) {
			return "", true, nil
		}
		return v, false, nil
	}
	parts := strings.Split(v, Sep)
	kept := parts[:0]
	for _, part := range parts {
		if !long(part) {
			kept = append(kept, part)
		}
	}
	if len(kept) == len(parts) {
		return v, false, nil
	}
	return strings.Join(kept, Sep), true, nil
}

// partsOperator runs libinjection on each Sep-separated part, and records
// the part that matched as TX.0 when the rule captures.
type partsOperator struct{ match func(string) bool }

func (o partsOperator) Evaluate(tx plugintypes.TransactionState, v string) bool {
	for _, part := range strings.Split(v, Sep) {
		if part != "" && o.match(part) {
			if tx != nil && tx.Capturing() {
				tx.CaptureField(0, part)
			}
			return true
		}
	}
	return false
}
