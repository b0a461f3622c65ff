package waf

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// Watcher keeps a WAF current with its rule files (V12): every interval it
// checks the include files, and when one was added, changed or removed it
// compiles the configuration again and swaps the new engine in for the
// requests that follow. A file that does not compile is reported and the
// running rules stay. Unlike a configuration reload it leaves the
// listeners and connections alone, so no request is ever dropped.
type Watcher struct {
	config   Config
	interval time.Duration
	onReload func(*Engine)
	onError  func(error)

	current atomic.Pointer[Engine]
	owned   *Engine // the last engine the watcher built, nil at first
	pool    Pool    // nil: the watcher builds and owns its engines
	held    string  // with a pool: fingerprint of the engine it holds
	digest  string
	failed  string // digest of the last refused files, reported once

	// After Close: the last engine, weakly (see Engine); closed makes
	// Check swap nothing in.
	after  atomic.Pointer[weak.Pointer[Engine]]
	closed bool

	stop chan struct{}
	done sync.WaitGroup
	mu   sync.Mutex // one check at a time
}

// NewWatcher watches the include files of c, starting from e (the engine
// compiled from c, which the watcher never closes). onReload is called
// with each engine swapped in, onError with each refused change; either
// may be nil.
//
// With an interval of 0 the watcher never polls: Check runs only when
// called (mamori's admin API, `mamori reload-rules`).
func NewWatcher(c Config, e *Engine, interval time.Duration, onReload func(*Engine), onError func(error)) (*Watcher, error) {
	if interval < 0 {
		return nil, errors.New("watch interval must not be negative")
	}
	w := &Watcher{config: c, interval: interval, onReload: onReload, onError: onError,
		digest: IncludeDigest(c.Includes), stop: make(chan struct{})}
	w.current.Store(e)
	return w, nil
}

// Pool shares compiled engines between watchers: one engine per distinct
// rule set (Compiled.Fingerprint covers the rule files' contents), however
// many sites run it. Acquire returns the engine for c, compiling it only
// when no one holds that rule set yet, and takes a reference; Release
// drops one, and the last release closes the engine.
type Pool interface {
	Acquire(c *Compiled) (*Engine, error)
	Release(fingerprint string)
}

// Share makes the watcher take its engines from p instead of compiling
// its own, so sites with the same rules keep sharing one engine after a
// reload. fingerprint is the rule set of the engine given to NewWatcher:
// the watcher takes over that reference and releases it when it swaps or
// closes. Call it before Start.
func (w *Watcher) Share(p Pool, fingerprint string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pool, w.held = p, fingerprint
}

// Engine is the engine for the next request. After Close the watcher holds
// its last engine only weakly (a closed watcher may stay reachable for a
// while: Caddy keeps a replaced configuration as long as its reverse
// proxy's idle upstream connections); Engine then returns it while
// something else (a request, another site, a newer configuration) keeps
// it alive, and nil once it was freed.
func (w *Watcher) Engine() *Engine {
	if e := w.current.Load(); e != nil {
		return e
	}
	if wp := w.after.Load(); wp != nil {
		return wp.Value()
	}
	return nil
}

// Start checks the files every interval until Close (never, with no
// interval).
func (w *Watcher) Start() {
	if w.interval <= 0 {
		return
	}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(w.interval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				_, _ = w.Check()
			}
		}
	}()
}

// Check compares the include files with the running rules once and, if
// they changed, compiles and swaps. It reports whether it swapped, and
// the compile error of a refused change.
func (w *Watcher) Check() (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		// A rules reload that listed the watcher before its site's
		// Cleanup: an engine taken now would never be released.
		return false, nil
	}
	digest := IncludeDigest(w.config.Includes)
	if digest == w.digest {
		w.failed = "" // back to the running files: a later breakage is news
		return false, nil
	}
	compiled, err := Compile(w.config)
	if err == nil && w.pool != nil && compiled.Fingerprint == w.held {
		// Files touched but the rule set is the same: keep the engine.
		w.digest, w.failed = digest, ""
		return false, nil
	}
	var e *Engine
	if err == nil {
		if w.pool != nil {
			e, err = w.pool.Acquire(compiled)
		} else {
			e, err = New(compiled)
		}
	}
	if err != nil {
		if digest != w.failed && w.onError != nil {
			w.onError(err)
		}
		w.failed = digest
		return false, err
	}
	w.current.Store(e)
	// Closing an engine only releases its compiled-expression cache: a
	// request still running on it keeps its rules.
	if w.pool != nil {
		if w.held != "" {
			w.pool.Release(w.held)
		}
		w.held = compiled.Fingerprint
	} else if w.owned != nil {
		_ = w.owned.Close()
	}
	if w.pool == nil {
		w.owned = e
	}
	w.digest, w.failed = digest, ""
	if w.onReload != nil {
		w.onReload(e)
	}
	return true, nil
}

// Config is the configuration the watcher compiles; after Close, the
// zero Config (a closed watcher keeps no rule text).
func (w *Watcher) Config() Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.config
}

// Fingerprint is the rule set of the engine for the next request when the
// watcher shares a pool (see Share), else "".
func (w *Watcher) Fingerprint() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// Close stops watching and releases the engines the watcher built (or,
// with a pool, its reference to the engine it holds), and from then on
// holds its last engine only weakly (see Engine) and no configuration.
func (w *Watcher) Close() error {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.done.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		// Nothing reads the configuration after Close (Check returns
		// early): drop its rule text (a CMS profile's packs, the
		// directives), which a closed watcher Caddy still holds would
		// otherwise keep.
		w.config = Config{}
		if e := w.current.Load(); e != nil {
			wp := weak.Make(e)
			w.after.Store(&wp) // before current goes: Engine always finds one of them
			w.current.Store(nil)
		}
	}
	if w.pool != nil {
		if w.held != "" {
			w.pool.Release(w.held)
			w.held = ""
		}
		return nil
	}
	if w.owned != nil {
		e := w.owned
		w.owned = nil
		return e.Close()
	}
	return nil
}
