// Command mamori is Caddy with mamori's handler built in: every Caddy
// command works (run, validate, adapt, fmt, reload, list-modules, version),
// and mamori adds protect and demo.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/mamori-waf/mamori/caddymodule"
)

func main() {
	setVersion()
	caddycmd.Main()
}
