package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/events"
)

func init() {
	caddy.RegisterModule(RedactFilter{})
}

// RedactFilter is the log field filter `mamori_redact` for Caddy's own
// access log (format filter): it masks the values of secret query
// parameters and headers — the names mamori's access log masks (pass,
// token, session, ..., the profile's and log_secret_fields) — keeping the
// rest. Caddy itself masks Authorization, Cookie, Set-Cookie and
// Proxy-Authorization unless log_credentials is on.
//
//	log {
//		format filter {
//			request>uri mamori_redact
//			request>headers mamori_redact
//		}
//	}
type RedactFilter struct{}

// CaddyModule returns the Caddy module information.
func (RedactFilter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.logging.encoders.filter.mamori_redact", New: func() caddy.Module { return new(RedactFilter) }}
}

// Filter masks secret query parameters of a string field (request>uri)
// and secret headers of a header field (request>headers,
// resp_headers): X-Auth-Token, X-WP-Nonce, any name holding pass, token,
// session, ... or a configured secret name.
func (RedactFilter) Filter(in zapcore.Field) zapcore.Field {
	switch v := in.Interface.(type) {
	case caddyhttp.LoggableHTTPHeader:
		v.Header = events.RedactHeader(v.Header)
		return zap.Object(in.Key, v)
	}
	if in.Type == zapcore.StringType {
		in.String = events.RedactURI(in.String)
	}
	return in
}

// UnmarshalCaddyfile takes no options.
func (*RedactFilter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

var (
	_ logging.LogFieldFilter = RedactFilter{}
	_ caddyfile.Unmarshaler  = (*RedactFilter)(nil)
)
