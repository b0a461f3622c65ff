package main

import (
	"fmt"
	"runtime/debug"

	"github.com/caddyserver/caddy/v2"
)

// Version is mamori's version, set at build time with
// -ldflags "-X main.Version=v1.2.3"; "devel" otherwise.
var Version = "devel"

// setVersion makes `mamori version` (Caddy's version command) name mamori,
// Caddy, Coraza and the Core Rule Set.
func setVersion() {
	deps := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			deps[m.Path] = m.Version
			if m.Replace != nil && m.Replace.Version == "" {
				// A local copy: Coraza with mamori's patch (third_party/).
				deps[m.Path] += "+mamori"
			}
		}
	}
	caddy.CustomVersion = fmt.Sprintf("mamori %s (Caddy %s, Coraza %s, OWASP CRS %s)",
		Version,
		deps["github.com/caddyserver/caddy/v2"],
		deps["github.com/corazawaf/coraza/v3"],
		deps["github.com/corazawaf/coraza-coreruleset/v4"])
}
