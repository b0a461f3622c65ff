package main

import (
	"fmt"
	"html/template"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "demo",
		Usage: "[--listen <addr>] [--mode block|detect] [--paranoia 1-4]",
		Short: "mamori in front of a small built-in demo site",
		Long: `
Starts a small demo site on a loopback port and mamori in front of it, so you
can see a request pass and an attack get blocked in a browser. Open the
printed address; security events are printed on standard error.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("listen", "127.0.0.1:8080", "address mamori listens on")
			cmd.Flags().String("mode", "block", "block or detect")
			cmd.Flags().Int("paranoia", 1, "CRS paranoia level, 1 to 4")
			cmd.Flags().String("access-log", "", "file for the access log")
			command(cmd, cmdDemo)
		},
	})
}

func cmdDemo(fs caddycmd.Flags) (int, error) {
	caddy.TrapSignals()
	site, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	srv := &http.Server{Handler: demoSite(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(site) }()

	opts := protectOptions{
		from:      fs.String("listen"),
		to:        site.Addr().String(),
		mode:      fs.String("mode"),
		paranoia:  fs.Int("paranoia"),
		accessLog: fs.String("access-log"),
		demo:      true,
	}
	cfg, err := opts.config()
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if err := caddy.Run(cfg); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	base := "http://" + opts.from
	fmt.Printf(`
mamori demo: the demo site is behind mamori at %s (mode %s, paranoia %d)

  passes:   %s/search?q=O'Reilly+gardening+tips
  blocked:  %s/search?q=1'+OR+'1'='1
  blocked:  %s/search?q=<script>alert(1)</script>
  blocked:  %s/static/..%%2f..%%2fetc/passwd

Security events are printed below as JSON lines. Press Ctrl-C to stop.

`, base, opts.mode, opts.paranoia, base, base, base, base)
	select {}
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo blog</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}</style></head>
<body><h1>Demo blog</h1>
<p>This small site sits behind mamori. Search it, or leave a comment: ordinary text passes,
attacks (SQL injection, cross-site scripting, path traversal) are blocked with an incident ID.</p>
<form action="/search"><input name="q" value="{{.Query}}" size="40"> <button>Search</button></form>
{{if .Query}}<p>You searched for <b>{{.Query}}</b>. No entries found.</p>{{end}}
<h2>Comment</h2>
<form method="post" action="/comment"><textarea name="text" rows="4" cols="50">{{.Comment}}</textarea><br><button>Send</button></form>
{{if .Comment}}<p>Thanks, your comment was received.</p>{{end}}
<h2>Try</h2><ul>
<li><a href="/search?q=O'Reilly+gardening+tips">a search that passes</a></li>
<li><a href="/search?q=1'+OR+'1'='1">SQL injection</a></li>
<li><a href="/search?q=%3Cscript%3Ealert(1)%3C/script%3E">cross-site scripting</a></li>
<li><a href="/static/..%2f..%2fetc/passwd">path traversal</a></li>
</ul></body></html>
`))

// demoSite is the built-in site `mamori demo` protects.
func demoSite() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := struct{ Query, Comment string }{Query: r.URL.Query().Get("q")}
		if r.Method == http.MethodPost {
			data.Comment = r.PostFormValue("text")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = demoPage.Execute(w, data)
	})
}
