package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/mamori-waf/mamori/caddymodule"
	"github.com/mamori-waf/mamori/internal/checklist"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "check",
		Usage: "[--config <file>] [--adapter <name>] [--json] [--require <ID,ID,...>]",
		Short: "Reports what a configuration does about each checklist item",
		Long: `
Reads a configuration (adapted as "mamori run" would) and prints, for every
item of the security checklist (V1-V12, A1-A4, B1-B4, S1-S13, see
docs/checklist.md), a verdict for this configuration: enforced, logged_only
(mode detect), off, misconfigured or not_applicable, with the directive that
decides it, what lies outside a proxy's reach, and the tests that prove the
behaviour. With several sites each item shows the weakest site's verdict;
--json also gives every site's (schema: docs/check.md).

--require lists items that must be enforced: the exit status is 1 when one
of them is not (2 when the configuration cannot be read).
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().StringP("config", "c", "", "configuration file (default ./Caddyfile)")
			cmd.Flags().StringP("adapter", "a", "", "config adapter (default caddyfile)")
			cmd.Flags().Bool("json", false, "print the report as JSON")
			cmd.Flags().String("require", "", "comma-separated checklist IDs that must be enforced")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(func(fs caddycmd.Flags) (int, error) {
				code, err := cmdCheck(os.Stdout, fs.String("config"), fs.String("adapter"), fs.Bool("json"), fs.String("require"))
				if code == 1 && err == nil {
					os.Exit(1) // Caddy's wrapper turns status 1 without an error into 0
				}
				return code, err
			})
		},
	})
}

// cmdCheck prints the checklist report of a configuration to w and says
// which exit status the required items call for.
func cmdCheck(w io.Writer, config, adapter string, asJSON bool, require string) (int, error) {
	cfg, file, _, err := caddycmd.LoadConfig(config, adapter)
	if err != nil {
		return 2, err
	}
	if cfg == nil {
		return 2, fmt.Errorf("no configuration: give --config")
	}
	rep, err := checklist.Evaluate(cfg, checklist.Options{
		LogKeyInEnv: strings.TrimSpace(os.Getenv(caddymodule.LogKeyEnv)) != "",
	})
	if err != nil {
		return 2, fmt.Errorf("%s: %w", file, err)
	}
	rep.Config = file
	unmet, unknown := rep.Unmet(strings.Split(require, ","))
	if len(unknown) > 0 {
		return 2, fmt.Errorf("--require: no checklist item %s", strings.Join(unknown, ", "))
	}
	if asJSON {
		out := struct {
			*checklist.Report
			Required []string `json:"required,omitempty"`
			Unmet    []string `json:"unmet,omitempty"`
		}{rep, splitIDs(require), unmet}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return 2, err
		}
	} else {
		printCheck(w, rep, unmet)
	}
	if len(unmet) > 0 {
		return 1, nil
	}
	return 0, nil
}

func splitIDs(s string) []string {
	var ids []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.ToUpper(strings.TrimSpace(id)); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// printCheck writes the report as a table for a terminal.
func printCheck(w io.Writer, rep *checklist.Report, unmet []string) {
	sites := make([]string, 0, len(rep.Sites))
	for _, s := range rep.Sites {
		sites = append(sites, s.Site)
	}
	fmt.Fprintf(w, "mamori check %s: %d site(s): %s\n", rep.Config, len(sites), strings.Join(sites, "; "))
	if len(sites) > 1 {
		fmt.Fprintln(w, "Each item shows the weakest site's verdict and names the site; --json gives every site's.")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERDICT\tITEM\tWHY")
	count := map[checklist.Verdict]int{}
	for _, r := range rep.Items {
		count[r.Verdict]++
		reason := r.Reason
		if len(sites) > 1 {
			reason = "[" + r.Site + "] " + reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Verdict, r.Title, reason)
		if r.Outside != "" {
			fmt.Fprintf(tw, "\t\t\toutside the proxy: %s\n", r.Outside)
		}
		fmt.Fprintf(tw, "\t\t\ttests: %s\n", strings.Join(r.Tests, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w)
	var parts []string
	for _, v := range []checklist.Verdict{checklist.Enforced, checklist.LoggedOnly, checklist.Off, checklist.Misconfigured, checklist.NotApplicable} {
		if count[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[v], v))
		}
	}
	fmt.Fprintf(w, "%d items: %s\n", len(rep.Items), strings.Join(parts, ", "))
	if len(unmet) > 0 {
		fmt.Fprintf(w, "required but not enforced: %s\n", strings.Join(unmet, ", "))
	}
}
