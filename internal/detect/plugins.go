package detect

import (
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
	plugins.RegisterTransformation("mamoriTextGate", func(v string) (string, bool, error) { return gate(v, LongText) })
	plugins.RegisterTransformation("mamoriProseGate", func(v string) (string, bool, error) { return gate(v, LongProse) })
	plugins.RegisterOperator("mamoriSQLi", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		return partsOperator{match: func(s string) bool { ok, _ := libinjection.IsSQLi(s); return ok }}, nil
	})
	plugins.RegisterOperator("mamoriXSS", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		return partsOperator{match: libinjection.IsXSS}, nil
	})
}

// decodedOnly (t:mamoriDecode) gives the decoded forms of a value joined
// by Sep, or "" when nothing decodes: for the variables CRS already
// inspects as they are, only what decoding reveals is new.
func decodedOnly(v string) (string, bool, error) {
	parts := Decode(v)
	if len(parts) == 1 && parts[0] == v {
		return "", v != "", nil
	}
	return strings.Join(parts, Sep), true, nil
}

// decodedAll (t:mamoriDecodeAll) gives the decoded forms, or the value
// itself when nothing decodes: for placements CRS does not inspect.
func decodedAll(v string) (string, bool, error) {
	parts := Decode(v)
	if len(parts) == 1 && parts[0] == v {
		return v, false, nil
	}
	return strings.Join(parts, Sep), true, nil
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
