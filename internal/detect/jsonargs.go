package detect

import (
	"encoding/json"
	"strconv"
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

// JSONNameArgs returns the arguments Coraza's JSON body processor makes
// of a JSON document, for a document sent as an argument's name with no
// value (a form body or query string that is one JSON document, which the
// URL-encoded parser reads as one name): each leaf under its path, keys
// and array indexes joined by dots after "json" (json.adReqData.netstatus
// = unknown), strings unescaped, numbers and literals as written, an empty
// object or array as its path with no value; a string value that is itself
// a JSON document gives its strings (JSONStrings) under its path. Issue
// 11: the document's strings were made names one by one, so a key
// ("netstatus", "lastLoginType") stood at the start of a name, where CRS's
// command rules (932260) read "netstat" and "lastlogin" as commands; in a
// JSON body, where CRS judges the same key, it follows "json.…".
// ok is false when v is no JSON object or array.
func JSONNameArgs(v string) (pairs [][2]string, ok bool) {
	if !isJSONDoc(v) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	type frame struct {
		path    string
		object  bool
		key     string // the pending key of an object
		wantKey bool
		index   int
		empty   bool
	}
	stack := []frame{}
	leafPath := func() string {
		if len(stack) == 0 {
			return "json"
		}
		top := &stack[len(stack)-1]
		if top.object {
			return top.path + "." + top.key
		}
		p := top.path + "." + strconv.Itoa(top.index)
		top.index++
		return p
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if d, isDelim := tok.(json.Delim); len(stack) > 0 && (!isDelim || d == '{' || d == '[') {
			top := &stack[len(stack)-1]
			top.empty = false
			if top.object && top.wantKey {
				top.key, _ = tok.(string)
				top.wantKey = false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{path: leafPath(), object: t == '{', wantKey: t == '{', empty: true})
			default:
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if top.empty {
					pairs = append(pairs, [2]string{top.path, ""})
				}
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].wantKey = true
				}
			}
			continue
		case string:
			p := leafPath()
			if inner, ok := JSONStrings(t); ok {
				for _, s := range inner {
					pairs = append(pairs, [2]string{p, s})
				}
			} else {
				pairs = append(pairs, [2]string{p, t})
			}
		case json.Number:
			pairs = append(pairs, [2]string{leafPath(), t.String()})
		case bool:
			pairs = append(pairs, [2]string{leafPath(), strconv.FormatBool(t)})
		case nil:
			pairs = append(pairs, [2]string{leafPath(), "null"})
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
	return pairs, len(pairs) > 0
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
// names that are JSON documents with no value (a query string or form
// body that is one JSON document, "?{...}") by the arguments CRS makes of
// a JSON body (JSONNameArgs), within budget strings. The values of an argument name are rewritten together, in
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
				if pairs, ok := JSONNameArgs(e.key); ok && len(pairs) <= *budget {
					*budget -= len(pairs)
					for _, p := range pairs {
						out = append(out, kv{p[0], p[1]})
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
