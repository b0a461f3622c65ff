// Package accesslog is the schema of mamori's access-log line (S5): one
// JSON line per request that reaches the handler — allowed, refused by
// any guard, aborted by the client or failed upstream — with ECS field
// names where ECS has one and mamori.* for the rest (docs/logs.md).
// Secrets are masked here (S8): the request target and headers pass
// through internal/events' redaction. The Caddy handler fills a Line
// and writes Fields; nothing here needs Caddy.
package accesslog

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mamori-waf/mamori/internal/events"
)

// Line is what one access-log line says about a request.
type Line struct {
	// RequestID is mamori's request ID (transaction.id).
	RequestID string
	// ClientIP is the real client (after trusted proxies); ClientPort the
	// connection's port.
	ClientIP, ClientPort string
	// Method, Proto ("HTTP/1.1"), Host, RequestURI (as sent) and
	// UserAgent are the request's.
	Method, Proto, Host, RequestURI, UserAgent string
	// Header are the request's headers (masked when written).
	Header http.Header
	// TLSVersion is the TLS version of the connection, 0 without TLS.
	TLSVersion uint16
	// RequestBodyBytes is how many body bytes arrived.
	RequestBodyBytes int64
	// Status is the status the client got (0: none); ResponseBodyBytes
	// how many body bytes it got.
	Status            int
	ResponseBodyBytes int64
	// Duration is the time from the request's arrival to the line.
	Duration time.Duration
	// Aborted marks a response the client did not get whole (CutShort).
	Aborted bool
	// Record is the request's decisions: the strongest verdict and what
	// gave it (Verdict "" is "allowed"), the WAF rules that matched with
	// the anomaly scores.
	Record
	// Upstream is what the reverse proxy reported, when it ran.
	Upstream Upstream
	// Err is the handler chain's error, if any.
	Err error
}

// Upstream is the reverse proxy's report about the upstream.
type Upstream struct {
	// Status is the upstream's status code; nil when it did not answer.
	Status any
	// Duration is how long the upstream took; nil when unknown.
	Duration *time.Duration
	// Address is the upstream's host:port; nil when none was picked.
	Address any
}

// Message is the access line's message.
const Message = "handled request"

// Fields are the line's fields, in their order in the line.
func (l *Line) Fields() []zap.Field {
	verdict := l.Verdict
	if verdict == "" {
		verdict = events.VerdictAllowed
	}
	f := make([]zap.Field, 0, 32)
	f = append(f,
		zap.String("transaction.id", l.RequestID),
		zap.String("event.kind", "event"),
		zap.String("event.category", "web"),
		zap.String("event.outcome", Outcome(l.Status, l.Aborted)),
		zap.Int64("event.duration", l.Duration.Nanoseconds()),
		zap.String("source.ip", l.ClientIP),
		zap.String("source.port", l.ClientPort),
		zap.String("http.request.method", l.Method),
		zap.String("http.version", strings.TrimPrefix(l.Proto, "HTTP/")),
		zap.String("url.domain", l.Host),
		zap.String("url.original", events.Truncate(events.RedactURI(l.RequestURI), 4096)),
		zap.String("user_agent.original", events.Truncate(l.UserAgent, 512)),
		zap.Int64("http.request.body.bytes", l.RequestBodyBytes), // what arrived, not the declared length
		zap.Object("http.request.headers", header(events.RedactHeader(l.Header))),
		zap.Int("http.response.status_code", l.Status),
		zap.Int64("http.response.body.bytes", l.ResponseBodyBytes),
		zap.String("mamori.verdict", verdict),
	)
	if l.TLSVersion != 0 {
		f = append(f, zap.String("tls.version", tls.VersionName(l.TLSVersion)))
	}
	if l.Guard != "" {
		f = append(f, zap.String("mamori.guard", l.Guard))
	}
	if l.Rule != "" {
		f = append(f, zap.String("rule.id", l.Rule))
	}
	if len(l.RuleIDs) > 0 {
		f = append(f, zap.Ints("mamori.rule_ids", l.RuleIDs),
			zap.Int("mamori.anomaly.inbound", l.Inbound), zap.Int("mamori.anomaly.outbound", l.Outbound))
	}
	if l.Upstream.Status != nil {
		f = append(f, zap.Any("mamori.upstream.status_code", l.Upstream.Status))
	}
	if l.Upstream.Duration != nil {
		f = append(f, zap.Float64("mamori.upstream.duration", l.Upstream.Duration.Seconds()))
	}
	if l.Upstream.Address != nil {
		f = append(f, zap.Any("mamori.upstream.address", l.Upstream.Address))
	}
	if l.Aborted {
		f = append(f, zap.Bool("mamori.aborted", true))
	}
	if l.Err != nil {
		f = append(f, zap.String("error.message", events.Truncate(l.Err.Error(), 512)))
	}
	return f
}

// Outcome is the line's event.outcome: "failure" for a response cut
// short or a status of 400 or more, "unknown" when nothing was answered,
// else "success".
func Outcome(status int, aborted bool) string {
	switch {
	case aborted || status >= 400:
		return "failure"
	case status == 0:
		return "unknown"
	}
	return "success"
}

// CutShort reports a response the client did not get whole: the handler
// chain unwound with a panic (the proxy aborting on a client that hung
// up), or the request was cancelled (the client left) before an answer
// was complete: none written, the proxy's 499, or an error. A context
// cancelled after the whole answer went out — a client that read it and
// closed the connection while the handler was finishing — is not one.
func CutShort(panicking bool, cancelled bool, status int, err error) bool {
	return panicking || (cancelled && (status == 0 || status == 499 || err != nil))
}

// header writes request headers as Caddy's own access log does (each a
// list of values), with its masking of credentials on top of mamori's.
type header http.Header

func (h header) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for key, val := range h {
		switch strings.ToLower(key) {
		case "cookie", "set-cookie", "authorization", "proxy-authorization":
			val = []string{"REDACTED"}
		}
		if err := enc.AddArray(key, values(val)); err != nil {
			return err
		}
	}
	return nil
}

type values []string

func (v values) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, s := range v {
		enc.AppendString(s)
	}
	return nil
}
