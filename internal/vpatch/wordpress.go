package vpatch

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"golang.org/x/text/unicode/norm"
)

// The WordPress checks:
//
//	@xmlrpcMulticallUnsafe <max> <names>  matches an XML-RPC body that is
//	    not a well-formed methodCall, or a system.multicall of more than
//	    <max> calls, or one naming system.multicall again or one of <names>
//	@foldedNameContains <words>           matches a parameter name that,
//	    folded as MySQL's case- and accent-insensitive collations compare
//	    (wp_càpabilities = wp_capabilities), contains one of <words>
func init() {
	plugins.RegisterOperator("xmlrpcMulticallUnsafe", newMulticallOp)
	plugins.RegisterOperator("foldedNameContains", newFoldedOp)
}

// xmlNode is one element of a parsed XML-RPC body.
type xmlNode struct {
	name     string
	text     strings.Builder
	children []*xmlNode
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// maxXMLDepth bounds nesting: a multicall is 9 levels deep.
const maxXMLDepth = 32

// parseMethodCall parses an XML-RPC body as strict XML into a tree,
// refusing what XMLRPCMethod refuses (DOCTYPE, namespaces, a root other
// than one methodCall, text outside it).
func parseMethodCall(body []byte) (*xmlNode, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrNotMethodCall)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	var (
		stack []*xmlNode
		root  *xmlNode
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotMethodCall, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fmt.Errorf("%w: document type declarations are refused", ErrNotMethodCall)
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, fmt.Errorf("%w: namespaced element", ErrNotMethodCall)
			}
			n := &xmlNode{name: t.Name.Local}
			if len(stack) == 0 {
				if root != nil || n.name != "methodCall" {
					return nil, fmt.Errorf("%w: root element %q", ErrNotMethodCall, n.name)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: nested too deeply", ErrNotMethodCall)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrNotMethodCall)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no methodCall", ErrNotMethodCall)
	}
	return root, nil
}

// scalar is the text of an XML-RPC value: <value>x</value> or
// <value><string>x</string></value>.
func scalar(v *xmlNode) string {
	if v == nil {
		return ""
	}
	if s := v.child("string"); s != nil {
		return strings.TrimSpace(s.text.String())
	}
	return strings.TrimSpace(v.text.String())
}

// MulticallCalls returns the method names of a system.multicall body, in
// order, or nil when the call is another method. A body that is not a
// well-formed methodCall, or a multicall whose calls are not structs with
// a methodName, is an error: WordPress would refuse it too, and a parser
// differential must not let calls through uncounted.
func MulticallCalls(body []byte) ([]string, error) {
	root, err := parseMethodCall(body)
	if err != nil {
		return nil, err
	}
	names := 0
	var method string
	for _, c := range root.children {
		if c.name == "methodName" {
			names++
			method = strings.TrimSpace(c.text.String())
		}
	}
	if names != 1 {
		return nil, fmt.Errorf("%w: %d methodName elements", ErrNotMethodCall, names)
	}
	if method != "system.multicall" {
		return nil, nil
	}
	var calls []string
	params := root.child("params")
	if params == nil {
		return nil, nil
	}
	for _, p := range params.children {
		arr := p.child("value")
		if arr != nil {
			arr = arr.child("array")
		}
		if arr == nil || arr.child("data") == nil {
			return nil, errors.New("system.multicall parameter is not an array")
		}
		for _, v := range arr.child("data").children {
			st := v.child("struct")
			if v.name != "value" || st == nil {
				return nil, errors.New("system.multicall call is not a struct")
			}
			name, found := "", false
			for _, m := range st.children {
				if n := m.child("name"); n != nil && strings.TrimSpace(n.text.String()) == "methodName" {
					name, found = scalar(m.child("value")), true
				}
			}
			if !found {
				return nil, errors.New("system.multicall call without methodName")
			}
			calls = append(calls, name)
		}
	}
	return calls, nil
}

type multicallOp struct {
	max     int
	refused map[string]bool
}

func newMulticallOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	f := strings.Fields(o.Arguments)
	if len(f) == 0 {
		return nil, errors.New("@xmlrpcMulticallUnsafe needs the largest number of calls allowed")
	}
	max, err := strconv.Atoi(f[0])
	if err != nil || max < 1 {
		return nil, fmt.Errorf("@xmlrpcMulticallUnsafe: %q is not a number of calls", f[0])
	}
	op := multicallOp{max: max, refused: map[string]bool{"system.multicall": true}}
	for _, n := range f[1:] {
		op.refused[n] = true
	}
	return op, nil
}

// MulticallFinding says why a body is refused, "" if it is not.
func (o multicallOp) finding(body string) string {
	calls, err := MulticallCalls([]byte(body))
	if err != nil {
		return err.Error()
	}
	if len(calls) > o.max {
		return fmt.Sprintf("system.multicall of %d calls", len(calls))
	}
	for _, c := range calls {
		if o.refused[c] {
			return "system.multicall calling " + c
		}
	}
	return ""
}

func (o multicallOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	why := o.finding(value)
	if why != "" && tx != nil && tx.Capturing() {
		tx.CaptureField(0, why)
	}
	return why != ""
}

// Fold returns s as MySQL's accent- and case-insensitive collations
// compare it: decomposed, combining marks dropped, compatibility forms
// (fullwidth letters, ligatures) replaced, lowercased.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

type foldedOp struct{ words []string }

func newFoldedOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	words := strings.Fields(strings.ToLower(o.Arguments))
	if len(words) == 0 {
		return nil, errors.New("@foldedNameContains needs words")
	}
	return foldedOp{words: words}, nil
}

func (o foldedOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	f := Fold(value)
	for _, w := range o.words {
		if strings.Contains(f, w) {
			if tx != nil && tx.Capturing() {
				tx.CaptureField(0, value)
			}
			return true
		}
	}
	return false
}
