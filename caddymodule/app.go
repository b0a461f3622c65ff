package caddymodule

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/internal/sealkey"
	"github.com/mamori-waf/mamori/internal/session"
	"github.com/mamori-waf/mamori/internal/state"
)

func init() {
	caddy.RegisterModule(App{})
	httpcaddyfile.RegisterGlobalOption("mamori", parseGlobalOption)
}

// App is mamori's global configuration, shared by every mamori handler of
// the process: the state store (memory, or Redis for several instances)
// and the keys that seal session cookies. JSON: {"apps": {"mamori": {...}}};
// Caddyfile: the global `mamori { }` option.
type App struct {
	// State is where guards keep revocations and failed-login counters:
	// "memory" (default: this process only) or a Redis URL
	// redis://[user:password@]host:port/db (rediss:// for TLS), shared by
	// every instance behind one load balancer.
	State string `json:"state,omitempty"`
	// SealKeys are base64-encoded 32-byte keys for sealed cookies. The
	// first seals; all open, so a key is rotated by listing the new one
	// first and the old one second. Instances sharing sessions need the
	// same keys. Default: the keys in KeyFile.
	SealKeys []string `json:"seal_keys,omitempty"`
	// KeyFile holds the seal keys, one base64 key per line, when SealKeys
	// is empty. A missing file is created with a fresh random key (mode
	// 0600) so that a restart keeps sessions. Default:
	// <Caddy data dir>/mamori/seal.key.
	KeyFile string `json:"key_file,omitempty"`
	// RedisFailure is what the guards do when the store cannot be reached:
	// "closed" (default: sessions whose revocation cannot be checked are
	// dropped, logins that cannot be counted get 503) or "open" (let them
	// through, with an event). Each guard can override it.
	RedisFailure string `json:"redis_failure,omitempty"`

	store  state.Store
	pooled bool // store is a pooled Redis client: released in Cleanup
	keys   [][]byte
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mamori", New: func() caddy.Module { return new(App) }}
}

// Provision opens the store and loads (or creates) the keys.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if err := a.replacePlaceholders(); err != nil {
		return err
	}
	switch a.RedisFailure {
	case "", session.FailClosed, session.FailOpen:
	default:
		return fmt.Errorf("mamori: redis_failure must be open or closed, not %q", a.RedisFailure)
	}
	keys, err := a.loadKeys()
	if err != nil {
		return err
	}
	a.keys = keys
	switch {
	case a.State == "" || a.State == "memory":
		// One memory store per process: it outlives config reloads, so a
		// reload forgets no revocation.
		a.store = memoryStore
	case strings.HasPrefix(a.State, "redis://") || strings.HasPrefix(a.State, "rediss://"):
		val, _, err := redisStores.LoadOrNew(a.State, func() (caddy.Destructor, error) {
			r, err := state.NewRedis(a.State)
			if err != nil {
				return nil, err
			}
			return pooledStore{r}, nil
		})
		if err != nil {
			return fmt.Errorf("mamori: state: %w", err)
		}
		r := val.(pooledStore).Redis
		a.store, a.pooled = r, true
		pingCtx, cancel := context.WithTimeout(ctx, 2*state.RedisTimeout)
		defer cancel()
		if err := r.Ping(pingCtx); err != nil {
			// Not fatal: Redis may come up after mamori; until then each
			// guard applies redis_failure and says so in an event.
			a.logger.Warn("state store unreachable at start", zap.String("state", r.String()), zap.Error(err))
		}
	default:
		return fmt.Errorf("mamori: state must be memory or a redis:// URL, not %q", state.RedactURL(a.State))
	}
	return nil
}

// replacePlaceholders evaluates the global placeholders ({env.NAME},
// {file./path}, ...) in the options, as Caddy does for its own: a key kept
// in the environment or a file is never written into the configuration.
// An unknown or empty placeholder is an error, never an empty key.
func (a *App) replacePlaceholders() error {
	repl := caddy.NewReplacer()
	replace := func(option string, v *string) error {
		if !strings.Contains(*v, "{") {
			return nil
		}
		out, err := repl.ReplaceOrErr(*v, true, true)
		if err != nil {
			return fmt.Errorf("mamori: %s: %w", option, err)
		}
		*v = out
		return nil
	}
	for _, o := range []struct {
		name string
		v    *string
	}{{"state", &a.State}, {"key_file", &a.KeyFile}, {"redis_failure", &a.RedisFailure}} {
		if err := replace(o.name, o.v); err != nil {
			return err
		}
	}
	keys := make([]string, len(a.SealKeys)) // the configuration's own slice stays as written
	for i, k := range a.SealKeys {
		keys[i] = k
		if err := replace("seal_key", &keys[i]); err != nil {
			return err
		}
	}
	a.SealKeys = keys
	return nil
}

// hasPlaceholder reports whether a Caddyfile value is evaluated only at
// provision ({env.NAME} and the like), so it cannot be checked earlier.
func hasPlaceholder(v string) bool {
	return strings.Contains(v, "{") && strings.Contains(v, "}")
}

// loadKeys decodes the configured keys, or reads (creating if needed,
// except under `mamori validate`) the key file: package sealkey.
func (a *App) loadKeys() ([][]byte, error) {
	file := a.KeyFile
	if len(a.SealKeys) == 0 && file == "" {
		file = filepath.Join(caddy.AppDataDir(), "mamori", "seal.key")
	}
	return sealkey.Load(a.SealKeys, file, Validating, checkWritable)
}

// redisStores holds one Redis client per URL, shared by the old and new
// configuration during a reload (requests still in flight on the old
// handlers keep a working client) and closed by its last user's Cleanup.
var redisStores = caddy.NewUsagePool()

type pooledStore struct{ *state.Redis }

func (p pooledStore) Destruct() error { return p.Close() }

// Start does nothing: the store connects lazily.
func (a *App) Start() error { return nil }

// Stop does nothing: the store outlives the servers' shutdown (Cleanup).
func (a *App) Stop() error { return nil }

// Cleanup releases this configuration's reference to a Redis client.
func (a *App) Cleanup() error {
	if a.pooled {
		_, err := redisStores.Delete(a.State)
		return err
	}
	return nil
}

// failOpen resolves a guard's store-failure choice against the global one.
func (a *App) failOpen(guard string) bool {
	if guard != "" {
		return guard == session.FailOpen
	}
	return a.RedisFailure == session.FailOpen
}

// parseGlobalOption reads the global option:
//
//	mamori {
//		state memory | redis://host:port/db
//		seal_key <base64-32-bytes> [<previous-key>]
//		key_file <path>
//		redis_failure open|closed
//	}
//
// Every value may be a global placeholder such as {env.MAMORI_SEAL_KEY},
// evaluated when the configuration is loaded.
func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	a := new(App)
	d.Next() // option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		option := d.Val()
		args := d.RemainingArgs()
		switch option {
		case "state":
			if len(args) != 1 {
				return nil, d.Errf("usage: state memory | redis://host:port/db")
			}
			a.State = args[0]
			if a.State != "memory" && !hasPlaceholder(a.State) {
				if !strings.HasPrefix(a.State, "redis://") && !strings.HasPrefix(a.State, "rediss://") {
					return nil, d.Errf("state must be memory or a redis:// URL, not %q", state.RedactURL(a.State))
				}
				if _, err := state.NewRedis(a.State); err != nil {
					return nil, d.Errf("state: %v", err)
				}
			}
		case "seal_key":
			if len(args) < 1 || len(args) > 2 {
				return nil, d.Errf("usage: seal_key <base64 key> [<previous key>]")
			}
			literal := true
			for _, k := range args {
				literal = literal && !hasPlaceholder(k)
			}
			// Keys from {env.…} or {file.…} are decoded at provision.
			if _, err := sealkey.Decode(args, "seal_key"); literal && err != nil {
				return nil, d.Err(strings.TrimPrefix(err.Error(), "mamori: "))
			}
			a.SealKeys = args
		case "key_file":
			if len(args) != 1 {
				return nil, d.ArgErr()
			}
			a.KeyFile = args[0]
		case "redis_failure":
			if len(args) != 1 || (args[0] != session.FailOpen && args[0] != session.FailClosed && !hasPlaceholder(args[0])) {
				return nil, d.Errf("usage: redis_failure open|closed")
			}
			a.RedisFailure = args[0]
		default:
			return nil, d.Errf("unknown global mamori option %q", option)
		}
	}
	if len(a.SealKeys) > 0 && a.KeyFile != "" {
		return nil, d.Err("seal_key and key_file are exclusive")
	}
	return httpcaddyfile.App{Name: "mamori", Value: caddyconfig.JSON(a, nil)}, nil
}

// storeTimeout bounds one guard's store calls for a request.
const storeTimeout = 2 * state.RedisTimeout

// storeContext is not cancelled with the request: a client that hangs up
// right after a failed login must not escape being counted, nor a logout
// escape being recorded.
func storeContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), storeTimeout)
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
