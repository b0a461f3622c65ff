// Command mamori is Caddy with mamori's handler built in: every Caddy
// command works (run, validate, adapt, fmt, reload, list-modules, version),
// and mamori adds protect, demo, scan, logs and reload-rules.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/spf13/cobra"

	"github.com/mamori-waf/mamori/caddymodule"
)

func main() {
	setVersion()
	setHelp()
	// `mamori validate` checks the log files could be written but
	// creates none (caddymodule.Validating).
	caddymodule.Validating = len(os.Args) > 1 && os.Args[1] == "validate"
	if os.Getenv("GOGC") == "" {
		// The compiled rule set is a large, long-lived heap that every
		// collection walks, while requests allocate ~0.2-0.7 MiB each:
		// collecting half as often raised throughput 15-25 % on many small
		// parameters for ~65 MiB more memory. GOGC in the environment wins.
		debug.SetGCPercent(200)
	}
	caddycmd.Main()
}

// description is the top of `mamori help`.
const description = `mamori is a hardened reverse proxy for CMS sites (Movable Type, WordPress):
Caddy with mamori's handler built in (OWASP CRS on Coraza, request limits,
path guards, CSRF checks, sealed sessions, login throttle, security headers,
tamper-evident logs).

  mamori protect --from 127.0.0.1:8443 --to 127.0.0.1:8080   a proxy without a Caddyfile
  mamori demo                                                the demo site behind mamori
  mamori run --config Caddyfile                              a Caddyfile with the mamori directive
  mamori validate --config Caddyfile                         check a configuration
  mamori scan <url>                                          measure a site's WAF
  mamori logs verify <dir>                                   check the logs' HMAC chain

Every Caddy command works under the name mamori. 'mamori help <command>' describes one.`

// footer ends every help text: where each kind of command is documented.
const footer = `
mamori's own commands (protect, demo, scan, logs, reload-rules) and the
mamori directive are documented in mamori's README.md and docs/; Caddy's
commands (run, validate, adapt, fmt, reload, ...) at
https://caddyserver.com/docs/command-line`

// anyCommand is one of mamori's commands, through which the root command
// is reached once it is built (caddycmd builds it inside Main).
var anyCommand *cobra.Command

// setHelp names the program mamori in usage lines and describes mamori
// at the top of its help. The root's examples and footer (Caddy's) are
// replaced when cobra initializes, which `mamori help ...` does; a bare
// `mamori`, `mamori -h` and `mamori --help` are that command.
func setHelp() {
	caddy.CustomBinaryName = "mamori"
	caddy.CustomLongDescription = description
	if len(os.Args) == 1 || (len(os.Args) == 2 && (os.Args[1] == "-h" || os.Args[1] == "--help")) {
		os.Args = []string{os.Args[0], "help"}
	}
	cobra.OnInitialize(func() {
		if anyCommand == nil {
			return
		}
		root := anyCommand.Root()
		root.Example = "  $ mamori protect --from 127.0.0.1:8443 --to 127.0.0.1:8080\n  $ mamori run --config Caddyfile\n  $ mamori reload --config Caddyfile"
		root.SetHelpTemplate(defaultHelpTemplate + footer + "\n")
	})
}

var defaultHelpTemplate = new(cobra.Command).HelpTemplate()

// command sets up one of mamori's own commands: its help ends with
// mamori's footer, not Caddy's, and f (if not nil) runs it with errors
// printed as one plain line, "mamori <command>: <error>", instead of a
// JSON log line, and f's exit status kept.
func command(cmd *cobra.Command, f caddycmd.CommandFunc) {
	anyCommand = cmd
	cmd.SetHelpTemplate(defaultHelpTemplate + footer + "\n")
	if f == nil {
		return
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		status, err := f(caddycmd.Flags{FlagSet: c.Flags()})
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", c.CommandPath(), err)
			if status < 1 {
				status = 1
			}
		}
		if status != 0 {
			os.Exit(status)
		}
		return nil
	}
}
