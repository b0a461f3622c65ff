package caddymodule

import "github.com/mamori-waf/mamori/internal/state"

// memoryStore is the state every handler of this process shares when no
// shared store is configured: one instance, in memory.
var memoryStore = state.NewMemory()

// store is the state store the guards use (revocations, login counters).
func (h *Handler) store() state.Store { return memoryStore }
