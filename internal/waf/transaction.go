package waf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
)

// Transaction is one request's way through the WAF. Call ProcessRequest,
// then (if it did not interrupt) serve the request with ResponseCheck
// judging the response, then Verdict, then Close.
type Transaction struct {
	tx     types.Transaction
	engine *Engine
	rc     *ResponseCheck
	// bodyBuffered: the whole request body is in the WAF's buffer.
	bodyBuffered bool
}

// Interruption is a decision to stop a request or response.
type Interruption struct {
	// RuleID is the rule that decided.
	RuleID int
	// Action is "deny", "drop" or "redirect".
	Action string
	// Status is the HTTP status to answer with (for deny, and 302 for redirect).
	Status int
	// Location is the redirect target.
	Location string
}

// NewTransaction starts a transaction whose ID is the request's ID.
func (e *Engine) NewTransaction(id string) *Transaction {
	var tx types.Transaction
	if wo, ok := e.waf.(experimental.WAFWithOptions); ok {
		tx = wo.NewTransactionWithOptions(experimental.Options{ID: id})
	} else {
		tx = e.waf.NewTransactionWithID(id)
	}
	return &Transaction{tx: tx, engine: e}
}

// Off reports whether the rule engine is off (nothing to inspect).
func (t *Transaction) Off() bool { return t.tx.IsRuleEngineOff() }

// ErrBadRequestBody means the client sent a body that could not be read
// (aborted upload, malformed chunked encoding): the request is refused
// with 400 and nothing reaches the upstream.
var ErrBadRequestBody = errors.New("request body could not be read")

// ProcessRequest runs the request phases: connection, URI, headers and
// body. Before the body rules, the arguments are measured against the
// work budget: a request over it gets a *BudgetError (refuse with its
// Status) and no body rules run. The body is read once, into Coraza's buffer, and r.Body replaced
// so the next handler reads the same bytes. clientIP is the real client
// (after trusted proxies).
func (t *Transaction) ProcessRequest(r *http.Request, clientIP string, clientPort int) (*Interruption, error) {
	tx := t.tx
	serverIP, serverPort := localAddr(r)
	tx.ProcessConnection(clientIP, clientPort, serverIP, serverPort)

	// The raw request target, exactly as the client sent it and as the
	// upstream will receive it: rules decode and normalise it themselves,
	// so an encoded traversal cannot pass as something the rules never saw.
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	tx.ProcessURI(uri, r.Method, r.Proto)
	for name, values := range r.Header {
		for _, v := range values {
			if name == "Content-Type" {
				v = oneContentType(v) // a type repeated is that type (body.go)
			}
			tx.AddRequestHeader(name, v)
		}
	}
	// net/http moves Host and Transfer-Encoding out of the header map;
	// rules need both (920280, 920171, 921 smuggling rules).
	// An HTTP/1.1 request always has a Host header (Go refuses one
	// without), so an empty r.Host there was sent empty (920290); in
	// HTTP/1.0 it may be missing (920280).
	if r.Host != "" || r.ProtoAtLeast(1, 1) {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(hostOnly(r.Host))
	}
	if len(r.TransferEncoding) > 0 {
		tx.AddRequestHeader("Transfer-Encoding", strings.Join(r.TransferEncoding, ", "))
	}
	// A compressed body mamori decodes is inspected decoded: its
	// Content-Encoding no longer hides it from the rules, so it is not a
	// restricted header for this request (920450; encoding.go).
	coding, decodable := bodyCoding(r.Header)
	compressed := coding != "" && decodable && hasBody(r)
	if compressed {
		if list := restrictedHeadersDecoded(); list != "" {
			if st, ok := tx.(plugintypes.TransactionState); ok {
				st.Variables().TX().Set("restricted_headers_basic", []string{list})
			}
		}
	}
	if !hasBody(r) {
		// No body: the body-type policy has nothing to judge (policy.go).
		if st, ok := tx.(plugintypes.TransactionState); ok {
			st.Variables().TX().Set(noBodyVar, []string{"1"})
		}
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return convert(it), nil
	}

	if tx.IsRequestBodyAccessible() && r.Body != nil && r.Body != http.NoBody {
		var inspected io.Reader = r.Body
		if compressed {
			d, err := decompress(r.Body, coding, t.engine.config.RequestBodyLimit, t.decompressLimit())
			if errors.Is(err, errBodyTooLarge) {
				return &Interruption{Action: "deny", Status: http.StatusRequestEntityTooLarge}, nil
			}
			if err != nil {
				return nil, err
			}
			// The upstream gets the bytes the client sent; the rules
			// (and later guards, BufferedRequestBody) the decoded ones.
			r.Body = replayBody{Reader: bytes.NewReader(d.original), Closer: r.Body}
			inspected = bytes.NewReader(d.decoded)
		}
		it, _, err := tx.ReadRequestBodyFrom(inspected)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequestBody, err)
		}
		// Coraza stops reading at its limit and then flags
		// INBOUND_DATA_ERROR; without the flag, the body ended.
		if st, ok := tx.(plugintypes.TransactionState); ok {
			t.bodyBuffered = st.Variables().InboundDataError().Get() != "1"
		}
		if it != nil {
			return convert(it), nil
		}
		buffered, err := tx.RequestBodyReader()
		if err != nil {
			return nil, fmt.Errorf("reading buffered request body: %w", err)
		}
		if !compressed {
			// Bytes beyond the inspection limit (none with Reject) follow
			// the buffered ones, so the upstream gets the whole body.
			r.Body = replayBody{Reader: io.MultiReader(buffered, r.Body), Closer: r.Body}
		}
		if !tx.IsRuleEngineOff() {
			measured, err := tx.RequestBodyReader()
			if err != nil {
				return nil, fmt.Errorf("reading buffered request body: %w", err)
			}
			if err := t.checkBudget(r, measured); err != nil {
				return nil, err
			}
			t.markJSONKeys()
		}
	} else if !tx.IsRuleEngineOff() {
		if err := t.checkBudget(r, nil); err != nil {
			return nil, err
		}
	}
	it, err := tx.ProcessRequestBody()
	if err != nil {
		return nil, fmt.Errorf("inspecting request body: %w", err)
	}
	return convert(it), nil
}

type replayBody struct {
	io.Reader
	io.Closer
}

// Close logs the transaction in Coraza (persisting nothing: audit logging
// is off) and frees its buffers.
func (t *Transaction) Close() error {
	return t.tx.Close()
}

func convert(it *types.Interruption) *Interruption {
	if it == nil {
		return nil
	}
	out := &Interruption{RuleID: it.RuleID, Action: it.Action, Status: it.Status}
	switch it.Action {
	case "redirect":
		out.Status = http.StatusFound
		out.Location = it.Data
	case "drop":
		out.Status = http.StatusForbidden
	default:
		// A block never answers with a success or redirect status, even if
		// a rule asked for one.
		if out.Status < 400 || out.Status > 599 {
			out.Status = http.StatusForbidden
		}
	}
	return out
}

func localAddr(r *http.Request) (string, int) {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return "", 0
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// Match is one rule that matched, as reported in events.
type Match struct {
	// ID is the rule ID.
	ID int
	// Message is the rule's msg, macros expanded.
	Message string
	// Data is the rule's logdata, macros expanded (may hold request data).
	Data string
	// Severity is CRS's severity name, empty for rules without one.
	Severity string
	// Tags are the rule's tags.
	Tags []string
	// Phase is the phase the rule ran in (1-5).
	Phase int
	// Target is the variable that matched, e.g. "ARGS:id".
	Target string
	// Value is the matched value (may hold request data).
	Value string
	// Disruptive reports a rule that would interrupt by itself (deny,
	// drop, redirect): the anomaly evaluation rules, parse errors.
	Disruptive bool
}

// Verdict is what the WAF decided and why.
type Verdict struct {
	// Interruption is set when the engine stopped the request or response.
	Interruption *Interruption
	// WouldInterrupt is set in detect mode when a disruptive rule matched.
	WouldInterrupt bool
	// InboundScore and OutboundScore are CRS's blocking anomaly scores.
	InboundScore  int
	OutboundScore int
	// Matches are the logged rules that matched, in match order.
	Matches []Match
}

// Verdict collects the outcome once the phases have run.
func (t *Transaction) Verdict() Verdict {
	t.tx.ProcessLogging()
	var v Verdict
	v.Interruption = convert(t.tx.Interruption())
	for _, mr := range t.tx.MatchedRules() {
		if l, ok := mr.(interface{ Log() bool }); ok && !l.Log() {
			continue
		}
		rule := mr.Rule()
		m := Match{
			ID:         rule.ID(),
			Message:    mr.Message(),
			Data:       mr.Data(),
			Tags:       rule.Tags(),
			Phase:      int(rule.Phase()),
			Disruptive: t.engine.isDisruptive(rule),
		}
		if rule.Severity() >= 0 && rule.Severity() <= 7 {
			m.Severity = rule.Severity().String()
		}
		if mds := mr.MatchedDatas(); len(mds) > 0 {
			md := mds[0]
			m.Target = md.Variable().Name()
			if k := md.Key(); k != "" {
				m.Target += ":" + k
			}
			m.Value = md.Value()
		}
		if m.Disruptive && v.Interruption == nil {
			v.WouldInterrupt = true
		}
		v.Matches = append(v.Matches, m)
	}
	if st, ok := t.tx.(plugintypes.TransactionState); ok {
		tx := st.Variables().TX()
		v.InboundScore = firstInt(tx.Get("blocking_inbound_anomaly_score"))
		v.OutboundScore = firstInt(tx.Get("blocking_outbound_anomaly_score"))
	}
	return v
}

func firstInt(vals []string) int {
	if len(vals) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(vals[0])
	return n
}

var disruptivePattern = regexp.MustCompile(`[",]\s*(deny|drop|redirect)\b`)

// isDisruptive reports a rule that interrupts by itself. Coraza does not
// expose a matched rule's disruptive action, so it is read once per rule
// from the rule's text and cached in the engine (rule IDs are only unique
// within one compiled rule set).
func (e *Engine) isDisruptive(rule types.RuleMetadata) bool {
	if v, ok := e.disruptive.Load(rule.ID()); ok {
		return v.(bool)
	}
	d := disruptivePattern.MatchString(rule.Raw())
	e.disruptive.Store(rule.ID(), d)
	return d
}

// ResponseStatus is the status the next handler answered with (0 if it
// wrote nothing).
func (t *Transaction) ResponseStatus() int {
	if t.rc == nil {
		return 0
	}
	return t.rc.status
}
