// Package vpatch holds the checks that mamori's virtual patches
// (rules/patches/*.conf, V12) call as Coraza operators where a regular
// expression cannot decide robustly: Movable Type's listing-filter JSON and
// the method of an XML-RPC call. Each check parses its input the way the
// CMS would (JSON, strict XML) and fails closed: input it cannot parse is
// reported as unsafe. Importing the package registers the operators for
// every WAF in the process:
//
//	@mtFilterItemsUnsafe structure matches a Movable Type `items` filter value
//	                               that is not a plain list of filter items
//	@mtFilterItemsUnsafe counts    matches one whose count filters compare
//	                               with something other than a whole number
//	@xmlrpcMethodUnlisted <names>  matches an XML-RPC body that is not a
//	                               well-formed methodCall naming one of <names>
//
// and for WordPress (wordpress.go) @xmlrpcMulticallUnsafe and
// @foldedNameContains.
package vpatch

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

func init() {
	plugins.RegisterOperator("mtFilterItemsUnsafe", newFilterItemsOp)
	plugins.RegisterOperator("xmlrpcMethodUnlisted", newXMLRPCOp)
}

// maxPackDepth bounds how deeply filter packs may nest; Movable Type's
// listing screens build one level.
const maxPackDepth = 4

var (
	filterTypePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	digitsPattern     = regexp.MustCompile(`^[0-9]{1,18}$`)
	optionPattern     = regexp.MustCompile(`^[a-z_]{0,32}$`)
)

// UnsafeFilterItems says why a Movable Type listing filter (the `items`
// parameter of `__mode=filtered_list`, `__mode=save_filter` and of the Data
// API's list endpoints) is unsafe, or returns "" when it is a plain list of
// filter items (CVE-2026-25776, CVE-2026-33088). MT strips surrounding
// double quotes and decodes JavaScript escapes before parsing the JSON, so
// this does the same. Safe means: a JSON array of objects, each with a
// simple "type" name and "args" holding only scalars or lists of scalars;
// "pack" items nest further items; the arguments of count filters
// (comment_count, ...) other than "option" are whole numbers.
func UnsafeFilterItems(value string) string {
	f := CheckFilterItems(value)
	if f.Structure != "" {
		return f.Structure
	}
	return f.Counts
}

// CheckFilterItems reports what is wrong with a filter, by kind.
func CheckFilterItems(value string) FilterFinding {
	if value == "" {
		return FilterFinding{} // MT: no filter, everything listed
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = decodeJS(value[1 : len(value)-1])
	}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	var items any
	if err := dec.Decode(&items); err != nil {
		return FilterFinding{Structure: "filter items are not JSON"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return FilterFinding{Structure: "text after the filter items"}
	}
	var f FilterFinding
	checkItems(items, 0, &f)
	return f
}

// checkItems walks a list of filter items, noting the first problem of
// each kind in f.
func checkItems(v any, depth int, f *FilterFinding) {
	structure := func(why string) {
		if f.Structure == "" {
			f.Structure = why
		}
	}
	count := func(why string) {
		if f.Counts == "" {
			f.Counts = why
		}
	}
	list, ok := v.([]any)
	if !ok {
		structure("filter items are not a list")
		return
	}
	if depth > maxPackDepth {
		structure("filter packs nested too deeply")
		return
	}
	for _, it := range list {
		item, ok := it.(map[string]any)
		if !ok {
			structure("a filter item is not an object")
			continue
		}
		typ, ok := item["type"].(string)
		if !ok || !filterTypePattern.MatchString(typ) {
			structure("a filter item has no simple type name")
		}
		rawArgs, present := item["args"]
		if !present || rawArgs == nil {
			continue
		}
		args, ok := rawArgs.(map[string]any)
		if !ok {
			structure("filter args are not an object")
			continue
		}
		if typ == "pack" {
			if op, ok := args["op"].(string); !ok || (op != "and" && op != "or") {
				structure("a filter pack has no and/or operator")
			}
			for k := range args {
				if k != "op" && k != "items" {
					structure(fmt.Sprintf("unexpected argument %q in a filter pack", k))
				}
			}
			checkItems(args["items"], depth+1, f)
			continue
		}
		isCount := strings.HasSuffix(typ, "count")
		for k, a := range args {
			switch a := a.(type) {
			case map[string]any:
				structure(fmt.Sprintf("object nested in filter argument %q", k))
			case []any:
				for _, e := range a {
					switch e.(type) {
					case map[string]any, []any:
						structure(fmt.Sprintf("object nested in filter argument %q", k))
					}
				}
				if isCount {
					count(fmt.Sprintf("count filter argument %q is not a number", k))
				}
			default:
				switch {
				case !isCount:
				case k == "option":
					if s, ok := a.(string); !ok || !optionPattern.MatchString(s) {
						count("count filter option is not a name")
					}
				case !isWholeNumber(a):
					count(fmt.Sprintf("count filter argument %q is not a number", k))
				}
			}
		}
	}
}

func isWholeNumber(a any) bool {
	switch a := a.(type) {
	case json.Number:
		return digitsPattern.MatchString(a.String())
	case string:
		return digitsPattern.MatchString(a)
	}
	return false
}

// decodeJS undoes the JavaScript string escapes MT::Util::decode_js
// removes (\\, \", \', \/, \n, \r, \t, \uXXXX); others stay as written.
func decodeJS(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; n {
		case '\\', '"', '\'', '/':
			b.WriteByte(n)
			i++
		case 'n':
			b.WriteByte('\n')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'u':
			if i+6 <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 5
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FilterFinding is what is wrong with a filter, by kind.
type FilterFinding struct {
	// Structure is why the value is not a plain list of filter items
	// (not JSON, objects nested in args, ...), "" if it is one.
	Structure string
	// Counts is why a count filter compares with something other than a
	// whole number, "" if none does.
	Counts string
}

type filterItemsOp struct{ counts bool }

func newFilterItemsOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	switch strings.TrimSpace(o.Arguments) {
	case "structure":
		return filterItemsOp{}, nil
	case "counts":
		return filterItemsOp{counts: true}, nil
	}
	return nil, fmt.Errorf("@mtFilterItemsUnsafe takes structure or counts, not %q", o.Arguments)
}

func (o filterItemsOp) Evaluate(_ plugintypes.TransactionState, value string) bool {
	f := CheckFilterItems(value)
	if o.counts {
		return f.Counts != ""
	}
	return f.Structure != ""
}

// ErrNotMethodCall is returned for a body that is not one well-formed
// XML-RPC methodCall.
var ErrNotMethodCall = errors.New("not a well-formed XML-RPC methodCall")

// XMLRPCMethod returns the methodName of an XML-RPC call. It parses the
// body as strict XML (not Coraza's lenient HTML-style parser, which fails
// on every <param>) and refuses what a parser differential could exploit:
// a document type declaration (entity tricks), namespaced or repeated
// methodName elements, a root other than methodCall, or a second root.
// Whitespace, CDATA sections and character references inside methodName
// are resolved as an XML parser resolves them.
func XMLRPCMethod(body []byte) (string, error) {
	if !utf8.Valid(body) {
		return "", fmt.Errorf("%w: not UTF-8", ErrNotMethodCall)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	var (
		depth, roots int
		name         strings.Builder
		inName       bool
		seenName     bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotMethodCall, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return "", fmt.Errorf("%w: document type declarations are refused", ErrNotMethodCall)
		case xml.StartElement:
			depth++
			if depth == 1 {
				roots++
				if roots > 1 || t.Name.Local != "methodCall" || t.Name.Space != "" {
					return "", fmt.Errorf("%w: root element %q", ErrNotMethodCall, t.Name.Local)
				}
			}
			if strings.EqualFold(t.Name.Local, "methodName") {
				if depth != 2 || seenName || t.Name.Space != "" || t.Name.Local != "methodName" {
					return "", fmt.Errorf("%w: methodName misplaced, repeated or namespaced", ErrNotMethodCall)
				}
				inName, seenName = true, true
			} else if inName {
				return "", fmt.Errorf("%w: markup inside methodName", ErrNotMethodCall)
			}
		case xml.EndElement:
			depth--
			inName = false
		case xml.CharData:
			if inName {
				name.Write(t)
			} else if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return "", fmt.Errorf("%w: text outside the root element", ErrNotMethodCall)
			}
		}
	}
	if !seenName {
		return "", fmt.Errorf("%w: no methodName", ErrNotMethodCall)
	}
	return strings.TrimSpace(name.String()), nil
}

type xmlrpcOp struct{ allowed map[string]bool }

func newXMLRPCOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	names := strings.Fields(o.Arguments)
	if len(names) == 0 {
		return nil, errors.New("@xmlrpcMethodUnlisted needs the allowed method names")
	}
	op := xmlrpcOp{allowed: make(map[string]bool, len(names))}
	for _, n := range names {
		op.allowed[n] = true
	}
	return op, nil
}

// Evaluate matches (the rule fires) when the body is not a well-formed
// methodCall or names a method not on the list.
func (o xmlrpcOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	name, err := XMLRPCMethod([]byte(value))
	if err != nil {
		return true
	}
	if !o.allowed[name] {
		if tx != nil && tx.Capturing() {
			tx.CaptureField(0, name)
		}
		return true
	}
	return false
}
