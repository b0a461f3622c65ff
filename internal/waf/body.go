package waf

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
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

// textBodyAsJSON reads a text/plain body that is one whole JSON object or
// array as JSON (issue 11): browsers send JSON beacons as text/plain
// (navigator.sendBeacon with a string, fetch without a type, CORS-simple
// requests that avoid a preflight), and the application parses them as
// JSON. Coraza's JSON processor then gives the rules its leaves as
// arguments (ARGS, as for application/json), and REQUEST_BODY keeps the
// raw bytes for the rules that read the body whole: the rules see more
// than the raw reading gave them, never less. Any other text/plain body
// stays raw bytes. It reports whether the body is read as JSON.
func (t *Transaction) textBodyAsJSON(r *http.Request) bool {
	st, ok := t.tx.(plugintypes.TransactionState)
	if !ok || !t.bodyBuffered {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(st.Variables().RequestBodyProcessor().Get(), "RAW") {
		return false
	}
	br, err := t.tx.RequestBodyReader()
	if err != nil {
		return false
	}
	body, err := io.ReadAll(br)
	if err != nil || !jsonDocument(body) {
		return false
	}
	setter, ok1 := st.Variables().RequestBody().(interface{ Set(string) })
	length, ok2 := st.Variables().RequestBodyLength().(interface{ Set(string) })
	proc, ok3 := st.Variables().RequestBodyProcessor().(interface{ Set(string) })
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	proc.Set("JSON")
	setter.Set(string(body))
	length.Set(strconv.Itoa(len(body)))
	return true
}

// jsonDocument reports a body that is one JSON object or array.
func jsonDocument(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(b)
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
