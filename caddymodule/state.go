package caddymodule

import "github.com/mamori-waf/mamori/internal/state"

// memoryStore is the state every handler of this process shares when no
// shared store is configured: one instance, in memory, kept across reloads.
var memoryStore = state.NewMemory()
