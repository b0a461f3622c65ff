package paths

import (
	"context"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// Name is the path guard's name in events and the access log.
func (g *Guard) Name() string { return "paths" }

// Decide is Check as a pipeline stage: the view's paths and parameter
// and cookie names, and the client's network for admin paths.
func (g *Guard) Decide(_ context.Context, req *pipeline.Request) pipeline.Decision {
	return decision(g.Check(req.View, req.ClientIP))
}

// BodyStage is CheckDebug as a stage, for the body's fields once the view
// has read them.
func (g *Guard) BodyStage() pipeline.Stage {
	return pipeline.Func{Guard: g.Name(), F: func(_ context.Context, req *pipeline.Request) pipeline.Decision {
		return decision(g.CheckDebug(req.View))
	}}
}

func decision(d *Decision) pipeline.Decision {
	if d == nil {
		return pipeline.Decision{}
	}
	return pipeline.Decision{Status: d.Status, Rule: d.Rule, Reason: d.Reason}
}

var _ pipeline.Stage = (*Guard)(nil)
