package caddymodule

import (
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(Health{})
	httpcaddyfile.RegisterHandlerDirective("mamori_health", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		var m Health
		err := m.UnmarshalCaddyfile(h.Dispenser)
		return &m, err
	})
	// After mamori (registered before tracing earlier): probes are inspected
	// and access-logged like any request.
	httpcaddyfile.RegisterDirectiveOrder("mamori_health", httpcaddyfile.Before, "tracing")
}

// Health is the handler `mamori_health`, a health check for load
// balancers (S13): 200 with {"status":"ok",...} while a WAF with rules is
// loaded in this process, 503 with {"status":"down"} otherwise, so a
// balancer never sends traffic to an unprotected instance. It answers
// every request it gets: put it under a path, e.g.
//
//	handle /.well-known/mamori/health {
//		mamori_health
//	}
type Health struct{}

// CaddyModule returns the Caddy module information.
func (Health) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.mamori_health", New: func() caddy.Module { return new(Health) }}
}

// healthReport is the health answer's body.
type healthReport struct {
	Status  string `json:"status"`
	Engines int    `json:"waf_engines"`
	Rules   int    `json:"waf_rules"`
}

// ServeHTTP answers with the WAF's state.
func (Health) ServeHTTP(w http.ResponseWriter, _ *http.Request, _ caddyhttp.Handler) error {
	rep := healthReport{Status: "ok"}
	engines.Range(func(_, v any) bool {
		if e, ok := v.(pooledEngine); ok && e.Engine != nil && e.RulesCount() > 0 {
			rep.Engines++
			rep.Rules = max(rep.Rules, e.RulesCount())
		}
		return true
	})
	status := http.StatusOK
	if rep.Engines == 0 {
		rep.Status, status = "down", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(rep)
}

// UnmarshalCaddyfile reads `mamori_health` (no options).
func (h *Health) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() || d.NextBlock(0) {
		return d.Err("mamori_health takes no options")
	}
	return nil
}

var (
	_ caddyhttp.MiddlewareHandler = (*Health)(nil)
	_ caddyfile.Unmarshaler       = (*Health)(nil)
)
