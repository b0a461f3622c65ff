package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// `mamori health` asks a running mamori's health endpoint (mamori_health)
// whether a WAF is loaded: the container image's HEALTHCHECK, which has no
// curl in a static image.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "health",
		Usage: "[--url <url>] [--timeout <duration>]",
		Short: "exit 0 if a running mamori's health endpoint answers 200",
		Long: `
Requests the health endpoint of a running mamori (the mamori_health handler)
and exits 0 when it answers 200 (a WAF with rules is loaded), 1 otherwise,
printing the answer. For container HEALTHCHECKs and service monitors.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("url", "http://127.0.0.1:8080/.well-known/mamori/health", "the health endpoint")
			cmd.Flags().Duration("timeout", 5*time.Second, "how long to wait for the answer")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdHealth)
		},
	})
}

func cmdHealth(fs caddycmd.Flags) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), fs.Duration("timeout"))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.String("url"), nil)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Printf("%d %s", resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("health endpoint answered %d", resp.StatusCode)
	}
	return caddy.ExitCodeSuccess, nil
}
