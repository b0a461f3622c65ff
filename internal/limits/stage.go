package limits

import (
	"context"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// Name is the limits' guard name in events and the access log.
func (c *Compiled) Name() string { return "limits" }

// Decide is Check as a pipeline stage: the limits that can be decided
// before the body is read, on the request and its view.
func (c *Compiled) Decide(_ context.Context, req *pipeline.Request) pipeline.Decision {
	ref := c.Check(req.HTTP, req.View)
	if ref == nil {
		return pipeline.Decision{}
	}
	d := pipeline.Decision{Status: ref.Status, Rule: ref.Rule, Reason: ref.Reason}
	if ref.Allow != "" {
		d.Header = http.Header{"Allow": {ref.Allow}}
	}
	return d
}

var _ pipeline.Stage = (*Compiled)(nil)
