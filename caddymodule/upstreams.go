package caddymodule

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// Idle upstream connections of a replaced configuration (issue 12's
// memory goal).
//
// On a reload Caddy stops the old servers without waiting for their
// requests (only an exit waits) and then cleans the old modules up: the
// reverse proxy's Cleanup closes its transport's idle connections. A
// request still inside mamori at that moment (the WAF takes milliseconds,
// so under load most in-flight requests are) asks that transport for an
// upstream connection afterwards, which re-enables pooling (net/http
// undoes CloseIdleConnections on the next request), and the connection
// then idles in a transport nobody uses for the keep-alive idle timeout
// (2 minutes by default), holding the whole replaced configuration with
// it. Each reload under load left a few; 100 reloads grew the resident set
// by a third. So a replaced handler closes those connections once more,
// when it has no request left in flight. The fix belongs in Caddy (a
// cleaned-up transport could refuse to pool); until then this is it.

// drainPoll is how often a replaced handler looks at its requests in
// flight; drainQuiet how long it must see none (after its last close) to
// stop; drainLimit the longest it waits for a request (an upload) to end.
const (
	drainPoll  = 250 * time.Millisecond
	drainQuiet = 5 * time.Second
	drainLimit = 15 * time.Minute
)

// idleCloser is a transport whose idle connections can be closed
// (*http.Transport, and any transport module that offers it).
type idleCloser interface{ CloseIdleConnections() }

// upstreamTransports is every reverse proxy transport in routes,
// including subroutes and the proxies' handle_response routes.
func upstreamTransports(routes caddyhttp.RouteList) []idleCloser {
	var out []idleCloser
	var walk func(caddyhttp.RouteList)
	walk = func(rl caddyhttp.RouteList) {
		for _, route := range rl {
			for _, h := range route.Handlers {
				switch h := h.(type) {
				case *caddyhttp.Subroute:
					walk(h.Routes)
				case *reverseproxy.Handler:
					switch t := h.Transport.(type) {
					case *reverseproxy.HTTPTransport:
						if t.Transport != nil {
							out = append(out, t.Transport)
						}
					case idleCloser:
						out = append(out, t)
					}
					for _, hr := range h.HandleResponse {
						walk(hr.Routes)
					}
				}
			}
		}
	}
	walk(routes)
	return out
}

// serverTransports is every upstream transport of srv's routes.
func serverTransports(srv *caddyhttp.Server) []idleCloser {
	if srv == nil {
		return nil
	}
	out := upstreamTransports(srv.Routes)
	if srv.Errors != nil {
		out = append(out, upstreamTransports(srv.Errors.Routes)...)
	}
	for _, r := range srv.NamedRoutes {
		if r != nil {
			out = append(out, upstreamTransports(caddyhttp.RouteList{*r})...)
		}
	}
	return out
}

// inflight counts a handler's requests in flight (nil: a handler not
// provisioned, as in unit tests, counts nothing).
type inflight struct{ n atomic.Int64 }

func (f *inflight) enter() {
	if f != nil {
		f.n.Add(1)
	}
}

func (f *inflight) leave() {
	if f != nil {
		f.n.Add(-1)
	}
}

// closeIdleWhenDrained closes the transports' idle connections each time
// the handler's requests in flight fall to none, until none came for
// drainQuiet (or drainLimit passed). It runs in its own goroutine and
// holds the transports (so the replaced configuration) only that long.
func closeIdleWhenDrained(f *inflight, transports []idleCloser) {
	if f == nil || len(transports) == 0 {
		return
	}
	go func() {
		deadline := time.Now().Add(drainLimit)
		dirty := true // Caddy's own close may already have been undone
		var quiet time.Duration
		for quiet < drainQuiet && time.Now().Before(deadline) {
			time.Sleep(drainPoll)
			if f.n.Load() > 0 {
				dirty, quiet = true, 0
				continue
			}
			if dirty {
				for _, t := range transports {
					t.CloseIdleConnections()
				}
				dirty = false
			}
			quiet += drainPoll
		}
	}()
}

var _ idleCloser = (*http.Transport)(nil)
