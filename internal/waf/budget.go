package waf

// The work budget (issue 10 item 3): CRS's regular expressions cost CPU
// per inspected byte and per argument, and mamori's decoding layers
// multiply that by what decoding reveals. A request within the size
// limits could therefore still cost seconds of CPU (a 31 MB multipart
// body of Base64 nested four times: ~107 s). Before the body rules run,
// the request's arguments are measured against a budget, and a request
// over it is refused (413) without running them. The measure is one pass
// over the arguments (and, with the decode layer, the decoding the layer
// would do, stopped as soon as the budget is spent), far cheaper than the
// rules. Figures and how they were measured: docs/perimeter.md.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mamori-waf/mamori/internal/detect"
)

// Budget bounds the inspection work of one request. A zero field takes
// its default; -1 switches that bound off.
type Budget struct {
	// InspectedBytes is the most bytes of argument names and values the
	// rules inspect in one request: the query, url-encoded and multipart
	// form fields (not uploaded files), JSON and XML bodies. A byte of
	// shell, SQL or script punctuation (! # $ % & ' ( ) * + ; < = > ? @ ^
	// ` | ~) and a byte that is not valid UTF-8 count SymbolWeight (10)
	// each: they wake most of CRS's expressions, and random text dense in
	// them costs about four times the CPU per byte of prose. More gets
	// 413. Default 1088 KiB (1 114 112): the largest benign request of the
	// corpora (a browser's JSON telemetry beacon in the blazehttp traffic,
	// 731 682 bytes, 10 753 of them such punctuation) counts 828 459, and
	// costs about 0.4 s of CPU itself; the costliest text measured at the
	// bound costs 0.45-0.6 s (docs/perimeter.md).
	InspectedBytes int64 `json:"inspected_bytes,omitempty"`
	// DecodedBytes is the most bytes the detection layers' decoding may
	// produce in one request (all values, all layers); every decoded byte
	// is inspected again by the CRS rule copies. More gets 413. Default
	// 512 KiB (benign maximum in the corpora: 131 KiB).
	DecodedBytes int64 `json:"decoded_bytes,omitempty"`
	// DecodedValues is the most values in one request that decode at
	// least one layer (URL, entities, escapes, Base64). More gets 413.
	// Default 512 (benign maximum in the corpora: 121).
	DecodedValues int64 `json:"decoded_values,omitempty"`
	// Depth refuses (413) a value still encoded after the layers the
	// decoder removes (detect.MaxDepth, 4): benign values never nest that
	// deep, and the rules would see it undecoded. Default on; -1 off.
	Depth int64 `json:"depth,omitempty"`
	// DecompressedBytes is the most bytes a compressed request body
	// (Content-Encoding gzip, deflate or br) may decode to; the rules
	// inspect the decoded body, within the other bounds as any body. More
	// gets 413. Default 2 MiB (benign maximum in the corpora: a few KiB of
	// gzipped telemetry); -1: up to the request body limit.
	DecompressedBytes int64 `json:"decompressed_bytes,omitempty"`
}

// Budget defaults.
const (
	DefaultInspectedBytes = 1088 << 10
	DefaultDecodedBytes   = 512 << 10
	DefaultDecodedValues  = 512
	DefaultDecompressed   = 2 << 20
)

// SymbolWeight is what one byte of shell, SQL or script punctuation, or
// one byte that is not valid UTF-8, counts against InspectedBytes.
const SymbolWeight = 10

// symbolByte marks the punctuation that counts SymbolWeight: the bytes
// CRS's shell, SQL, PHP and script expressions and their byte filters
// look for, which prose, names and JSON lack.
var symbolByte = func() (t [256]bool) {
	for _, c := range []byte("!#$%&'()*+;<=>?@^`|~") {
		t[c] = true
	}
	return t
}()

// inspectionCost is what v counts against InspectedBytes: its length, and
// SymbolWeight-1 more for each symbol byte and each byte that is not
// valid UTF-8.
func inspectionCost[T string | []byte](v T) int64 {
	n, heavy, high := int64(len(v)), int64(0), false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if symbolByte[c] {
			heavy++
		}
		high = high || c >= utf8.RuneSelf
	}
	if high {
		for i := 0; i < len(v); {
			if v[i] < utf8.RuneSelf {
				i++
				continue
			}
			r, w := utf8.DecodeRuneInString(string(v[i:min(i+utf8.UTFMax, len(v))]))
			if r == utf8.RuneError && w == 1 {
				heavy++
			}
			i += w
		}
	}
	return n + heavy*(SymbolWeight-1)
}

// budgetRuleID is the rule ID of a budget refusal in events.
const budgetRuleID = "budget"

// BudgetError is a request refused for exceeding the work budget.
type BudgetError struct {
	// What was exceeded: "inspected_bytes", "decoded_bytes",
	// "decoded_values", "depth" or "decompressed_bytes".
	What string
	// Used is how much the request asked for when it was stopped (at
	// least Limit+1), Limit the bound.
	Used, Limit int64
}

func (e *BudgetError) Error() string {
	if e.What == "depth" {
		return fmt.Sprintf("work budget: a value is encoded more than %d layers deep", e.Limit)
	}
	return fmt.Sprintf("work budget: %s over %d (inspection stopped at %d)", e.What, e.Limit, e.Used)
}

// Status is the HTTP status of a budget refusal.
func (e *BudgetError) Status() int { return http.StatusRequestEntityTooLarge }

// RuleID is the rule ID of a budget refusal's event.
func (e *BudgetError) RuleID() string { return budgetRuleID }

func or(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// meter counts a request's work against a budget.
type meter struct {
	b                          Budget
	decode                     bool
	inspected, decoded, values int64
	err                        *BudgetError
}

func newMeter(b Budget, decode bool) *meter {
	return &meter{b: Budget{
		InspectedBytes: or(b.InspectedBytes, DefaultInspectedBytes),
		DecodedBytes:   or(b.DecodedBytes, DefaultDecodedBytes),
		DecodedValues:  or(b.DecodedValues, DefaultDecodedValues),
		Depth:          or(b.Depth, detect.MaxDepth),
	}, decode: decode}
}

func over(used, limit int64) bool { return limit >= 0 && used > limit }

// inspect counts what the rules inspect of a value as it is (no
// decoding): inspectionCost.
func (m *meter) inspect(cost int64) bool {
	m.inspected += cost
	if m.err == nil && over(m.inspected, m.b.InspectedBytes) {
		m.err = &BudgetError{What: "inspected_bytes", Used: m.inspected, Limit: m.b.InspectedBytes}
	}
	return m.err == nil
}

// arg counts one argument name or value, with its decoding.
func (m *meter) arg(v string) bool {
	if !m.inspect(inspectionCost(v)) || !m.decode || v == "" {
		return m.err == nil
	}
	decoded, depth, deeper := detect.DecodeCost(v)
	if depth > 0 {
		m.values++
		m.decoded += int64(decoded)
	}
	switch {
	case deeper && m.b.Depth >= 0:
		m.err = &BudgetError{What: "depth", Used: int64(depth) + 1, Limit: int64(detect.MaxDepth)}
	case over(m.values, m.b.DecodedValues):
		m.err = &BudgetError{What: "decoded_values", Used: m.values, Limit: m.b.DecodedValues}
	case over(m.decoded, m.b.DecodedBytes):
		m.err = &BudgetError{What: "decoded_bytes", Used: m.decoded, Limit: m.b.DecodedBytes}
	}
	return m.err == nil
}

// query counts the arguments of a query string or url-encoded body, split
// on & and ; as CGI.pm does, names and values URL-decoded as the rules
// see them.
func (m *meter) query(q string) bool {
	for q != "" {
		var pair string
		pair, q, _ = cutAny(q, "&;")
		name, value, _ := strings.Cut(pair, "=")
		if !m.arg(unescape(name)) || !m.arg(unescape(value)) {
			return false
		}
	}
	return true
}

func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// body counts a request body by its content type.
func (m *meter) body(contentType string, r io.Reader) error {
	mt, params, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		b, err := readAtMost(r, m, 3)
		if err != nil || m.err != nil {
			return err
		}
		m.query(string(b))
	case mt == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(r, params["boundary"])
		for m.err == nil {
			p, err := mr.NextRawPart()
			if err != nil {
				break // the end, or a body Coraza's parser judges (400)
			}
			if !m.arg(p.FormName()) {
				break
			}
			if p.FileName() != "" {
				continue // file contents are not arguments
			}
			b, err := readAtMost(p, m, 1)
			if err != nil || m.err != nil {
				return err
			}
			m.arg(string(b))
		}
	case strings.HasSuffix(mt, "json"):
		dec := json.NewDecoder(bufio.NewReader(r))
		for m.err == nil {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if s, ok := tok.(string); ok {
				m.arg(s)
			}
		}
	case strings.HasSuffix(mt, "xml"):
		b, err := readAtMost(r, m, 1)
		if err != nil || m.err != nil {
			return err
		}
		m.inspect(inspectionCost(b))
	}
	return nil
}

// readAtMost reads r up to what is left of the inspection budget times
// perByte, the most raw bytes one inspected byte can take (3 for %XX
// escapes), plus one byte, to know it is exceeded.
func readAtMost(r io.Reader, m *meter, perByte int64) ([]byte, error) {
	limit := int64(-1)
	if m.b.InspectedBytes >= 0 {
		limit = perByte*(m.b.InspectedBytes-m.inspected) + 1
	}
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	if limit >= 0 && int64(b.Len()) >= limit && m.err == nil {
		// More than the budget has left, separators and names included.
		m.inspected += int64(b.Len()) / perByte
		m.err = &BudgetError{What: "inspected_bytes", Used: m.inspected, Limit: m.b.InspectedBytes}
	}
	return b.Bytes(), err
}

// errBudgetRead is a failure to read the buffered body while measuring.
var errBudgetRead = errors.New("measuring the request body")

// checkBudget measures the request's query and buffered body (nil: no
// body) against the engine's budget.
func (t *Transaction) checkBudget(r *http.Request, body io.Reader) error {
	cfg := t.engine.config
	o := cfg.Detection
	m := newMeter(cfg.Budget, o.Enabled() && (o.Decode == nil || *o.Decode))
	m.query(r.URL.RawQuery)
	if m.err == nil && body != nil {
		if err := m.body(r.Header.Get("Content-Type"), body); err != nil {
			return fmt.Errorf("%w: %v", errBudgetRead, err)
		}
	}
	if m.err != nil {
		return m.err
	}
	return nil
}

// decompressLimit is the most bytes a compressed body may decode to.
func (t *Transaction) decompressLimit() int64 {
	limit := t.engine.config.RequestBodyLimit
	if d := or(t.engine.config.Budget.DecompressedBytes, DefaultDecompressed); d >= 0 && d < limit {
		limit = d
	}
	return limit
}
