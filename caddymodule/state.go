package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/mamori-waf/mamori/internal/state"
)

// memoryStore is the state every handler of this process shares when no
// shared store is configured: one instance, in memory, kept across reloads.
var memoryStore = state.NewMemory()

// mamoriApp returns the global mamori app (the `mamori` global option:
// store, seal keys, redis_failure), loading it on first use. A guard that
// needs shared state calls it from Provision.
func (h *Handler) mamoriApp(ctx caddy.Context) (*App, error) {
	if h.app == nil {
		a, err := ctx.App("mamori")
		if err != nil {
			return nil, err
		}
		h.app = a.(*App)
	}
	return h.app, nil
}

// store is the state store the guards use (revocations, login counters):
// the global app's once mamoriApp has loaded it, else this process's memory.
func (h *Handler) store() state.Store {
	if h.app != nil && h.app.store != nil {
		return h.app.store
	}
	return memoryStore
}
