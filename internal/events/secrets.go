package events

import (
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/mamori-waf/mamori/internal/request"
)

// secretNames are exact parameter, cookie and header names (lower case)
// whose values never reach a log, added by CMS profiles (their
// SecretFields) and by operators (`log_secret_fields`). They extend the
// built-in sensitiveNames, which match as substrings. The set only grows:
// a name redacted once stays redacted after a reload, which errs on the
// safe side.
var secretNames sync.Map // lower-case name → struct{}

// AddSecretNames registers exact names whose values every log masks, in
// events' matched data, in access-log query strings and headers.
func AddSecretNames(names ...string) {
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" {
			secretNames.Store(n, struct{}{})
			secretNames.Store(strings.ReplaceAll(n, "-", "_"), struct{}{})
		}
	}
}

// IsSecretName reports whether a parameter, cookie or header name carries a
// secret: it contains one of the built-in sensitive words (pass, token,
// session, ...) or is one of the registered names.
func IsSecretName(name string) bool {
	lower := strings.ToLower(name)
	if _, ok := secretNames.Load(lower); ok {
		return true
	}
	return isSensitiveName(strings.ReplaceAll(lower, "-", "_"))
}

// secretHeaders are masked whatever their name says: credentials and
// session cookies (S8).
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
}

// RedactQuery masks the values of secret parameters in a raw query string,
// keeping its shape (names, order, other values) so the line stays useful.
// Pairs are split on "&" and ";" (CGI.pm reads both) and names decoded the
// lenient way the CMS decodes them (a bad escape elsewhere changes nothing),
// so "?x=%zz;password=SECRET" logs no SECRET.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	raw0 := raw
	var b strings.Builder
	changed := false
	for raw != "" {
		i := strings.IndexAny(raw, "&;")
		p, sep := raw, ""
		if i >= 0 {
			p, sep, raw = raw[:i], raw[i:i+1], raw[i+1:]
		} else {
			raw = ""
		}
		name, value, hasValue := strings.Cut(p, "=")
		if hasValue && value != "" && (IsSecretName(request.Unescape(name)) || looksLikeSecretValue(value)) {
			p = name + "=" + url.QueryEscape(Redacted)
			changed = true
		}
		b.WriteString(p)
		b.WriteString(sep)
	}
	if !changed {
		return raw0
	}
	return b.String()
}

// looksLikeSecretValue catches a secret in a parameter with an innocent
// name: a value that itself holds name=value pairs of secrets (a URL-encoded
// form carried in one parameter, as redirect targets do).
func looksLikeSecretValue(value string) bool {
	decoded := request.Unescape(value)
	if !strings.ContainsAny(decoded, "=:") {
		return false
	}
	return MatchValue("", decoded) != Truncate(decoded, MaxMatchLength)
}

// RedactURI masks secret query parameters in a request URI (path?query).
func RedactURI(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	return path + "?" + RedactQuery(query)
}

// RedactHeader returns a copy of h fit for a log: Authorization,
// Proxy-Authorization, Cookie and Set-Cookie masked, and so is every
// header whose name is a secret name (X-Auth-Token, X-WP-Nonce, ...).
func RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, values := range h {
		if secretHeaders[name] || IsSecretName(name) {
			masked := make([]string, len(values))
			for i := range masked {
				masked[i] = Redacted
			}
			out[name] = masked
			continue
		}
		out[name] = values
	}
	return out
}
