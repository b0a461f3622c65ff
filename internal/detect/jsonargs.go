package detect

import (
	"encoding/json"
	"strings"

	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// JSON-valued arguments (issue 11). Browsers' telemetry, editors and
// single-page applications put JSON documents in query parameters and
// form fields (DATA=[{"T":"CI.DevLoc",...}], payload={"url":...}), and
// JSON bodies carry JSON documents as strings. CRS judges a JSON body
// by its strings (the JSON processor makes each leaf an argument), but a
// JSON document in an argument as one string, whose syntax its rules read
// as attacks: `{"url` as a Windows command after a separator (932370),
// `":"…","` as JSON-shaped SQL (942550), quotes and brackets as XSS or
// SQL operators. JSONArgs makes such an argument what CRS makes of a JSON
// body: its strings.

// maxJSONArg is the longest argument value read as JSON; longer ones are
// judged as they are.
const maxJSONArg = 1 << 20

// maxJSONStrings bounds the strings one request's JSON arguments expand
// to; past it, the remaining arguments are judged as they are.
const maxJSONStrings = 4096

// maxJSONDepth bounds JSON documents nested as strings in JSON strings.
const maxJSONDepth = 3

// JSONStrings returns the strings of a JSON document (every object key
// and every string value, in document order) as they are written in it,
// escapes kept (so that CRS's byte-level rules see the bytes the client
// sent; mamori's decoded copies unescape them), with strings that are
// themselves JSON documents replaced by their own strings. ok is false
// when v is not a JSON object or array, or holds no string at all.
func JSONStrings(v string) (out []string, ok bool) {
	out = jsonStrings(v, 0, nil)
	return out, len(out) > 0
}

// isJSONDoc reports a JSON object or array (after whitespace), valid.
func isJSONDoc(v string) bool {
	t := strings.TrimSpace(v)
	if len(t) < 2 || len(t) > maxJSONArg || (t[0] != '{' && t[0] != '[') {
		return false
	}
	return json.Valid([]byte(t))
}

func jsonStrings(v string, depth int, out []string) []string {
	if !isJSONDoc(v) {
		return out
	}
	for i := 0; i < len(v); i++ {
		if v[i] != '"' {
			continue
		}
		j := i + 1
		for ; j < len(v) && v[j] != '"'; j++ {
			if v[j] == '\\' {
				j++
			}
		}
		raw := v[i+1 : j]
		i = j
		if depth < maxJSONDepth && strings.ContainsAny(raw, "{[") {
			var s string
			if json.Unmarshal([]byte(`"`+raw+`"`), &s) == nil && isJSONDoc(s) {
				if inner := jsonStrings(s, depth+1, nil); len(inner) > 0 {
					out = append(out, inner...)
					continue
				}
			}
		}
		if raw != "" {
			out = append(out, raw)
		}
	}
	return out
}

func init() {
	plugins.RegisterAction("mamoriJSONArgs", func() plugintypes.Action { return jsonArgs{} })
}

// jsonArgs (action mamoriJSONArgs) replaces, in ARGS_GET and ARGS_POST,
// each value that is a JSON object or array by its strings (JSONStrings),
// under the argument's own name: exclusions by argument name keep
// applying, and every key and string value is judged as an argument value.
type jsonArgs struct{}

func (jsonArgs) Init(plugintypes.RuleMetadata, string) error { return nil }

func (jsonArgs) Type() plugintypes.ActionType { return plugintypes.ActionTypeNondisruptive }

func (jsonArgs) Evaluate(_ plugintypes.RuleMetadata, tx plugintypes.TransactionState) {
	vars := tx.Variables()
	budget := maxJSONStrings
	expandJSONArgs(vars.ArgsGet(), &budget)
	expandJSONArgs(vars.ArgsPost(), &budget)
}

// expandJSONArgs replaces the JSON values of m by their strings, and the
// names that are JSON documents with no value (a query string that is
// one JSON document, "?{...}") by their strings as names, within budget
// strings. The values of an argument name are rewritten together, in
// order, under a fresh copy of the name: Coraza caches transformed values
// by the name's storage and the value's index, which must not find the
// values the name held before.
func expandJSONArgs(m collection.Map, budget *int) {
	type kv struct{ key, value string }
	var order []string
	groups := map[string][]kv{}
	for _, md := range m.FindAll() {
		k := strings.ToLower(md.Key())
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], kv{md.Key(), md.Value()})
	}
	var removed []string
	var added []kv
	for _, k := range order {
		group := groups[k]
		var out []kv
		changed := false
		for _, e := range group {
			if *budget > 0 && e.value == "" && isJSONDoc(e.key) {
				if strs, ok := JSONStrings(e.key); ok && len(strs) <= *budget {
					*budget -= len(strs)
					for _, s := range strs {
						out = append(out, kv{s, ""})
					}
					changed = true
					continue
				}
			}
			if *budget > 0 && isJSONDoc(e.value) {
				if strs, ok := JSONStrings(e.value); ok && len(strs) <= *budget {
					*budget -= len(strs)
					for _, s := range strs {
						out = append(out, kv{e.key, s})
					}
					changed = true
					continue
				}
			}
			out = append(out, e)
		}
		if changed {
			for _, e := range group {
				removed = append(removed, e.key)
			}
			added = append(added, out...)
		}
	}
	for _, k := range removed {
		m.Remove(k)
	}
	fresh := map[string]string{}
	for _, e := range added {
		name, ok := fresh[e.key]
		if !ok {
			name = strings.Clone(e.key)
			fresh[e.key] = name
		}
		m.Add(name, e.value)
	}
}

// ArgumentRules are the rules that run right before CRS's, after the rule
// packs (whose virtual patches read arguments as the CMS receives them):
// JSON-valued arguments judged by their strings.
const ArgumentRules = `SecAction "id:9400010,phase:2,pass,nolog,t:none,mamoriJSONArgs"
`
