// Command mamori is Caddy with mamori's handler built in: every Caddy
// command works (run, validate, adapt, fmt, reload, list-modules, version),
// and mamori adds protect and demo.
package main

import (
	"os"
	"runtime/debug"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/mamori-waf/mamori/caddymodule"
)

func main() {
	setVersion()
	if os.Getenv("GOGC") == "" {
		// The compiled rule set is a large, long-lived heap that every
		// collection walks, while requests allocate ~0.2-0.7 MiB each:
		// collecting half as often raised throughput 15-25 % on many small
		// parameters for ~65 MiB more memory. GOGC in the environment wins.
		debug.SetGCPercent(200)
	}
	caddycmd.Main()
}
