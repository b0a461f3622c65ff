// Package events defines mamori's security events: one JSON object per
// blocked or flagged request, with Elastic Common Schema field names where
// ECS has one, written through zap under the logger name LoggerName so an
// operator can route them to a file or a collector of their own.
package events

import (
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerName is the zap logger name every event is written under. In a
// Caddyfile: log events { include mamori.events ... }.
const LoggerName = "mamori.events"

// Verdicts.
const (
	// VerdictBlocked: the request or response was refused.
	VerdictBlocked = "blocked"
	// VerdictDetected: detect mode; it would have been refused.
	VerdictDetected = "detected"
	// VerdictFlagged: rules matched, below the blocking threshold.
	VerdictFlagged = "flagged"
	// VerdictAllowed: nothing matched (access log only, never an event).
	VerdictAllowed = "allowed"
)

// Event is one security decision about one request.
type Event struct {
	// RequestID is mamori's own request ID (ECS transaction.id); the block
	// page shows it as the incident ID.
	RequestID string
	Time      time.Time
	ClientIP  string
	Host      string
	Method    string
	Path      string
	UserAgent string
	// Guard is the protection that decided ("waf").
	Guard string
	// Verdict is one of the Verdict constants.
	Verdict string
	// Status is the HTTP status the client got (0 if not yet known).
	Status int
	// RuleID and RuleName identify the rule that decided; for a flagged
	// request, the first matched rule.
	RuleID   string
	RuleName string
	// InboundScore and OutboundScore are CRS's anomaly scores.
	InboundScore  int
	OutboundScore int
	// Rules are the matched rules.
	Rules []Rule

	// Action, when set, is the ECS event.action instead of
	// "<guard>-<verdict>" (audit events: "login", "logout").
	Action string
	// Outcome is the ECS event.outcome ("success", "failure"), when known.
	Outcome string
	// Category replaces the ECS event.category (["authentication"] for
	// login audit); default web and intrusion_detection.
	Category []string
	// UserName is the account concerned (ECS user.name), never a password.
	UserName string
	// SessionRef is a hash identifying the session (mamori.session.ref),
	// never the cookie's value.
	SessionRef string
}

// ForRequest is an event about request r: the request ID, the time, the
// client (the real one, after trusted proxies), Host, method, escaped
// path and User-Agent. The caller sets the guard, verdict and rule.
func ForRequest(r *http.Request, requestID, clientIP string) *Event {
	return &Event{
		RequestID: requestID, Time: time.Now(), ClientIP: clientIP, Host: r.Host,
		Method: r.Method, Path: r.URL.EscapedPath(), UserAgent: r.UserAgent(),
	}
}

// Rule is one matched rule in an event.
type Rule struct {
	ID       int
	Message  string
	Severity string
	Tags     []string
	Phase    int
	Target   string
	// Match is the matched value, truncated and redacted.
	Match string
	// Data is the rule's logdata, truncated and redacted.
	Data string
}

// MaxMatchLength is how many bytes of a matched value an event keeps.
const MaxMatchLength = 120

// Fields renders the event as zap fields, ECS names first.
func (e *Event) Fields() []zap.Field {
	kind := []string{"allowed"}
	if e.Verdict == VerdictBlocked {
		kind = []string{"denied"}
	}
	category, action, eventKind := []string{"web", "intrusion_detection"}, e.Guard+"-"+e.Verdict, "alert"
	if len(e.Category) > 0 {
		category, eventKind = e.Category, "event"
	}
	if e.Action != "" {
		action = e.Action
	}
	f := []zap.Field{
		zap.String("event.kind", eventKind),
		zap.Strings("event.category", category),
		zap.Strings("event.type", kind),
		zap.String("event.action", action),
		zap.String("event.module", "mamori"),
		zap.String("transaction.id", e.RequestID),
		zap.String("source.ip", e.ClientIP),
		zap.String("url.domain", e.Host),
		zap.String("url.path", Truncate(e.Path, 2048)),
		zap.String("http.request.method", e.Method),
		zap.String("user_agent.original", Truncate(e.UserAgent, 512)),
	}
	if e.Status != 0 {
		f = append(f, zap.Int("http.response.status_code", e.Status))
	}
	if e.RuleID != "" {
		f = append(f, zap.String("rule.id", e.RuleID), zap.String("rule.name", e.RuleName))
	}
	if e.Outcome != "" {
		f = append(f, zap.String("event.outcome", e.Outcome))
	}
	if e.UserName != "" {
		f = append(f, zap.String("user.name", Truncate(e.UserName, 256)))
	}
	if e.SessionRef != "" {
		f = append(f, zap.String("mamori.session.ref", e.SessionRef))
	}
	f = append(f,
		zap.String("mamori.guard", e.Guard),
		zap.String("mamori.verdict", e.Verdict),
		zap.Int("mamori.anomaly.inbound", e.InboundScore),
		zap.Int("mamori.anomaly.outbound", e.OutboundScore),
		zap.Array("mamori.rules", rules(e.Rules)),
	)
	return f
}

// level is the log level of an event: blocked and detected at warn,
// flagged at info.
func level(verdict string) zapcore.Level {
	if verdict == VerdictBlocked || verdict == VerdictDetected {
		return zapcore.WarnLevel
	}
	return zapcore.InfoLevel
}

// Enabled reports whether log would write an event with this verdict, so a
// caller can skip building one (redaction included) that would be dropped.
func Enabled(log *zap.Logger, verdict string) bool {
	return log.Core().Enabled(level(verdict))
}

// Emit writes the event at its verdict's level.
func (e *Event) Emit(log *zap.Logger) {
	if ce := log.Check(level(e.Verdict), "request "+e.Verdict); ce != nil {
		ce.Write(e.Fields()...)
	}
}

type rules []Rule

func (rs rules) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for i := range rs {
		if err := enc.AppendObject(&rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// MarshalLogObject writes "id" first and as a number: CRS's regression
// runner (go-ftw) finds matched rules in a log by `{"id":N`.
func (r *Rule) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddInt("id", r.ID)
	enc.AddString("message", r.Message)
	if r.Severity != "" {
		enc.AddString("severity", r.Severity)
	}
	if r.Phase != 0 {
		enc.AddInt("phase", r.Phase)
	}
	if r.Target != "" {
		enc.AddString("target", r.Target)
	}
	if r.Match != "" {
		enc.AddString("match", r.Match)
	}
	if r.Data != "" {
		enc.AddString("data", r.Data)
	}
	if len(r.Tags) > 0 {
		return enc.AddArray("tags", zapcore.ArrayMarshalerFunc(func(a zapcore.ArrayEncoder) error {
			for _, t := range r.Tags {
				a.AppendString(t)
			}
			return nil
		}))
	}
	return nil
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[" + strconv.Itoa(len(s)-cut) + " more bytes]"
}

// sensitiveNames are parameter, cookie and header names whose values never
// reach a log: passwords, tokens, session cookies (Movable Type, WordPress
// and generic names).
var sensitiveNames = []string{
	"pass", "pwd", "secret", "token", "authorization", "session", "cookie",
	"api_key", "apikey", "access_key", "private_key", "credential",
	"mt_user", "mt_commenter", "wordpress_", "csrf", "nonce",
}

// IsSensitiveTarget reports whether a matched target (ARGS:password,
// REQUEST_COOKIES:mt_user, REQUEST_HEADERS:Authorization) carries a secret.
func IsSensitiveTarget(target string) bool {
	variable, name, _ := strings.Cut(target, ":")
	switch variable {
	case "REQUEST_COOKIES", "REQUEST_COOKIES_NAMES":
		return variable == "REQUEST_COOKIES"
	}
	name = strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if name == "" {
		return false
	}
	return isSensitiveName(name)
}

func isSensitiveName(name string) bool {
	if _, ok := secretNames.Load(name); ok {
		return true
	}
	for _, s := range sensitiveNames {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

// embeddedSecret finds name=value, "name":"value" and name: value pairs
// inside a larger value (a raw body, a query string, XML text) so that a
// rule matching the whole body does not carry a password into a log.
var embeddedSecret = regexp.MustCompile(`(?i)("?)([A-Za-z0-9_.\-\[\]]+)("?\s*[=:]\s*"?)([^&"\s,;<]*)`)

// MatchValue returns what an event may show of a matched value: nothing of
// a sensitive target, and values of sensitive names inside it masked.
func MatchValue(target, value string) string {
	if value == "" {
		return ""
	}
	if IsSensitiveTarget(target) {
		return Redacted
	}
	value = embeddedSecret.ReplaceAllStringFunc(value, func(pair string) string {
		m := embeddedSecret.FindStringSubmatch(pair)
		name := strings.ReplaceAll(strings.ToLower(m[2]), "-", "_")
		if m[4] == "" || !isSensitiveName(name) {
			return pair
		}
		return m[1] + m[2] + m[3] + Redacted
	})
	return Truncate(value, MaxMatchLength)
}

// NewRequestID returns a fresh, unguessable request ID: 15 random bytes,
// base32, 24 characters. It is never taken from the client.
func NewRequestID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}
