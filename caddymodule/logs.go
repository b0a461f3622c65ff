package caddymodule

// Logs (S5, S6, S8, S13): mamori's own access log, one line for every
// request the handler sees; the tamper-evident chain and syslog writers
// as Caddy log writer modules; Prometheus metrics; the health handler.
// The logic lives in internal/logchain, internal/syslog, internal/metrics
// and internal/events; this file is the Caddy glue.

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/logchain"
	"github.com/mamori-waf/mamori/internal/metrics"
	"github.com/mamori-waf/mamori/internal/syslog"
	"github.com/mamori-waf/mamori/internal/waf"
)

func init() {
	caddy.RegisterModule(ChainWriter{})
	caddy.RegisterModule(SyslogWriter{})
}

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

// accessWriters shares one open access-log writer (and its chain) among
// the sites and configurations that name the same output.
var accessWriters = caddy.NewUsagePool()

type pooledWriter struct{ io.WriteCloser }

func (p pooledWriter) Destruct() error { return p.Close() }

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
	poolKey := "access|" + output.WriterKey()
	for _, s := range ships {
		poolKey += "|" + s.WriterKey()
	}
	if key != nil {
		poolKey += "|chained:" + keyID(key)
	}
	val, _, err := accessWriters.LoadOrNew(poolKey, func() (caddy.Destructor, error) {
		w, err := openAccessWriter(output, ships, key)
		if err != nil {
			return nil, err
		}
		return pooledWriter{w}, nil
	})
	if err != nil {
		return fmt.Errorf("access_log: %s: %w (mamori logs every request by default: set $%s, "+
			"`access_log <file>` or `access_log off`)", output, err, LogDirEnv)
	}
	h.accessKey = poolKey
	if key == nil {
		h.logger.Warn("access log is not tamper-evident: set access_log { chain_key ... } or $" + LogKeyEnv)
	}
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey: "ts", LevelKey: "level", NameKey: "logger", MessageKey: "msg",
		EncodeTime: zapcore.RFC3339NanoTimeEncoder, EncodeLevel: zapcore.LowercaseLevelEncoder,
		EncodeDuration: zapcore.SecondsDurationEncoder, LineEnding: "\n",
	})
	h.access = zap.New(zapcore.NewCore(enc, zapcore.AddSync(val.(pooledWriter)), zapcore.InfoLevel)).Named(AccessLoggerName)
	return nil
}

// cleanupLogs releases the access-log writer.
func (h *Handler) cleanupLogs() {
	if h.accessKey != "" {
		_, _ = accessWriters.Delete(h.accessKey)
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

// openAccessWriter opens output (chained under key, if any) and copies
// every sealed line to the ship writers.
func openAccessWriter(output caddy.WriterOpener, ships []caddy.WriterOpener, key []byte) (io.WriteCloser, error) {
	base, err := output.OpenWriter()
	if err != nil {
		return nil, err
	}
	t := &tee{main: base}
	for _, s := range ships {
		w, err := s.OpenWriter()
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("ship %s: %w", s, err)
		}
		t.copies = append(t.copies, w)
	}
	if key == nil {
		return &lockedWriter{w: t}, nil
	}
	return chain(output, t, key)
}

// chain wraps w (opened from output) in a logchain writer that resumes
// where the file's chain stopped.
func chain(output caddy.WriterOpener, w io.WriteCloser, key []byte) (io.WriteCloser, error) {
	c, err := logchain.New(key)
	if err != nil {
		w.Close()
		return nil, err
	}
	if fw, ok := output.(*logging.FileWriter); ok {
		seq, mac, found, err := logchain.ResumeFrom(fw.Filename)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("resuming the chain of %s: %w", fw.Filename, err)
		}
		if found {
			c.Resume(seq, mac)
		}
	}
	return &logchain.Writer{Chain: c, W: w}, nil
}

// tee writes to main, the system of record, and copies to the others,
// whose errors are theirs (a shipper never fails a write).
type tee struct {
	main   io.WriteCloser
	copies []io.WriteCloser
}

func (t *tee) Write(p []byte) (int, error) {
	n, err := t.main.Write(p)
	for _, c := range t.copies {
		_, _ = c.Write(p)
	}
	return n, err
}

func (t *tee) Close() error {
	err := t.main.Close()
	for _, c := range t.copies {
		err = errors.Join(err, c.Close())
	}
	return err
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.WriteCloser
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return l.w.Close() }

// accessRecorder notes what the client got: status and body bytes.
type accessRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (a *accessRecorder) WriteHeader(status int) {
	if a.status == 0 && status >= 200 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *accessRecorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	n, err := a.ResponseWriter.Write(b)
	a.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (a *accessRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// startAccess wraps w to record what the client gets.
func (h *Handler) startAccess(w http.ResponseWriter) (http.ResponseWriter, *accessRecorder) {
	if h.access == nil {
		return w, nil
	}
	rec := &accessRecorder{ResponseWriter: w}
	return rec, rec
}

// logAccess writes the request's one access-log line. It is deferred
// first in ServeHTTP, so it runs last: after the verdict is known, and
// also while the chain unwinds with a panic (the proxy's way of giving up
// on a client that hung up). It does not recover, so a panic keeps its
// stack for Caddy's own recovery log.
func (h *Handler) logAccess(o *outcome, rec *accessRecorder, start time.Time, errp *error) {
	if rec != nil {
		h.writeAccessLine(o, rec, start, *errp)
	}
}

func (h *Handler) writeAccessLine(o *outcome, rec *accessRecorder, start time.Time, err error) {
	ce := h.access.Check(zapcore.InfoLevel, "handled request")
	if ce == nil {
		return
	}
	r := o.r
	status := rec.status
	if status == 0 && err != nil {
		status = statusOf(err) // Caddy's error handling answers after us
	}
	// The server cancels the request's context when the client goes away.
	aborted := r.Context().Err() != nil
	verdict := o.verdict
	if verdict == "" {
		verdict = events.VerdictAllowed
	}
	_, port, _ := net.SplitHostPort(r.RemoteAddr)
	f := make([]zap.Field, 0, 32)
	f = append(f,
		zap.String("transaction.id", o.id),
		zap.String("event.kind", "event"),
		zap.String("event.category", "web"),
		zap.String("event.outcome", eventOutcome(status, aborted)),
		zap.Int64("event.duration", time.Since(start).Nanoseconds()),
		zap.String("source.ip", o.clientIP),
		zap.String("source.port", port),
		zap.String("http.request.method", r.Method),
		zap.String("http.version", strings.TrimPrefix(r.Proto, "HTTP/")),
		zap.String("url.domain", r.Host),
		zap.String("url.original", events.Truncate(events.RedactURI(r.RequestURI), 4096)),
		zap.String("user_agent.original", events.Truncate(r.UserAgent(), 512)),
		zap.Int64("http.request.body.bytes", r.ContentLength),
		zap.Object("http.request.headers", caddyhttp.LoggableHTTPHeader{Header: events.RedactHeader(r.Header)}),
		zap.Int("http.response.status_code", status),
		zap.Int64("http.response.body.bytes", rec.bytes),
		zap.String("mamori.verdict", verdict),
	)
	if r.TLS != nil {
		f = append(f, zap.String("tls.version", tls.VersionName(r.TLS.Version)))
	}
	if o.guard != "" {
		f = append(f, zap.String("mamori.guard", o.guard))
	}
	if o.rule != "" {
		f = append(f, zap.String("rule.id", o.rule))
	}
	if len(o.ruleIDs) > 0 {
		f = append(f, zap.Ints("mamori.rule_ids", o.ruleIDs),
			zap.Int("mamori.anomaly.inbound", o.inbound), zap.Int("mamori.anomaly.outbound", o.outbound))
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		if v, ok := repl.Get("http.reverse_proxy.status_code"); ok {
			f = append(f, zap.Any("mamori.upstream.status_code", v))
		}
		if v, ok := repl.Get("http.reverse_proxy.upstream.duration"); ok {
			if d, ok := v.(time.Duration); ok {
				f = append(f, zap.Float64("mamori.upstream.duration", d.Seconds()))
			}
		}
		if v, ok := repl.Get("http.reverse_proxy.upstream.hostport"); ok {
			f = append(f, zap.Any("mamori.upstream.address", v))
		}
	}
	if aborted {
		f = append(f, zap.Bool("mamori.aborted", true))
	}
	if err != nil {
		f = append(f, zap.String("error.message", events.Truncate(err.Error(), 512)))
	}
	ce.Write(f...)
}

func eventOutcome(status int, aborted bool) string {
	switch {
	case aborted || status >= 400:
		return "failure"
	case status == 0:
		return "unknown"
	}
	return "success"
}

// record notes the WAF's verdict for the access log and counts it.
func (o *outcome) record(v waf.Verdict, outcome string) {
	rule := ""
	if len(v.Matches) > 0 {
		o.ruleIDs = v.RuleIDs()
		o.inbound, o.outbound = v.InboundScore, v.OutboundScore
		rule = strconv.Itoa(v.Matches[0].ID)
	}
	if v.Interruption != nil {
		rule = strconv.Itoa(v.Interruption.RuleID)
	}
	wafGuard := ""
	if outcome == events.VerdictBlocked || outcome == events.VerdictDetected {
		wafGuard = "waf"
	}
	o.note(outcome, wafGuard, rule)
	if o.unsafe != nil {
		// The upstream's headers were refused (refuseHeaders).
		o.verdict, o.guard, o.rule = events.VerdictBlocked, "headers", "unsafe-response-header"
	}
	m := o.h.metrics
	m.Request(o.verdict, v.InboundScore, v.OutboundScore, true)
	if outcome == events.VerdictBlocked {
		m.Refused("waf", rule)
	}
	if o.unsafe != nil {
		m.Refused("headers", "unsafe-response-header")
	}
	if outcome != events.VerdictAllowed {
		m.Event("waf", outcome, rule)
	}
}

// verdictRank orders verdicts by strength.
var verdictRank = map[string]int{
	events.VerdictAllowed: 1, events.VerdictFlagged: 2, events.VerdictDetected: 3, events.VerdictBlocked: 4,
}

// note keeps the strongest verdict seen for the request, with its guard
// and rule, for the access log: a guard's detect-mode decision before the
// WAF is not overwritten by the WAF's "allowed".
func (o *outcome) note(verdict, guard, rule string) {
	if verdictRank[verdict] <= verdictRank[o.verdict] {
		return
	}
	o.verdict = verdict
	if guard != "" && verdict != events.VerdictAllowed {
		o.guard, o.rule = guard, rule
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

// ChainWriter is the log writer `mamori_chain`: it seals every line with
// the HMAC chain (see internal/logchain) and writes it to another writer,
// usually a file, resuming the chain from the file at start.
//
//	output mamori_chain {
//		key {env.MAMORI_LOG_KEY}
//		output file /var/log/mamori/events.log { roll_keep_for 400d }
//	}
type ChainWriter struct {
	// Key is the HMAC key (16 bytes or more); placeholders such as
	// {env.MAMORI_LOG_KEY} are replaced at load.
	Key string `json:"key"`
	// OutputRaw is the writer the sealed lines go to.
	// (JSON key "writer": "output" names this module itself.)
	OutputRaw json.RawMessage `json:"writer" caddy:"namespace=caddy.logging.writers inline_key=output"`

	output caddy.WriterOpener
	key    []byte
}

// CaddyModule returns the Caddy module information.
func (ChainWriter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.logging.writers.mamori_chain", New: func() caddy.Module { return new(ChainWriter) }}
}

// Provision loads the inner writer and resolves the key.
func (cw *ChainWriter) Provision(ctx caddy.Context) error {
	if cw.OutputRaw == nil {
		return errors.New("mamori_chain: an output is required")
	}
	mod, err := ctx.LoadModule(cw, "OutputRaw")
	if err != nil {
		return fmt.Errorf("mamori_chain: %w", err)
	}
	cw.output = mod.(caddy.WriterOpener)
	if cw.Key == "" {
		return errors.New("mamori_chain: key is required")
	}
	if cw.key, err = resolveKey(cw.Key); err != nil {
		return fmt.Errorf("mamori_chain: %w", err)
	}
	return nil
}

func (cw ChainWriter) String() string { return "mamori_chain:" + fmt.Sprint(cw.output) }

// WriterKey shares one chain per inner writer and key: a new key (a
// reload) opens a new writer, which resumes the file's sequence.
func (cw ChainWriter) WriterKey() string {
	return "mamori_chain:" + keyID(cw.key) + ":" + cw.output.WriterKey()
}

// keyID names a key without revealing it.
func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("mamori-chain-key-id\n"), key...))
	return hex.EncodeToString(sum[:6])
}

// OpenWriter opens the inner writer and resumes its chain.
func (cw ChainWriter) OpenWriter() (io.WriteCloser, error) {
	w, err := cw.output.OpenWriter()
	if err != nil {
		return nil, err
	}
	return chain(cw.output, w, cw.key)
}

// UnmarshalCaddyfile reads `mamori_chain { key <key>; output <writer> ... }`.
func (cw *ChainWriter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "key":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			cw.Key = v
		case "output":
			if !d.NextArg() {
				return d.ArgErr()
			}
			name := d.Val()
			wo, err := unmarshalWriter(d, name)
			if err != nil {
				return err
			}
			cw.OutputRaw = caddyconfig.JSONModuleObject(wo, "output", name, nil)
		default:
			return d.Errf("mamori_chain: unknown option %q", d.Val())
		}
	}
	if cw.Key == "" || cw.OutputRaw == nil {
		return d.Err("mamori_chain needs key and output")
	}
	return nil
}

// SyslogWriter is the log writer `mamori_syslog`: every line goes to a
// syslog collector as an RFC 5424 message over TCP or TLS with
// octet-counting framing, from a bounded in-memory queue that never blocks
// the request (internal/syslog).
//
//	output mamori_syslog tcp://127.0.0.1:514 | tls://siem.example.com:6514 {
//		ca_file /etc/ssl/siem-ca.pem
//		server_name siem.example.com
//		facility 16
//		app_name mamori
//		queue_size 10000
//	}
type SyslogWriter struct {
	// Address is tcp://host:port or tls://host:port.
	Address string `json:"address"`
	// CAFile is a PEM bundle of the collector's CA (tls); default the
	// system roots.
	CAFile string `json:"ca_file,omitempty"`
	// ServerName is the name checked in the collector's certificate
	// (tls); default the address's host.
	ServerName string `json:"server_name,omitempty"`
	// Facility is the syslog facility number, 0-23; default 16 (local0).
	Facility int `json:"facility,omitempty"`
	// AppName is the APP-NAME header field; default "mamori".
	AppName string `json:"app_name,omitempty"`
	// Hostname is the HOSTNAME header field; default the machine's name.
	Hostname string `json:"hostname,omitempty"`
	// QueueSize is how many lines wait while the collector is down or
	// slow; when full the oldest are dropped and counted in
	// mamori_log_shipper_dropped_total. Default 10000.
	QueueSize int `json:"queue_size,omitempty"`

	cfg syslog.Config
}

// CaddyModule returns the Caddy module information.
func (SyslogWriter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.logging.writers.mamori_syslog", New: func() caddy.Module { return new(SyslogWriter) }}
}

// Provision checks the address and loads the CA file.
func (sw *SyslogWriter) Provision(caddy.Context) error {
	u, err := url.Parse(sw.Address)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "tls") || u.Port() == "" {
		return fmt.Errorf("mamori_syslog: address %q must be tcp://host:port or tls://host:port", sw.Address)
	}
	sw.cfg = syslog.Config{Network: u.Scheme, Address: u.Host, Facility: sw.Facility, AppName: sw.AppName,
		Hostname: sw.Hostname, QueueSize: sw.QueueSize}
	if u.Scheme == "tls" {
		tc := &tls.Config{ServerName: cmpOr(sw.ServerName, u.Hostname()), MinVersion: tls.VersionTLS12}
		if sw.CAFile != "" {
			pem, err := os.ReadFile(sw.CAFile)
			if err != nil {
				return fmt.Errorf("mamori_syslog: ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return fmt.Errorf("mamori_syslog: ca_file %s holds no PEM certificate", sw.CAFile)
			}
		}
		sw.cfg.TLS = tc
	}
	if sw.Facility < 0 || sw.Facility > 23 {
		return fmt.Errorf("mamori_syslog: facility %d is not 0 to 23", sw.Facility)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (sw SyslogWriter) String() string { return "mamori_syslog:" + sw.Address }

// WriterKey shares one shipper per collector address.
func (sw SyslogWriter) WriterKey() string { return "mamori_syslog:" + sw.Address }

// OpenWriter starts the shipper.
func (sw SyslogWriter) OpenWriter() (io.WriteCloser, error) {
	cfg := sw.cfg
	s, err := syslog.New(cfg)
	if err != nil {
		return nil, err
	}
	shippers.Store(sw.Address, s)
	return &closingShipper{Shipper: s, address: sw.Address}, nil
}

type closingShipper struct {
	*syslog.Shipper
	address string
}

func (c *closingShipper) Close() error {
	shippers.CompareAndDelete(c.address, c.Shipper)
	return c.Shipper.Close()
}

// shippers are the open shippers by collector address, for metrics.
var shippers sync.Map

// UnmarshalCaddyfile reads `mamori_syslog <address> { ... }`.
func (sw *SyslogWriter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.Args(&sw.Address) {
		return d.Err("mamori_syslog needs an address: tcp://host:port or tls://host:port")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	if u, err := url.Parse(sw.Address); err != nil || (u.Scheme != "tcp" && u.Scheme != "tls") || u.Port() == "" {
		return d.Errf("mamori_syslog: address %q must be tcp://host:port or tls://host:port", sw.Address)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		switch option {
		case "ca_file":
			sw.CAFile = v
		case "server_name":
			sw.ServerName = v
		case "app_name":
			sw.AppName = v
		case "hostname":
			sw.Hostname = v
		case "facility", "queue_size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (option == "facility" && n > 23) || (option == "queue_size" && n < 1) {
				return d.Errf("mamori_syslog: %s %q is out of range", option, v)
			}
			if option == "facility" {
				sw.Facility = n
			} else {
				sw.QueueSize = n
			}
		default:
			return d.Errf("mamori_syslog: unknown option %q", option)
		}
	}
	return nil
}

// shipperCollector exports the shippers' counters, which live across
// reloads, into each configuration's registry.
type shipperCollector struct{}

var (
	droppedDesc = prometheus.NewDesc("mamori_log_shipper_dropped_total",
		"Log lines a syslog shipper dropped because its queue was full (the log file still has them).", []string{"collector"}, nil)
	queuedDesc = prometheus.NewDesc("mamori_log_shipper_queued",
		"Log lines waiting for a syslog collector.", []string{"collector"}, nil)
	sentDesc = prometheus.NewDesc("mamori_log_shipper_sent_total",
		"Log lines sent to a syslog collector.", []string{"collector"}, nil)
)

func (shipperCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- droppedDesc
	ch <- queuedDesc
	ch <- sentDesc
}

func (shipperCollector) Collect(ch chan<- prometheus.Metric) {
	shippers.Range(func(k, v any) bool {
		s := v.(*syslog.Shipper)
		addr := k.(string)
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.Dropped()), addr)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued()), addr)
		ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.Sent()), addr)
		return true
	})
}

func registerShipperMetrics(reg prometheus.Registerer) error {
	err := reg.Register(shipperCollector{})
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// Interface guards
var (
	_ caddy.Provisioner     = (*ChainWriter)(nil)
	_ caddy.WriterOpener    = (*ChainWriter)(nil)
	_ caddyfile.Unmarshaler = (*ChainWriter)(nil)
	_ caddy.Provisioner     = (*SyslogWriter)(nil)
	_ caddy.WriterOpener    = (*SyslogWriter)(nil)
	_ caddyfile.Unmarshaler = (*SyslogWriter)(nil)
)
