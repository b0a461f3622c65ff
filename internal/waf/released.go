package waf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// ReleasedRuleID is the rule of the engine Released returns.
const ReleasedRuleID = 200010

const releasedRules = `SecRuleEngine On
SecAction "id:200010,phase:1,t:none,deny,status:503,log,msg:'Configuration replaced and its rules released: refused'"
`

// released compiles the refusing engine once per process, on first use.
var released = sync.OnceValue(func() *Engine {
	sum := sha256.Sum256([]byte(releasedRules))
	e, err := New(&Compiled{Config: Config{}.WithDefaults(), Directives: releasedRules, Fingerprint: hex.EncodeToString(sum[:])})
	if err != nil { // a constant rule: TestReleasedRefuses compiles it
		panic(fmt.Sprintf("waf: the released engine does not compile: %v", err))
	}
	return e
})

// Released is the engine for a request that reaches a handler after its
// configuration was replaced and the rules it ran were freed (a handler
// keeps them only weakly after its Cleanup, see Watcher.Close, so that a
// replaced configuration Caddy still holds does not hold a compiled rule
// set too). It refuses every request with 503 (rule ReleasedRuleID): such
// a request fails closed instead of passing uninspected. It holds one
// rule, compiled once per process.
func Released() *Engine { return released() }
