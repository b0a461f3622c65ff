package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/mamori-waf/mamori/internal/evalcorpus"
)

// Exit statuses of `mamori scan`.
const (
	scanPassed      = 0
	scanBelowTarget = 1
	scanFailed      = 2
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "scan",
		Usage: "[--json] [--min-detection <%>] [--max-false-positives <%>] [--concurrency <n>] [--per-cell <n>] [--seed <n>] [--block-status <codes>] <url>",
		Short: "Measures a site's WAF with mamori's attack and benign corpora",
		Long: `
Sends mamori's evaluation suite to the site at <url> (mamori or any other
WAF): about 3,200 attacks (16 categories, 14 placements, 8 encodings) and
3,400 benign requests made from real text. A request counts as refused when
the answer's status is one of --block-status. It prints detection and
false-positive rates per category, placement and encoding, the misses, and
a summary line last (--json: the whole report as JSON).

The exit status is 0 when detection is at least --min-detection and false
positives at most --max-false-positives (per cent), 1 when not, and 2 when
the scan could not run. Run it from cron or CI against a staging site to
catch a detection regression (checklist V11).

A site on this machine given by its loopback address (127.0.0.1, [::1]) is
scanned as localhost: a numeric Host header is itself a CRS finding (rule
920350) that a site reached by its name never sees, and it would add to
every request's score.

Every request goes to <url>'s host: scan only sites you are allowed to
test, and a staging copy rather than production (the attacks reach the
application behind a WAF that lets them through).
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().Bool("json", false, "write the report as JSON")
			cmd.Flags().Float64("min-detection", 95, "lowest acceptable detection rate, per cent")
			cmd.Flags().Float64("max-false-positives", 10, "highest acceptable false-positive rate, per cent (CRS PL1 alone: 7.8 %)")
			cmd.Flags().Int("concurrency", 4, "requests in flight at once")
			cmd.Flags().Int("per-cell", evalcorpus.DefaultPerCell, "attack payloads per category × placement × encoding (0: all)")
			cmd.Flags().Uint64("seed", evalcorpus.DefaultSeed, "seed of the attack sample")
			cmd.Flags().String("block-status", "400,403,406,501", "statuses that mean the request was refused")
			cmd.Flags().Duration("timeout", 10*time.Second, "timeout of one request")
			cmd.Flags().Int("list", 40, "misses and false positives listed in the text report (-1: all)")
			command(cmd, cmdScan)
		},
	})
}

func cmdScan(fs caddycmd.Flags) (int, error) {
	if fs.NArg() != 1 {
		return scanFailed, fmt.Errorf("usage: mamori scan [flags] <url>")
	}
	given := fs.Arg(0)
	base := given
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return scanFailed, fmt.Errorf("%q is not an http:// or https:// URL", base)
	}
	if h := u.Hostname(); h == "127.0.0.1" || h == "::1" {
		// Scanned by name, as a site is reached: see the help text.
		port := u.Port()
		u.Host = "localhost"
		if port != "" {
			u.Host += ":" + port
		}
		base = u.String()
	}
	statuses, err := parseStatuses(fs.String("block-status"))
	if err != nil {
		return scanFailed, err
	}
	perCell := fs.Int("per-cell")
	seed, err := strconv.ParseUint(fs.Lookup("seed").Value.String(), 10, 64)
	if err != nil {
		return scanFailed, fmt.Errorf("--seed: %v", err)
	}
	cases, err := evalcorpus.Suite(seed, perCell)
	if err != nil {
		return scanFailed, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	runner := &evalcorpus.Runner{Base: base, Concurrency: fs.Int("concurrency"), BlockStatuses: statuses}
	if d := fs.Duration("timeout"); d > 0 {
		runner.Client = evalcorpus.NewClient(d)
	}
	start := time.Now()
	results := runner.Run(ctx, cases)
	if ctx.Err() != nil {
		return scanFailed, fmt.Errorf("interrupted")
	}
	report := evalcorpus.Summarize(u.Host, results)
	scannedAs := ""
	if base != given {
		scannedAs = base
	}
	thresholds := evalcorpus.Thresholds{MinDetection: fs.Float64("min-detection"), MaxFalsePositives: fs.Float64("max-false-positives")}
	shortfalls := thresholds.Check(report)
	if fs.Bool("json") {
		out := struct {
			*evalcorpus.Report
			URL        string   `json:"url"`
			ScannedAs  string   `json:"scanned_as,omitempty"`
			Seconds    float64  `json:"seconds"`
			Passed     bool     `json:"passed"`
			Shortfalls []string `json:"shortfalls,omitempty"`
		}{report, given, scannedAs, time.Since(start).Seconds(), len(shortfalls) == 0, shortfalls}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return scanFailed, err
		}
	} else {
		fmt.Printf("mamori scan %s: %d requests in %s\n", given, len(cases), time.Since(start).Round(time.Second))
		if scannedAs != "" {
			fmt.Printf("(scanned as %s: a numeric Host is itself a CRS finding, 920350)\n", scannedAs)
		}
		report.WriteText(os.Stdout, fs.Int("list"))
		for _, s := range shortfalls {
			fmt.Println("BELOW TARGET:", s)
		}
	}
	if len(shortfalls) > 0 {
		// Caddy's command wrapper exits 1 on an error (and 0 on status 1
		// without one).
		return scanBelowTarget, fmt.Errorf("below target: %s", strings.Join(shortfalls, "; "))
	}
	return scanPassed, nil
}

func parseStatuses(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("--block-status: %q is not an HTTP status", f)
		}
		out = append(out, n)
	}
	return out, nil
}
