package caddymodule

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/waf"
)

// FuzzUnmarshalCaddyfile: any directive body parses to an error or to a
// configuration that passes or fails validation cleanly; never a panic,
// and never a valid configuration with out-of-range values.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	f.Add("mamori {\n\tmode detect\n\tparanoia 2 detection 3\n}")
	f.Add("mamori {\n\tcrs {\n\t\tanomaly_threshold 7 5\n\t}\n\trules {\n\t\texclude 941100 on ARGS:text at /x\n\t}\n}")
	f.Add("mamori {\n\trequest_body_limit 10MB\n\tresponse_mime_types text/html\n}")
	f.Fuzz(func(t *testing.T, input string) {
		tokens, err := caddyfile.Tokenize([]byte(input), "Caddyfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			return
		}
		c := h.WAF.WithDefaults()
		if c.Validate() != nil {
			return
		}
		if c.ParanoiaLevel < 1 || c.ParanoiaLevel > 4 || c.InboundThreshold < 1 || c.RequestBodyLimit < 1 || (c.Mode != waf.ModeBlock && c.Mode != waf.ModeDetect) {
			t.Fatalf("%q gave a valid but out-of-range configuration %+v", input, c)
		}
	})
}
