package limits

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/mamori-waf/mamori/internal/request"
)

const (
	kindOther = iota
	kindForm
	kindJSON
)

// scanner counts arguments of url-encoded data, or the nesting of JSON,
// a chunk at a time as the body streams: no buffering, no parsing, one
// pass over bytes the WAF reads anyway. Hand-written because no parser
// stops at a limit without first building what it parses.
type scanner struct {
	lim  *resolved
	kind int
	// semicolon: ";" separates pairs too, as CGI.pm reads a form.
	semicolon bool

	// url-encoded
	count, name, value int
	inValue, pending   bool
	// JSON
	depth            int
	inString, escape bool
}

func (s *scanner) scan(b []byte) (int, error) {
	switch s.kind {
	case kindForm:
		return s.scanForm(b)
	case kindJSON:
		return s.scanJSON(b)
	}
	return len(b), nil
}

func (s *scanner) scanForm(b []byte) (int, error) {
	for i := 0; i < len(b); i++ {
		if s.inValue {
			// Values are most of a body: jump to the next separator.
			n := bytes.IndexByte(b[i:], '&')
			if s.semicolon {
				n = bytes.IndexAny(b[i:], "&;")
			}
			if n < 0 {
				n = len(b) - i
			}
			s.value += n
			if s.value > s.lim.argValue {
				return i, argValueRefusal(s.lim.argValue)
			}
			i += n
			if i >= len(b) {
				break
			}
		}
		switch c := b[i]; {
		case c == '&' || (c == ';' && s.semicolon):
			if err := s.endPair(); err != nil {
				return i, err
			}
		case c == '=':
			s.inValue, s.pending = true, true
		default:
			s.name++
			s.pending = true
			if s.name > s.lim.argName {
				return i, argNameRefusal(s.lim.argName)
			}
		}
	}
	return len(b), nil
}

func argCountRefusal(limit int) *Refusal {
	return &Refusal{Rule: "arg-count", Reason: fmt.Sprintf("more than %d arguments", limit), Status: http.StatusBadRequest}
}

func argNameRefusal(limit int) *Refusal {
	return &Refusal{Rule: "arg-name-length", Reason: fmt.Sprintf("argument name over %d bytes", limit), Status: http.StatusBadRequest}
}

func argValueRefusal(limit int) *Refusal {
	return &Refusal{Rule: "arg-value-length", Reason: fmt.Sprintf("argument value over %d bytes", limit), Status: http.StatusBadRequest}
}

func (s *scanner) endPair() *Refusal {
	if s.pending {
		s.count++
		if s.count > s.lim.argCount {
			return argCountRefusal(s.lim.argCount)
		}
	}
	s.name, s.value, s.inValue, s.pending = 0, 0, false, false
	return nil
}

// end closes the last argument (url-encoded data has no terminator).
func (s *scanner) end() *Refusal {
	if s.kind == kindForm {
		return s.endPair()
	}
	return nil
}

func (s *scanner) scanJSON(b []byte) (int, error) {
	for i, c := range b {
		if s.inString {
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '"':
				s.inString = false
			}
			continue
		}
		switch c {
		case '"':
			s.inString = true
		case '{', '[':
			s.depth++
			if s.depth > s.lim.depth {
				return i, &Refusal{Rule: "json-depth", Reason: fmt.Sprintf("JSON nested deeper than %d", s.lim.depth), Status: http.StatusBadRequest}
			}
		case '}', ']':
			s.depth--
		}
	}
	return len(b), nil
}

// Body enforces the body limits while the body streams. Read returns the
// *Refusal as its error once a limit is broken; Refusal reports it too,
// for a caller that only sees its own reader's error.
type Body struct {
	body    io.ReadCloser
	n       int64
	limit   int64
	scan    scanner
	refusal *Refusal
	observe func(*Refusal)
}

// Observe makes the body report the first broken limit to fn and keep
// streaming, instead of failing the read: for detection-only mode.
func (b *Body) Observe(fn func(*Refusal)) {
	if b != nil {
		b.observe = fn
	}
}

// broke records a broken limit and says whether the read must fail.
func (b *Body) broke(r *Refusal) bool {
	b.refusal = r
	if b.observe == nil {
		return true
	}
	b.observe(r)
	return false
}

// Body wraps r.Body (when there is one) with the body limits for r and
// its view v (nil: every dialect's reading), and returns the wrapper, or
// nil when the request has no body. The query's arguments, as the CMS
// reads them, count towards the argument limit of a url-encoded body,
// whose pairs are split as the view's dialect splits them ("&", and ";"
// for CGI.pm).
func (c *Compiled) Body(r *http.Request, v *request.View) *Body {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if v == nil {
		v = request.New(r, request.Union)
	}
	l := c.For(v)
	b := &Body{body: r.Body, limit: l.bodyLimit(r), scan: scanner{lim: l, kind: bodyKind(r.Header.Get("Content-Type")),
		semicolon: v.Dialect != request.PHP}}
	if b.scan.kind == kindForm {
		b.scan.count = queryArgs(v)
	}
	r.Body = b
	return b
}

// Refusal is the limit the body broke, nil while it has broken none.
func (b *Body) Refusal() *Refusal {
	if b == nil {
		return nil
	}
	return b.refusal
}

func (b *Body) Read(p []byte) (int, error) {
	if b.refusal != nil {
		if b.observe == nil {
			return 0, b.refusal
		}
		return b.body.Read(p) // observed once: the rest streams unchecked
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The server's body deadline passed (a client too slow, see
		// docs/perimeter.md): refused as such, whatever the mode, since
		// the body cannot be read any further.
		b.refusal = &Refusal{Rule: "body-timeout", Reason: fmt.Sprintf("request body too slow: %d bytes arrived before the deadline", b.n),
			Status: http.StatusRequestTimeout}
		return n, b.refusal
	}
	if b.n > b.limit {
		if b.broke(bodyRefusal(b.n, b.limit, "at least")) {
			return 0, b.refusal
		}
		return n, err
	}
	if _, serr := b.scan.scan(p[:n]); serr != nil {
		if b.broke(serr.(*Refusal)) {
			return 0, b.refusal
		}
		return n, err
	}
	if err == io.EOF {
		if r := b.scan.end(); r != nil && b.broke(r) {
			return 0, r
		}
	}
	return n, err
}

// BytesRead is how many body bytes arrived and were read so far (0 for
// no body): what the access logs report, not the declared Content-Length.
func (b *Body) BytesRead() int64 {
	if b == nil {
		return 0
	}
	return b.n
}

// Close closes the underlying body.
func (b *Body) Close() error { return b.body.Close() }
