package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/mamori-waf/mamori/internal/waf"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// liveWatchers are the rule file watchers of the running handlers (every
// handler with include files has one), for the admin API to check.
var liveWatchers sync.Map // *waf.Watcher → struct{}

// adminAPI adds mamori's routes to Caddy's admin API:
//
//	POST /mamori/rules/reload
//
// recompiles every site's rules whose include files changed on disk and
// swaps them in for the next request (V12). Unlike a configuration reload
// it leaves listeners and connections alone: Caddy's reload opens a new
// listening socket and closes the old one, and connections still queued on
// the old one are reset, so under load a few requests fail; this does not.
// A file that does not compile is refused (422, with its file and line)
// and the running rules stay.
type adminAPI struct{}

func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.mamori",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the admin routes.
func (adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/mamori/rules/reload", Handler: caddy.AdminHandlerFunc(reloadRules)}}
}

// RulesReload is the admin API's answer to a rules reload.
type RulesReload struct {
	// Sites is how many handlers have include files.
	Sites int `json:"sites"`
	// Reloaded is how many of them now run recompiled rules.
	Reloaded int `json:"reloaded"`
	// Errors are the refused changes (file:line and what is wrong).
	Errors []string `json:"errors,omitempty"`
}

func reloadRules(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	var res RulesReload
	seen := map[string]bool{}
	liveWatchers.Range(func(k, _ any) bool {
		res.Sites++
		swapped, err := k.(*waf.Watcher).Check()
		if swapped {
			res.Reloaded++
		}
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			res.Errors = append(res.Errors, err.Error())
		}
		return true
	})
	if res.Reloaded > 0 {
		freeCompileMemory() // the replaced engines are garbage now too (release.go)
	}
	w.Header().Set("Content-Type", "application/json")
	if len(res.Errors) > 0 {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	return json.NewEncoder(w).Encode(res)
}

var _ caddy.AdminRouter = adminAPI{}
