package caddymodule

// Server timeouts (V1, issue 15): Caddy reads request headers for up to a
// minute and lets a body trickle forever as long as a byte arrives every
// minute, so 300 connections sending a byte every 5 s hold 300 requests
// open indefinitely. In a server where mamori runs, the timeouts Caddy's
// configuration leaves unset get mamori's safer defaults; whatever the
// configuration sets (`servers { timeouts { ... } }`) stays.

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// mamori's defaults for the server timeouts left unset.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers
	// (Caddy: 1 minute).
	DefaultReadHeaderTimeout = 15 * time.Second
	// DefaultBodyTimeout and DefaultBodyMinRate bound reading a body as
	// Apache's mod_reqtimeout does (body=20,MinRate=500): the body gets
	// 20 s, plus 1 s for every 500 bytes that arrived; a client that
	// falls behind gets 408 and nothing reaches the upstream (Caddy:
	// 1 minute without a byte, no minimum rate).
	DefaultBodyTimeout = 20 * time.Second
	DefaultBodyMinRate = 500
	// DefaultIdleTimeout bounds an idle keep-alive connection (Caddy:
	// 5 minutes).
	DefaultIdleTimeout = 1 * time.Minute
)

// serverTimeouts gives the server mamori runs in (when provisioned by
// Caddy's HTTP app, which leaves its own defaults until after its
// handlers are provisioned) mamori's defaults where it sets none.
func serverTimeouts(ctx caddy.Context) {
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv == nil {
		return
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = caddy.Duration(DefaultReadHeaderTimeout)
	}
	if srv.ReadIdleTimeout == 0 && srv.ReadMinRate == 0 {
		srv.ReadIdleTimeout = caddy.Duration(DefaultBodyTimeout)
		srv.ReadMinRate = DefaultBodyMinRate
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = caddy.Duration(DefaultIdleTimeout)
	}
}
