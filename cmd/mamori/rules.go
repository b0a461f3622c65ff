package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/mamori-waf/mamori/caddymodule"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "reload-rules",
		Usage: "[--address <admin-address>] [--config <file> [--adapter <name>]]",
		Short: "Reloads changed rule and patch files without touching connections",
		Long: `
Asks the running mamori (through Caddy's admin API) to recompile every
site whose include files (virtual patches, operator rules) changed on disk,
and to swap the new rules in for the next request (V12).

Unlike "mamori reload", which applies a whole new configuration and with it
new listening sockets (connections queued on the old ones are reset), this
leaves listeners and connections alone: no request fails. A file that does
not compile is refused with its file and line, and the running rules stay.
Use "mamori reload" for changes to the Caddyfile itself.

The admin address is --address, or the one in --config, or localhost:2019.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("address", "", "the admin API's address")
			cmd.Flags().String("config", "", "configuration file to read the admin address from")
			cmd.Flags().String("adapter", "", "adapter of the configuration file")
			command(cmd, cmdReloadRules)
		},
	})
}

func cmdReloadRules(fs caddycmd.Flags) (int, error) {
	addr, err := caddycmd.DetermineAdminAPIAddress(fs.String("address"), nil, fs.String("config"), fs.String("adapter"))
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	resp, err := caddycmd.AdminAPIRequest(addr, http.MethodPost, "/mamori/rules/reload", nil, nil)
	if err != nil {
		// AdminAPIRequest turns an error status into an error carrying the
		// body; show the refused files plainly.
		return caddy.ExitCodeFailedStartup, fmt.Errorf("rules not reloaded: %s", reloadErrors(err.Error()))
	}
	defer resp.Body.Close()
	var res caddymodule.RulesReload
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("reading the admin API's answer: %v", err)
	}
	fmt.Fprintf(os.Stdout, "%d of %d sites with rule files now run recompiled rules\n", res.Reloaded, res.Sites)
	return caddy.ExitCodeSuccess, nil
}

// reloadErrors pulls the refused files out of the admin API's error body.
func reloadErrors(msg string) string {
	i := strings.Index(msg, "{")
	if i < 0 {
		return msg
	}
	var res caddymodule.RulesReload
	if json.Unmarshal([]byte(msg[i:]), &res) != nil || len(res.Errors) == 0 {
		return msg
	}
	return strings.Join(res.Errors, "\n")
}
