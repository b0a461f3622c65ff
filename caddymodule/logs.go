package caddymodule

// Logs (S5, S6, S8, S13): mamori's own access log, one line for every
// request the handler sees (the chain and syslog writers are in
// logwriters.go, the health handler in health.go); Prometheus metrics.
// The logic lives in internal/logchain, internal/syslog, internal/metrics
// and internal/events; this file is the Caddy glue.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/accesslog"
	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/logchain"
	"github.com/mamori-waf/mamori/internal/metrics"
	"github.com/mamori-waf/mamori/internal/waf"
)

// AccessLoggerName is the logger name of mamori's access-log lines.
const AccessLoggerName = "mamori.access"

// LogDirEnv names the environment variable that sets the directory of the
// default access log; without it, DefaultLogDir.
const LogDirEnv = "MAMORI_LOG_DIR"

// LogKeyEnv names the environment variable whose value, when set, is the
// default HMAC key of the access log's chain.
const LogKeyEnv = "MAMORI_LOG_KEY"

// DefaultLogDir is where the access log goes when neither the Caddyfile
// nor $MAMORI_LOG_DIR says otherwise.
const DefaultLogDir = "/var/log/mamori"

// Default retention of the default access log: rolled daily and at
// 100 MB, gzip-compressed, kept 400 days (S6).
const (
	DefaultRollSizeMB   = 100
	DefaultRollInterval = 24 * time.Hour
	DefaultRollKeepDays = 400
	// DefaultRollKeep is high so that the age (roll_keep_for), not the
	// count, decides what is removed.
	DefaultRollKeep = 100000
)

// AccessLog is mamori's access log: one JSON line per request that reaches
// the handler — allowed, refused by any guard, aborted by the client or
// failed upstream — with the request ID, the verdict, the deciding guard
// and rules, the status, the upstream's status and timing (S5). It is on
// by default; secrets are masked in it (S8).
type AccessLog struct {
	// Off turns mamori's access log off (`access_log off`).
	Off bool `json:"off,omitempty"`
	// OutputRaw is where lines are written: any Caddy log writer. Default:
	// a file writer on $MAMORI_LOG_DIR/access.log (/var/log/mamori by
	// default) rolled daily and at 100 MB, gzipped, kept 400 days.
	OutputRaw json.RawMessage `json:"output,omitempty" caddy:"namespace=caddy.logging.writers inline_key=output"`
	// ChainKey is the HMAC key that chains the lines (tamper evidence,
	// see docs/logs.md); placeholders such as {env.MAMORI_LOG_KEY} or
	// {file./etc/mamori/log.key} are replaced at load. Default: the value
	// of $MAMORI_LOG_KEY when set, else no chain (a warning says so).
	ChainKey string `json:"chain_key,omitempty"`
	// ShipRaw are more writers that get a copy of every (sealed) line,
	// typically mamori_syslog to a SIEM. They must never block; the
	// output stays the system of record.
	ShipRaw []json.RawMessage `json:"ship,omitempty" caddy:"namespace=caddy.logging.writers inline_key=output"`
	// AnchorInterval, when set on a chained file, writes an anchor
	// checkpoint (the chain's position) that often while requests are
	// logged; shipped with the lines, anchors let the collector's copy
	// show lines removed from the file (docs/logs.md). Default off.
	AnchorInterval caddy.Duration `json:"anchor_interval,omitempty"`
}

// LogSettings are the handler's logging options.
type LogSettings struct {
	// AccessLog configures mamori's access log (on by default).
	AccessLog *AccessLog `json:"access_log,omitempty"`
	// SecretFields are more parameter, cookie and header names whose
	// values are masked in every log, beside the built-in ones (pass,
	// token, session, ...) and the profile's secret fields.
	SecretFields []string `json:"secret_fields,omitempty"`
}

// provisionLogs sets up redaction, metrics and the access log.
func (h *Handler) provisionLogs(ctx caddy.Context) error {
	events.AddSecretNames(h.Logs.SecretFields...)
	if h.profile != nil {
		events.AddSecretNames(h.profile.SecretFields...)
	}
	m, err := metrics.New(ctx.GetMetricsRegistry())
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := registerShipperMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	h.metrics = m
	h.caddyAccess = ctx.Logger(httpAppModule{}).Named("log.access")
	m.RuleSetLoaded(crsVersion(), h.fingerprint[:12], h.engine.RulesCount(), string(h.engine.Config().Mode))

	al := h.Logs.AccessLog
	if al == nil {
		al = &AccessLog{}
		h.Logs.AccessLog = al
	}
	if al.Off {
		return nil
	}
	al.OutputRaw = withDefaultFile(al.OutputRaw)
	out, err := ctx.LoadModule(al, "OutputRaw")
	if err != nil {
		return fmt.Errorf("access_log: %w", err)
	}
	output := out.(caddy.WriterOpener)
	var ships []caddy.WriterOpener
	if al.ShipRaw != nil {
		mods, err := ctx.LoadModule(al, "ShipRaw")
		if err != nil {
			return fmt.Errorf("access_log: ship: %w", err)
		}
		for _, m := range mods.([]any) {
			ships = append(ships, m.(caddy.WriterOpener))
		}
	}
	keySource := al.ChainKey
	if keySource == "" && os.Getenv(LogKeyEnv) != "" {
		keySource = "{env." + LogKeyEnv + "}"
	}
	key, err := resolveKey(keySource)
	if err != nil {
		return fmt.Errorf("access_log: %w", err)
	}
	// One writer and one chain per file, whatever the sites and reloads
	// say (logwriters.go); sites of one configuration must agree. The
	// configuration's file-system map is the one value every module of a
	// configuration load shares, and a new load gets a new one: it names
	// the configuration.
	w, err := openShared(output, key, ships, time.Duration(al.AnchorInterval), ctx.FileSystems())
	if err != nil {
		var conflict *settingsConflict
		if errors.As(err, &conflict) {
			return fmt.Errorf("access_log: %w", err)
		}
		logFileHint(err)
		return fmt.Errorf("access_log: %s: %w (mamori logs every request by default: set $%s, "+
			"`access_log <file>` or `access_log off`)", output, err, LogDirEnv)
	}
	h.accessWriter = w
	if key == nil {
		h.logger.Warn("access log is not tamper-evident: set access_log { chain_key ... } or $" + LogKeyEnv)
	}
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey: "ts", LevelKey: "level", NameKey: "logger", MessageKey: "msg",
		EncodeTime: zapcore.RFC3339NanoTimeEncoder, EncodeLevel: zapcore.LowercaseLevelEncoder,
		EncodeDuration: zapcore.SecondsDurationEncoder, LineEnding: "\n",
	})
	h.access = zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.InfoLevel)).Named(AccessLoggerName)
	return nil
}

// cleanupLogs releases the access-log writer.
func (h *Handler) cleanupLogs() {
	if h.accessWriter != nil {
		if err := h.accessWriter.Close(); err != nil {
			h.logger.Error("closing the access log", zap.Error(err))
		}
	}
}

// DefaultAccessFile is the file writer of the default access log.
func DefaultAccessFile() logging.FileWriter {
	dir := os.Getenv(LogDirEnv)
	if dir == "" {
		dir = DefaultLogDir
	}
	return logging.FileWriter{
		Filename:     filepath.Join(dir, "access.log"),
		RollSizeMB:   DefaultRollSizeMB,
		RollInterval: caddy.Duration(DefaultRollInterval),
		RollKeep:     DefaultRollKeep,
		RollKeepDays: DefaultRollKeepDays,
	}
}

// withDefaultFile gives a file writer without a file name (the Caddyfile
// set only retention options) the default path, resolved when the
// configuration loads, not when it is adapted; and no writer at all the
// default file writer.
func withDefaultFile(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return caddyconfig.JSONModuleObject(DefaultAccessFile(), "output", "file", nil)
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil || obj["output"] != "file" || obj["filename"] != nil {
		return raw
	}
	obj["filename"] = DefaultAccessFile().Filename
	out, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return out
}

// defaultRetention is the default file writer without a file name.
func defaultRetention() logging.FileWriter {
	fw := DefaultAccessFile()
	fw.Filename = ""
	return fw
}

// resolveKey replaces placeholders in a key source; nil for no key.
func resolveKey(source string) ([]byte, error) {
	if source == "" {
		return nil, nil
	}
	key, err := caddy.NewReplacer().ReplaceOrErr(source, true, true)
	if err != nil {
		return nil, fmt.Errorf("chain key: %v", err)
	}
	key = strings.TrimSpace(key)
	if len(key) < logchain.MinKeyLength {
		return nil, fmt.Errorf("chain key %q gives %d bytes; at least %d are needed", source, len(key), logchain.MinKeyLength)
	}
	return []byte(key), nil
}

// logAccess writes the request's one access-log line. It is deferred
// first in ServeHTTP, so it runs last: after the verdict is known, and
// also while the chain unwinds with a panic (the proxy's way of giving up
// on a client that hung up). A panic is passed on as it came, for Caddy's
// own recovery; it tells the line that the response was cut short.
func (h *Handler) logAccess(o *outcome, rec *response, start time.Time, errp *error) {
	if h.access == nil {
		return
	}
	if p := recover(); p != nil {
		h.writeAccessLine(o, rec, start, *errp, true)
		panic(p)
	}
	h.writeAccessLine(o, rec, start, *errp, false)
}

func (h *Handler) writeAccessLine(o *outcome, rec *response, start time.Time, err error, panicking bool) {
	ce := h.access.Check(zapcore.InfoLevel, accesslog.Message)
	if ce == nil {
		return
	}
	r := o.r
	l := accesslog.NewLine(r)
	l.RequestID, l.ClientIP, l.Record = o.id, o.clientIP, o.Record
	l.RequestBodyBytes = o.body.BytesRead()
	l.Duration = time.Since(start)
	l.Answered(rec.status, rec.bytes, err, statusOf(err), panicking, r.Context().Err() != nil)
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		if v, ok := repl.Get("http.reverse_proxy.status_code"); ok {
			l.Upstream.Status = v
		}
		if v, ok := repl.Get("http.reverse_proxy.upstream.duration"); ok {
			if d, ok := v.(time.Duration); ok {
				l.Upstream.Duration = &d
			}
		}
		if v, ok := repl.Get("http.reverse_proxy.upstream.hostport"); ok {
			l.Upstream.Address = v
		}
	}
	ce.Write(l.Fields()...)
}

// record notes the WAF's verdict for the access log (accesslog.Record)
// and counts it in the metrics.
func (o *outcome) record(v waf.Verdict, outcome string) {
	rule := v.LogRule()
	o.WAF(outcome, rule, v.RuleIDs(), v.InboundScore, v.OutboundScore)
	if o.unsafe != "" {
		// The upstream's headers were refused (refuseHeaders).
		o.Set(events.VerdictBlocked, "headers", o.unsafe)
	}
	m := o.h.metrics
	m.Request(o.Verdict, v.InboundScore, v.OutboundScore, true)
	if outcome == events.VerdictBlocked {
		m.Refused("waf", rule)
	}
	if o.unsafe != "" {
		m.Refused("headers", o.unsafe)
	}
	if outcome != events.VerdictAllowed {
		m.Event("waf", outcome, rule)
	}
}

// crsVersion is the CRS module version built in (v4.25.0).
func crsVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/corazawaf/coraza-coreruleset/v4" {
				return d.Version
			}
		}
	}
	return "unknown"
}

// parseAccessLog reads
//
//	access_log off
//	access_log [<file>] {
//		output <writer> ...
//		chain_key <key>
//		anchor_interval <duration>
//		ship <writer> ...
//		<file writer options: roll_size, roll_keep_for, ...>
//	}
func parseAccessLog(d *caddyfile.Dispenser, h *Handler) error {
	al := &AccessLog{}
	h.Logs.AccessLog = al
	args := d.RemainingArgs()
	var file *logging.FileWriter
	switch {
	case len(args) == 1 && args[0] == "off":
		al.Off = true
		if d.NextBlock(d.Nesting()) {
			return d.Err("access_log off takes no block")
		}
		return nil
	case len(args) == 1:
		fw := defaultRetention()
		fw.Filename = args[0]
		file = &fw
	case len(args) > 1:
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		switch option {
		case "output", "ship":
			if !d.NextArg() {
				return d.ArgErr()
			}
			name := d.Val()
			wo, err := unmarshalWriter(d, name)
			if err != nil {
				return err
			}
			raw := caddyconfig.JSONModuleObject(wo, "output", name, nil)
			if option == "ship" {
				al.ShipRaw = append(al.ShipRaw, raw)
			} else {
				al.OutputRaw = raw
			}
		case "chain_key":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			al.ChainKey = v
		case "anchor_interval":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(v)
			if err != nil || dur <= 0 {
				return d.Errf("access_log: anchor_interval %q is not a positive duration", v)
			}
			al.AnchorInterval = caddy.Duration(dur)
		default:
			// Retention options of the default (or named) file.
			if file == nil {
				fw := defaultRetention()
				file = &fw
			}
			if err := fileOption(d, file); err != nil {
				return err
			}
		}
	}
	if file != nil {
		if al.OutputRaw != nil {
			return d.Err("access_log: give a file name or an output, not both")
		}
		al.OutputRaw = caddyconfig.JSONModuleObject(file, "output", "file", nil)
	}
	return nil
}

// fileOption applies one file-writer option (roll_size, roll_keep_for,
// ...) by handing it to Caddy's own file writer parser.
func fileOption(d *caddyfile.Dispenser, fw *logging.FileWriter) error {
	name := fw.Filename
	tokens := []caddyfile.Token{{Text: "file"}, {Text: "name"}, {Text: "{"}}
	line := d.Val()
	tokens = append(tokens, d.Token())
	for d.NextArg() {
		tokens = append(tokens, d.Token())
	}
	tokens = append(tokens, caddyfile.Token{Text: "}"})
	sub := caddyfile.NewDispenser(tokens)
	if err := fw.UnmarshalCaddyfile(sub); err != nil {
		return d.Errf("access_log: %s: %v", line, err)
	}
	fw.Filename = name
	return nil
}

// unmarshalWriter reads `<writer> [args] [{ ... }]` as Caddy's log
// directive does: stdout, stderr and discard take no options.
func unmarshalWriter(d *caddyfile.Dispenser, name string) (caddy.WriterOpener, error) {
	switch name {
	case "stdout":
		return caddy.StdoutWriter{}, nil
	case "stderr":
		return caddy.StderrWriter{}, nil
	case "discard":
		return caddy.DiscardWriter{}, nil
	}
	unm, err := caddyfile.UnmarshalModule(d, "caddy.logging.writers."+name)
	if err != nil {
		return nil, err
	}
	wo, ok := unm.(caddy.WriterOpener)
	if !ok {
		return nil, d.Errf("%s is not a log writer", name)
	}
	return wo, nil
}

// parseSecretFields reads `log_secret_fields <name>...`.
func parseSecretFields(d *caddyfile.Dispenser, h *Handler) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	h.Logs.SecretFields = append(h.Logs.SecretFields, args...)
	return nil
}

// Interface guards
var _ caddyhttp.MiddlewareHandler = (*Handler)(nil)
