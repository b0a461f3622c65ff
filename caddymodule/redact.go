package caddymodule

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

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

// Caddy's own access log (`log` in a site) in servers where mamori runs
// (S8). Caddy logs the request as it came in, cloned before any handler
// runs, with only Authorization, Cookie, Set-Cookie and
// Proxy-Authorization masked: a password in the query string or an
// X-Auth-Token header would reach the file in clear, and no handler can
// change that clone. So, for a request that holds such a secret, mamori
// tells Caddy to write no access line (an empty list of logger names) and
// writes the same line itself, in Caddy's format, to the same loggers,
// with the secrets masked. Every other request is logged by Caddy as
// usual. The mamori_redact filter stays useful for other fields.

// httpAppModule only names Caddy's HTTP app, whose child loggers
// http.log.access[.NAME] are Caddy's access loggers.
type httpAppModule struct{}

func (httpAppModule) CaddyModule() caddy.ModuleInfo { return caddy.ModuleInfo{ID: "http"} }

// caddyMasked are the headers Caddy itself masks in its access log
// (unless log_credentials is on).
var caddyMasked = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true}

// caddyLine is a request whose Caddy access line mamori writes.
type caddyLine struct {
	h     *Handler
	o     *outcome
	req   *http.Request // the request as logged: secrets masked
	w     http.ResponseWriter
	rec   caddyhttp.ResponseRecorder // Caddy's, for the final status and size; may be nil
	names any                        // logger names set before mamori ran, if any
	done  chan struct{}

	// What finish notes in the request's goroutine: the request's
	// variables and headers are not safe to read from another.
	skip     bool
	err      error
	status   int           // from the error, if Caddy writes none
	level    zapcore.Level // set by log_level, if levelSet
	levelSet bool
	start    time.Time
	message  string
	userID   string
	respHdr  http.Header
	loggers  []*zap.Logger
	bodyRead int64
}

// maskCaddyLog takes over Caddy's access line for r when the line would
// hold a secret; nil when Caddy can write it itself. Call it before
// anything changes r.
func (h *Handler) maskCaddyLog(w http.ResponseWriter, r *http.Request, o *outcome) *caddyLine {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil || srv.Logs == nil || h.caddyAccess == nil || !caddyLogs(srv.Logs, r.Host) {
		return nil
	}
	orig, ok := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request)
	if !ok {
		orig = *r
	}
	uri := events.RedactURI(orig.RequestURI)
	secret := uri != orig.RequestURI || srv.Logs.ShouldLogCredentials
	for name := range r.Header {
		if !caddyMasked[name] && events.IsSecretName(name) {
			secret = true
			break
		}
	}
	if !secret {
		return nil
	}
	lr := r.Clone(r.Context())
	lr.Method, lr.RemoteAddr, lr.RequestURI = orig.Method, orig.RemoteAddr, uri
	lr.Header = events.RedactHeader(r.Header)
	l := &caddyLine{h: h, o: o, req: lr, w: w, rec: findRecorder(w),
		names: caddyhttp.GetVar(r.Context(), caddyhttp.AccessLoggerNameVarKey), done: make(chan struct{})}
	caddyhttp.SetVar(r.Context(), caddyhttp.AccessLoggerNameVarKey, []any{})
	// The request's context ends when Caddy has answered, error handling
	// included, so the status and size are final; or earlier, when the
	// client goes away: then the handler's end is awaited.
	context.AfterFunc(r.Context(), func() {
		<-l.done
		l.write()
	})
	return l
}

// finish notes how the handler ended, in the request's goroutine;
// Caddy's error handling still runs after it.
func (l *caddyLine) finish(errp *error) {
	if l == nil {
		return
	}
	defer close(l.done)
	ctx := l.req.Context()
	// A handler after mamori (log_name) may have named loggers: they get
	// the masked line, Caddy none.
	if names := caddyhttp.GetVar(ctx, caddyhttp.AccessLoggerNameVarKey); names != nil {
		if s, ok := names.([]any); !ok || len(s) > 0 {
			l.names = names
			caddyhttp.SetVar(ctx, caddyhttp.AccessLoggerNameVarKey, []any{})
		}
	}
	if skip, ok := caddyhttp.GetVar(ctx, caddyhttp.LogSkipVar).(bool); ok && skip {
		l.skip = true
		return
	}
	l.err = *errp
	if l.err != nil {
		l.status = statusOf(l.err)
	}
	if name, ok := caddyhttp.GetVar(ctx, caddyhttp.LogLevelVar).(string); ok {
		if lv, err := zapcore.ParseLevel(name); err == nil && lv >= zapcore.DebugLevel && lv <= zapcore.ErrorLevel {
			l.level, l.levelSet = lv, true
		}
	}
	l.start, _ = caddyhttp.GetVar(ctx, "start_time").(time.Time)
	l.message = "handled request"
	if nop, ok := caddyhttp.GetVar(ctx, "unhandled").(bool); ok && nop {
		l.message = "NOP"
	}
	if repl, ok := ctx.Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		l.userID, _ = repl.GetString("http.auth.user.id")
	}
	l.respHdr = events.RedactHeader(l.w.Header())
	l.loggers = l.chooseLoggers()
	l.bodyRead = l.o.body.BytesRead()
}

// write writes the line as Caddy's logRequest would.
func (l *caddyLine) write() {
	if l.skip {
		return
	}
	status, size := 0, 0
	if l.rec != nil {
		status, size = l.rec.Status(), l.rec.Size()
	}
	if status == 0 {
		status = l.status
	}
	var duration time.Duration
	if !l.start.IsZero() {
		duration = time.Since(l.start)
	}
	level := zapcore.InfoLevel
	if status >= 500 {
		level = zapcore.ErrorLevel
	}
	if l.levelSet {
		level = l.level
	}
	var fields []zap.Field
	for _, logger := range l.loggers {
		ce := logger.Check(level, l.message)
		if ce == nil {
			continue
		}
		if fields == nil {
			fields = l.fields(status, size, duration)
		}
		ce.Write(fields...)
	}
}

func (l *caddyLine) fields(status, size int, duration time.Duration) []zap.Field {
	o := l.o
	f := []zap.Field{
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: l.req}),
		zap.Int64("bytes_read", l.bodyRead),
		zap.String("user_id", l.userID),
		zap.Duration("duration", duration),
		zap.Int("size", size),
		zap.Int("status", status),
		zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: l.respHdr}),
		// mamori's own fields (log_append fields of other handlers are
		// not in a masked line: Caddy keeps them out of reach).
		zap.String("mamori.request_id", o.id),
	}
	return append(f, o.CaddyFields()...)
}

// chooseLoggers are Caddy's access loggers for the request, chosen as
// Caddy chooses them.
func (l *caddyLine) chooseLoggers() []*zap.Logger {
	var names []string
	if s, ok := l.names.([]any); ok {
		for _, n := range s {
			if name, ok := n.(string); ok {
				names = append(names, name)
			}
		}
	} else if srv, ok := l.req.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok {
		names = loggerNames(srv.Logs, l.req.Host)
	}
	out := make([]*zap.Logger, 0, len(names))
	for _, n := range names {
		if n == "" {
			out = append(out, l.h.caddyAccess)
		} else {
			out = append(out, l.h.caddyAccess.Named(n))
		}
	}
	return out
}

// caddyLogs says whether Caddy logs requests for host (its
// shouldLogRequest).
func caddyLogs(slc *caddyhttp.ServerLogConfig, host string) bool {
	host = hostOnly(host)
	for name := range slc.LoggerNames {
		if matchWildcard(host, name) {
			return true
		}
	}
	for _, skip := range slc.SkipHosts {
		if matchWildcard(host, skip) {
			return false
		}
	}
	return !slc.SkipUnmappedHosts
}

// loggerNames are the logger names for host (Caddy's getLoggerHosts).
func loggerNames(slc *caddyhttp.ServerLogConfig, host string) []string {
	host = strings.ToLower(hostOnly(host))
	if names, ok := slc.LoggerNames[host]; ok {
		return names
	}
	labels := strings.Split(host, ".")
	for i := range labels {
		if labels[i] == "" {
			continue
		}
		labels[i] = "*"
		if names, ok := slc.LoggerNames[strings.Join(labels, ".")]; ok {
			return names
		}
	}
	return []string{slc.DefaultLoggerName}
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// findRecorder finds Caddy's response recorder under w.
func findRecorder(w http.ResponseWriter) caddyhttp.ResponseRecorder {
	for w != nil {
		if rr, ok := w.(caddyhttp.ResponseRecorder); ok {
			return rr
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// matchWildcard matches a host against a name whose labels may be "*"
// (certmagic.MatchWildcard, which Caddy uses here).
func matchWildcard(host, name string) bool {
	if host == name {
		return true
	}
	if !strings.Contains(name, "*") {
		return false
	}
	hl, nl := strings.Split(host, "."), strings.Split(name, ".")
	if len(hl) != len(nl) {
		return false
	}
	for i := range nl {
		if nl[i] != "*" && nl[i] != hl[i] {
			return false
		}
	}
	return true
}
