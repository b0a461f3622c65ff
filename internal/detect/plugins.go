package detect

import (
	"net/url"
	"strings"

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
func decodedOnly(v string) (string, bool, error) {
	if plain(v) {
		return "", v != "", nil
	}
	parts := Decode(v)
	if len(parts) == 1 && parts[0] == v {
		return "", v != "", nil
	}
	return strings.Join(parts, Sep), true, nil
}

// decodedAll (t:mamoriDecodeAll) gives the decoded forms, or the value
// itself when nothing decodes: for placements CRS does not inspect.
func decodedAll(v string) (string, bool, error) {
	if plain(v) {
		return v, false, nil
	}
	parts := Decode(v)
	if len(parts) == 1 && parts[0] == v {
		return v, false, nil
	}
	return strings.Join(parts, Sep), true, nil
}

// plain reports a value that Decode returns as it is (one decoding round
// changes nothing and it is no GraphQL document with string literals),
// found without building Decode's result: most values are plain.
func plain(v string) bool {
	return len(v) > maxDecodeLen || decodeOnce(v) == v && len(graphQLStrings(v)) == 0
}

// headerParts (t:mamoriHeader) reads a header, XML attribute or file name:
// an absolute http(s) URL (Referer, a link in a custom header or an
// attribute) as the parts its own request would be judged in (URLParts),
// each decoded; anything else as decodedAll does. A Referer that is an
// admin screen's URL (mt.cgi?__mode=view&_type=entry&id=12) is then judged
// parameter by parameter, as the request that loaded the screen was,
// instead of as one string whose "=view&" looks like a command line.
func headerParts(v string) (string, bool, error) {
	parts, ok := URLParts(v)
	if !ok {
		return decodedAll(v)
	}
	var out []string
	for _, p := range parts {
		out = append(out, Decode(p)...)
	}
	return strings.Join(out, Sep), true, nil
}

// decodedWithURLParts (t:mamoriDecodeURL, the signatures' reading) gives
// what decodedAll gives, followed, for an absolute http(s) URL (a
// Referer, a link parameter), by the decoded parts of URLParts: a
// signature sees the URL whole (an RFI target) and each of its parameters
// on its own, with "+" read as a space (issue 11: an injection carried in
// the Referer's query, "id=1+and+1=1", reads as
// the request that carried it did).
func decodedWithURLParts(v string) (string, bool, error) {
	d, changed, err := decodedAll(v)
	parts, ok := URLParts(v)
	if !ok || err != nil {
		return d, changed, err
	}
	out := []string{d}
	for _, p := range parts {
		out = append(out, Decode(p)...)
	}
	return strings.Join(out, Sep), true, nil
}

// URLParts splits an absolute http(s) URL into its origin
// ("https://host:port", for the SSRF and RFI rules), its decoded path
// segments, each query parameter's decoded name and value, and its
// fragment. ok is false for anything else, and for a URL that does not
// parse (judged whole, as before).
func URLParts(v string) (parts []string, ok bool) {
	lower := strings.ToLower(strings.TrimSpace(v))
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return nil, false
	}
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, false
	}
	parts = append(parts, u.Scheme+"://"+u.Host)
	if u.User != nil {
		parts = append(parts, u.User.String())
	}
	parts = append(parts, PathSegments(u.EscapedPath())...)
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		for _, s := range []string{name, value} {
			if s == "" {
				continue
			}
			if d, err := url.QueryUnescape(s); err == nil {
				s = d
			}
			parts = append(parts, s)
		}
	}
	if u.Fragment != "" {
		parts = append(parts, u.Fragment)
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
