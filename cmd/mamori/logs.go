package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/mamori-waf/mamori/caddymodule"
	"github.com/mamori-waf/mamori/internal/logchain"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "logs",
		Usage: "verify [--key <key>|--key-file <file>] <dir|file>... | retention [--config <file>] [--adapter <name>]",
		Short: "Checks the tamper-evidence chain of logs and reports their retention",
		Long: `
verify checks the HMAC chain of retained logs: every file of a directory
(grouped by log: access.log with its rolled access-*.log.gz files), or the
files named. It prints "intact" for each log, or every line that was
edited, deleted, reordered or unsealed, and lines removed at the end of
the newest file or at the start of a file (shown by the head record
<file>.head and the checkpoint records), and exits 1. A log without any
chain field is reported "not chained" (exit 1). The key comes from
--key, --key-file or $MAMORI_LOG_KEY.

retention prints where each log of a configuration goes, how it rotates,
how long it is kept, whether it is chained and where it is shipped (S6).
`,
		CobraFunc: func(cmd *cobra.Command) {
			verify := &cobra.Command{
				Use:   "verify <dir|file>...",
				Short: "Check the HMAC chain of log files",
				Args:  cobra.MinimumNArgs(1),
				RunE: func(c *cobra.Command, args []string) error {
					key, _ := c.Flags().GetString("key")
					keyFile, _ := c.Flags().GetString("key-file")
					code, err := cmdLogsVerify(args, key, keyFile)
					if err != nil {
						return err
					}
					if code != 0 {
						os.Exit(code)
					}
					return nil
				},
			}
			verify.Flags().String("key", "", "HMAC key (default $MAMORI_LOG_KEY)")
			verify.Flags().String("key-file", "", "file holding the HMAC key")
			retention := &cobra.Command{
				Use:   "retention",
				Short: "Report the retention of every log of a configuration",
				RunE: func(c *cobra.Command, _ []string) error {
					config, _ := c.Flags().GetString("config")
					adapter, _ := c.Flags().GetString("adapter")
					return cmdLogsRetention(config, adapter)
				},
			}
			retention.Flags().StringP("config", "c", "", "configuration file (default ./Caddyfile)")
			retention.Flags().StringP("adapter", "a", "", "config adapter")
			cmd.AddCommand(verify, retention)
			command(cmd, nil)
		},
	})
}

func cmdLogsVerify(args []string, key, keyFile string) (int, error) {
	switch {
	case keyFile != "":
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return 2, err
		}
		key = string(b)
	case key == "":
		key = os.Getenv(caddymodule.LogKeyEnv)
	}
	key = strings.TrimSpace(key)
	if len(key) < logchain.MinKeyLength {
		return 2, errors.New("no key: give --key, --key-file or $" + caddymodule.LogKeyEnv + " (16 bytes or more)")
	}
	groups := map[string][]string{}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return 2, err
		}
		if st.IsDir() {
			g, err := logchain.Group(a)
			if err != nil {
				return 2, err
			}
			for name, files := range g {
				groups[filepath.Join(a, name)] = files
			}
			continue
		}
		name := filepath.Join(filepath.Dir(a), logchain.LogName(a))
		groups[name] = append(groups[name], a)
	}
	if len(groups) == 0 {
		return 2, errors.New("no log files found")
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	code := 0
	for _, n := range names {
		r, err := logchain.Verify(groups[n], []byte(key))
		if err != nil {
			return 2, fmt.Errorf("%s: %w", n, err)
		}
		if !r.Chained {
			// Not evidence of tampering, but nothing vouches for it either.
			code = 1
			fmt.Printf("%s: not chained: none of its %d lines carries a chain field (written without chain_key or $%s, or every chain field was removed)\n",
				n, r.Lines, caddymodule.LogKeyEnv)
			continue
		}
		if r.Intact() {
			note := ""
			if r.FirstSeq > 1 {
				note = fmt.Sprintf(" (starts at seq %d: older files were removed by retention)", r.FirstSeq)
			}
			switch {
			case r.Head != nil:
				note += fmt.Sprintf("; head record at seq %d, %d checkpoint(s)", r.Head.Seq, r.Checkpoints)
			case r.Checkpoints == 0:
				note += "; no checkpoints (written before they existed): lines removed at the end or start cannot be shown"
			}
			fmt.Printf("%s: intact: %d lines in %d files, seq %d to %d%s\n", n, r.Lines, len(r.Files), r.FirstSeq, r.LastSeq, note)
			continue
		}
		code = 1
		fmt.Printf("%s: BROKEN: %d problem(s) in %d lines\n", n, len(r.Problems), r.Lines)
		for i, p := range r.Problems {
			if i == 20 {
				fmt.Printf("  ... %d more\n", len(r.Problems)-20)
				break
			}
			fmt.Printf("  %s\n", p)
		}
	}
	return code, nil
}

func cmdLogsRetention(config, adapter string) error {
	cfg, _, _, err := caddycmd.LoadConfig(config, adapter)
	if err != nil {
		return err
	}
	if cfg == nil {
		return errors.New("no configuration: give --config")
	}
	rs, err := caddymodule.RetentionReport(cfg)
	if err != nil {
		return err
	}
	fmt.Print(caddymodule.FormatRetention(rs))
	return nil
}
