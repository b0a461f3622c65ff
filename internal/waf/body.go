package waf

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// BufferedRequestBody returns a new reader over the request body the WAF
// buffered in ProcessRequest, when it holds the whole body. Later guards
// (the password policy) read the form from it instead of reading and
// buffering the body a second time; the reader has its own position, so
// the upstream still gets every byte.
func (t *Transaction) BufferedRequestBody() (io.Reader, bool) {
	if !t.bodyBuffered {
		return nil, false
	}
	r, err := t.tx.RequestBodyReader()
	if err != nil {
		return nil, false
	}
	return r, true
}

// jsonKeysVar is the TX variable that holds a JSON body's keys as sent.
const jsonKeysVar = "mamori_json_keys"

// markJSONKeys records, for a body read as JSON, its object keys as the
// client sent them (joined by NUL) in TX:mamori_json_keys. Coraza names a
// JSON body's arguments by their path joined with dots (json.user.profile),
// and CRS's 930120 (OS file access) reads that path as a file name: the
// dots are Coraza's, and ".profile", ".history", ".credentials" are dot
// files of its list, so any JSON API with such a nested key was refused.
// jsonNameRules judge the keys one by one instead (issue 11).
func (t *Transaction) markJSONKeys() {
	st, ok := t.tx.(plugintypes.TransactionState)
	if !ok || !t.bodyBuffered || !strings.EqualFold(st.Variables().RequestBodyProcessor().Get(), "JSON") {
		return
	}
	br, err := t.tx.RequestBodyReader()
	if err != nil {
		return
	}
	keys := jsonKeys(br)
	if len(keys) > 0 {
		st.Variables().TX().Set(jsonKeysVar, []string{strings.Join(keys, "\x00")})
	}
}

// jsonKeys returns the object keys of a JSON document, in order, as far
// as it parses (a body that does not parse is refused by 200002).
func jsonKeys(r io.Reader) []string {
	type container struct{ object, wantKey bool }
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var keys []string
	var stack []container
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if k, ok := tok.(string); ok {
				keys = append(keys, k)
			}
			stack[top].wantKey = false
			continue
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true // after this value, a key
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, container{object: d == '{', wantKey: d == '{'})
		}
	}
}

// oneContentType returns the media type of a Content-Type value that
// repeats one type (a script's fetch() that appended the header twice:
// "application/json, application/json"), else v as it is. PHP cuts the
// type at the first comma and CGI.pm matches its start, so both read such
// a body as that one type (TestDoubledContentTypeIsOneType): the rules
// judge it as that type too. A list of different types, or one with
// quotes (a comma may sit in a quoted parameter), is left as sent for
// CRS to judge (920470, 921421).
func oneContentType(v string) string {
	if !strings.Contains(v, ",") || strings.Contains(v, `"`) {
		return v
	}
	parts := strings.Split(v, ",")
	first := strings.TrimSpace(parts[0])
	if first == "" {
		return v
	}
	for _, p := range parts[1:] {
		if strings.TrimSpace(p) != first {
			return v
		}
	}
	return first
}
