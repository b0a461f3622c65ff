package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/caddymodule"
	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/waf"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "protect",
		Usage: "--from <addr> --to <upstream> [--mode block|detect] [--paranoia 1-4] [--profile movabletype|wordpress [--admin-path <path>]] [--access-log <file>] [--events-log <file>]",
		Short: "A hardened reverse proxy without a Caddyfile",
		Long: `
Runs mamori in front of one upstream: the WAF (OWASP CRS v4, paranoia level 1,
blocking) and the block page, then Caddy's reverse proxy.

--from is the address to listen on. "127.0.0.1:8080" or ":8080" serves plain
HTTP; "https://example.com" serves HTTPS with an automatic certificate.
--to is the upstream's host:port (HTTP).
--profile names the CMS behind it (movabletype or wordpress): its admin
paths, session cookies, login and password forms and the rule exclusions
its editors need; --admin-path moves its scripts (Movable Type's CGIPath,
WordPress's site root).

Security events go to standard error (or --events-log). mamori's access
log (one JSON line per request with its verdict, secrets masked) goes to
--access-log, or else to $MAMORI_LOG_DIR/access.log (default
/var/log/mamori/access.log); rolled daily, kept 400 days.

On a loopback address (127.0.0.1, [::1], localhost) CRS rule 920350 (Host
is a numeric IP) is off: every request to 127.0.0.1 names one, and it says
nothing there.

protect runs without Caddy's admin API, so 'mamori reload', 'mamori
reload-rules' and the metrics endpoint do not reach it: restart it to
change anything, or write a Caddyfile ('mamori adapt' shows the JSON) and
use 'mamori run' for those.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("from", "", "address to listen on (required)")
			cmd.Flags().String("to", "", "upstream host:port (required)")
			cmd.Flags().String("mode", "block", "block or detect")
			cmd.Flags().Int("paranoia", 1, "CRS paranoia level, 1 to 4")
			cmd.Flags().String("profile", "", "CMS profile: movabletype or wordpress")
			cmd.Flags().String("admin-path", "", "the CMS's script directory, if not the profile's default")
			cmd.Flags().String("access-log", "", "file for the access log")
			cmd.Flags().String("events-log", "", "file for security events (default: standard error)")
			command(cmd, cmdProtect)
		},
	})
}

// protectOptions are the flags of `mamori protect` (and `mamori demo`).
type protectOptions struct {
	from, to, mode, accessLog, eventsLog string
	profile, adminPath                   string
	paranoia                             int
	// demo: no access log file unless --access-log names one.
	demo bool
}

func cmdProtect(fs caddycmd.Flags) (int, error) {
	caddy.TrapSignals()
	opts := protectOptions{
		from:      fs.String("from"),
		to:        fs.String("to"),
		mode:      fs.String("mode"),
		paranoia:  fs.Int("paranoia"),
		accessLog: fs.String("access-log"),
		eventsLog: fs.String("events-log"),
		profile:   fs.String("profile"),
		adminPath: fs.String("admin-path"),
	}
	cfg, err := opts.config()
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if err := caddy.Run(cfg); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	caddy.Log().Info("mamori protecting", zap.String("from", opts.from), zap.String("to", opts.to),
		zap.String("mode", opts.mode), zap.Int("paranoia", opts.paranoia))
	select {}
}

// hostIsIPRule is CRS's "Host header is a numeric IP address".
const hostIsIPRule = "920350"

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// config builds the Caddy JSON configuration for the options.
func (o protectOptions) config() (*caddy.Config, error) {
	if o.from == "" || o.to == "" {
		return nil, fmt.Errorf("--from and --to are both required")
	}
	from, err := httpcaddyfile.ParseAddress(o.from)
	if err != nil {
		return nil, fmt.Errorf("--from %q: %v", o.from, err)
	}
	if from.Scheme == "" {
		from.Scheme = "http"
		if from.Port == "" {
			return nil, fmt.Errorf("--from %q: give host:port for HTTP, or https://name for HTTPS", o.from)
		}
	}
	if from.Port == "" {
		from.Port = map[string]string{"http": "80", "https": "443"}[from.Scheme]
	}
	to := strings.TrimPrefix(o.to, "http://")
	if _, _, err := net.SplitHostPort(to); err != nil {
		return nil, fmt.Errorf("--to %q: need an upstream host:port: %v", o.to, err)
	}
	handler := caddymodule.Handler{WAF: waf.Config{Mode: waf.Mode(o.mode), ParanoiaLevel: o.paranoia}}
	if isLoopback(from.Host) {
		// Tried on 127.0.0.1, every request names a numeric Host: CRS
		// 920350 would flag each one (an event apiece, and 3 points that
		// push ordinary requests toward blocking). On loopback it tells
		// nothing, so it is off there; a public listener keeps it.
		handler.WAF.Exclusions = append(handler.WAF.Exclusions, waf.Exclusion{Rules: hostIsIPRule})
	}
	if o.profile != "" {
		pc := &caddymodule.ProfileConfig{Name: o.profile, Options: profile.Options{AdminPath: o.adminPath}}
		if _, err := profile.Get(pc.Name, pc.Options); err != nil {
			return nil, fmt.Errorf("--profile: %v", err)
		}
		handler.Profile = pc
	} else if o.adminPath != "" {
		return nil, fmt.Errorf("--admin-path needs --profile")
	}
	switch {
	case o.accessLog != "":
		// mamori's own access log (secrets masked, one line per request)
		// goes to the named file, with the default retention; Caddy's
		// stays off.
		fw := caddymodule.DefaultAccessFile()
		fw.Filename = o.accessLog
		handler.Logs.AccessLog = &caddymodule.AccessLog{OutputRaw: caddyconfig.JSONModuleObject(fw, "output", "file", nil)}
	case o.demo:
		handler.Logs.AccessLog = &caddymodule.AccessLog{Off: true}
	}
	if _, err := waf.Compile(handler.WAF); err != nil {
		return nil, err
	}
	proxy := reverseproxy.Handler{Upstreams: reverseproxy.UpstreamPool{{Dial: to}}}
	route := caddyhttp.Route{HandlersRaw: []json.RawMessage{
		caddyconfig.JSONModuleObject(handler, "handler", "mamori", nil),
		caddyconfig.JSONModuleObject(proxy, "handler", "reverse_proxy", nil),
	}}
	listenHost := from.Host
	if from.Scheme == "https" && from.Host != "" && net.ParseIP(from.Host) == nil {
		route.MatcherSetsRaw = []caddy.ModuleMap{{"host": caddyconfig.JSON(caddyhttp.MatchHost{from.Host}, nil)}}
		listenHost = ""
	}
	server := &caddyhttp.Server{
		Listen: []string{net.JoinHostPort(listenHost, from.Port)},
		Routes: caddyhttp.RouteList{route},
	}
	if from.Scheme == "http" {
		server.AutoHTTPS = &caddyhttp.AutoHTTPSConfig{Disabled: true}
	}

	logs := map[string]*caddy.CustomLog{
		"default": {BaseLog: caddy.BaseLog{}, Exclude: []string{"http.log.access"}},
	}
	if o.eventsLog != "" {
		logs["default"].Exclude = append(logs["default"].Exclude, events.LoggerName)
		logs["events"] = &caddy.CustomLog{
			BaseLog: caddy.BaseLog{WriterRaw: caddyconfig.JSONModuleObject(logging.FileWriter{Filename: o.eventsLog}, "output", "file", nil)},
			Include: []string{events.LoggerName},
		}
	}
	persist := false
	return &caddy.Config{
		Admin:   &caddy.AdminConfig{Disabled: true, Config: &caddy.ConfigSettings{Persist: &persist}},
		Logging: &caddy.Logging{Logs: logs},
		AppsRaw: caddy.ModuleMap{"http": caddyconfig.JSON(caddyhttp.App{Servers: map[string]*caddyhttp.Server{"mamori": server}}, nil)},
	}, nil
}
