package caddymodule

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/mamori-waf/mamori/internal/waf"
)

// engineRef is the handler's hold on the engine it was provisioned with:
// strong while its configuration runs, weak after Cleanup (issue 12).
//
// Caddy keeps a replaced configuration reachable for as long as its
// reverse proxy has idle upstream connections (their transport's dialer
// holds the configuration's context: up to the keep-alive idle timeout,
// 2 minutes by default), and every handler of that configuration with
// it. A handler that still held its compiled rule set after Cleanup made
// each Caddyfile reload under load cost a whole engine for that long: 100
// reloads in a few minutes grew the resident set sevenfold. Held weakly,
// the engine lives exactly as long as something that uses it does: a
// request in flight, another site, the next configuration (which shares
// it through the engines pool when the rules are the same).
type engineRef struct {
	strong atomic.Pointer[waf.Engine] // nil after release
	weak   weak.Pointer[waf.Engine]
	config waf.Config // without its rule text: read after release (view.go)
	rules  int
}

func newEngineRef(e *waf.Engine) *engineRef {
	r := &engineRef{weak: weak.Make(e), config: withoutRuleText(e.Config()), rules: e.RulesCount()}
	r.strong.Store(e)
	return r
}

// withoutRuleText is c without the SecLang it carries (rule packs, setup
// and extra directives, include paths): what a handler reads of its
// engine's configuration after release (the mode, the body limit) stays,
// and a replaced handler Caddy still holds keeps no rule text (a CMS
// profile's rendered packs are about 200 KB a site).
func withoutRuleText(c waf.Config) waf.Config {
	c.Packs, c.SetupDirectives, c.Directives, c.Includes = nil, "", "", nil
	return c
}

// get is the engine, or nil once it was released and freed.
func (r *engineRef) get() *waf.Engine {
	if r == nil {
		return nil
	}
	if e := r.strong.Load(); e != nil {
		return e
	}
	return r.weak.Value()
}

// release keeps the engine only weakly from now on.
func (r *engineRef) release() {
	if r != nil {
		r.strong.Store(nil)
	}
}

// Config is the configuration the engine was compiled from (waf.Engine's),
// without its rule text (withoutRuleText).
func (r *engineRef) Config() waf.Config { return r.config }

// RulesCount is the number of rules the engine loaded (waf.Engine's).
func (r *engineRef) RulesCount() int { return r.rules }

// engineOrReleased is e, or, when e is nil (the handler's configuration
// was replaced and its rules freed), the engine that refuses every
// request with 503: a request that reaches a replaced handler that late
// fails closed.
func engineOrReleased(e *waf.Engine) *waf.Engine {
	if e == nil {
		return waf.Released()
	}
	return e
}

// freeRequests asks freeLoop to hand free memory back to the OS.
var (
	freeRequests = make(chan struct{}, 1)
	startFreeing sync.Once
)

// freeCompileMemory returns the memory a rule-set compile used to the
// operating system, in the background (issue 12). Compiling CRS
// allocates far more than the engine it leaves, all of it garbage once
// the engine is built; Go's scavenger gives such a burst back only
// slowly, so each reload that compiled left the resident set higher
// while the live heap stayed flat (the bench-reload figures in
// docs/benchmark.md). Requests made while one is running coalesce into
// the next; a reload that compiles nothing (the rule set is shared) asks
// for none.
func freeCompileMemory() {
	startFreeing.Do(func() {
		go func() {
			for range freeRequests {
				debug.FreeOSMemory()
			}
		}()
	})
	select {
	case freeRequests <- struct{}{}:
	default: // one is pending already
	}
}
