package waf

import (
	"net/http"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// ResponseCheck is the WAF's response phases as a pipeline.ResponseCheck
// (mamori's response writer holds the response, caddymodule/response.go):
// Head runs the response headers phase and keeps the body of the
// inspected types (Coraza's response MIME types, up to the response body
// limit); Body feeds it to Coraza; End runs the response body phase. A
// body past the inspection limit is inspected partially (Coraza's
// ProcessPartial) and the rest streams. Every other response, and every
// 1xx (WebSocket's 101 among them), is released at once: the writer
// never asks the check about 1xx.
type ResponseCheck struct {
	tx     types.Transaction
	proto  string
	status int  // the status the next handler answered with
	kept   bool // the body goes to Coraza's buffer
	done   bool // the response body phase has run
	it     *types.Interruption
	err    error
}

// ResponseCheck starts the response phases for the request r's answer;
// Interruption then says what refused it.
func (t *Transaction) ResponseCheck(r *http.Request) *ResponseCheck {
	t.rc = &ResponseCheck{tx: t.tx, proto: r.Proto}
	return t.rc
}

// Head runs the response headers phase: Refuse on an interruption, Keep
// for a body Coraza inspects.
func (c *ResponseCheck) Head(status int, h http.Header) pipeline.Hold {
	c.status = status
	for name, values := range h {
		for _, v := range values {
			c.tx.AddResponseHeader(name, v)
		}
	}
	if it := c.tx.ProcessResponseHeaders(status, c.proto); it != nil {
		c.it = it
		return pipeline.Refuse
	}
	if c.tx.IsResponseBodyAccessible() && c.tx.IsResponseBodyProcessable() {
		c.kept = true
		return pipeline.Keep
	}
	return pipeline.Release
}

// Body feeds the kept body to Coraza: Refuse on an interruption or an
// error, Release once the inspection limit is reached and what Coraza
// holds is inspected (the rest streams).
func (c *ResponseCheck) Body(p []byte) pipeline.Hold {
	it, n, err := c.tx.WriteResponseBody(p)
	switch {
	case err != nil:
		c.err = err
		return pipeline.Refuse
	case it != nil:
		c.it = it
		return pipeline.Refuse
	case n < len(p):
		c.done = true
		return pipeline.Release
	}
	return pipeline.Keep
}

// End runs the response body phase over the kept body.
func (c *ResponseCheck) End() pipeline.Hold {
	if c.it != nil || c.err != nil {
		return pipeline.Refuse
	}
	if !c.kept || c.done {
		return pipeline.Release
	}
	c.done = true
	it, err := c.tx.ProcessResponseBody()
	if err != nil {
		c.err = err
		return pipeline.Refuse
	}
	if it != nil {
		c.it = it
		return pipeline.Refuse
	}
	return pipeline.Release
}

// Interruption is what refused the response (nil, nil when nothing did):
// the rule's interruption, or the error that stopped the inspection.
func (c *ResponseCheck) Interruption() (*Interruption, error) {
	return convert(c.it), c.err
}

var _ pipeline.ResponseCheck = (*ResponseCheck)(nil)
