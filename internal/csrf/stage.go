package csrf

import (
	"context"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// Name is the CSRF guard's name in events and the access log.
func (g *Guard) Name() string { return "csrf" }

// Decide is Check as a pipeline stage: 403 for a cross-site
// state-changing request, and Vary on the source headers whenever the
// answer depends on them.
func (g *Guard) Decide(_ context.Context, req *pipeline.Request) pipeline.Decision {
	d := g.Check(req.HTTP, req.View)
	var out pipeline.Decision
	if d.Checked {
		out.Vary = VaryHeaders
	}
	if !d.Allowed {
		out.Status, out.Rule, out.Reason = http.StatusForbidden, d.Rule, d.Reason
	}
	return out
}

var _ pipeline.Stage = (*Guard)(nil)
