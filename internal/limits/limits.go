// Package limits refuses oversized and malformed-by-size requests before
// anything reads or parses their body (checklist V1): URI length (414),
// header count and total size (431), body size (413, a larger limit for
// multipart uploads), argument count and name and value length, JSON
// nesting depth, and a method allow-list (405 with Allow).
//
// What net/http already enforces before a handler runs is not repeated:
// headers larger than the server's MaxHeaderBytes (1 MiB in Caddy by
// default) get 431 from Go itself, without an event. Everything below
// that reaches Check, whose defaults are far smaller.
//
// The defaults are chosen so that a normal CMS never reaches them: each
// default's doc comment says what it is measured against.
package limits

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/mamori-waf/mamori/internal/request"
)

// Defaults. Each is above what Movable Type or WordPress send in normal
// use and above what real browser traffic sends (the tuning part of the
// real-traffic corpus, tests/eval: 8,304 recorded browser requests).
const (
	// DefaultURILength is twice the longest request target of the recorded
	// browser traffic (16,630 bytes: a search page's state in its query;
	// 4 in 8,304 were over Apache's 8,190-byte LimitRequestLine, which an
	// upstream Apache still applies itself).
	DefaultURILength = 32 << 10
	// DefaultHeaderCount is Apache's LimitRequestFields.
	DefaultHeaderCount = 100
	// DefaultHeaderBytes is twice nginx's large_client_header_buffers
	// (4 × 8 KiB): room for WordPress's many cookies.
	DefaultHeaderBytes = 64 << 10
	// DefaultBodyBytes is PHP's default post_max_size (8 MiB): a form or
	// JSON post larger than that never reached WordPress anyway.
	DefaultBodyBytes = 8 << 20
	// DefaultUploadBytes (multipart bodies) is above Movable Type's
	// default CGIMaxUpload (20,480,000 bytes).
	DefaultUploadBytes = 32 << 20
	// DefaultArgCount is four times PHP's max_input_vars (1000), which
	// WordPress's menu editor is known to exceed on large menus.
	DefaultArgCount = 4000
	// DefaultArgNameLength: CMS field names are short ("content-field-12",
	// "menu-item-attr-title[123]"), but in real browser traffic a
	// telemetry query's only "name" is often a JSON blob with no "=":
	// 2.3 % of the recorded requests had a name over 256 bytes, the
	// longest 8,625. The default is about twice that.
	DefaultArgNameLength = 16 << 10
	// DefaultArgValueLength applies to query values and to values of
	// url-encoded bodies: an entry's text is rarely over 100 KiB.
	DefaultArgValueLength = 1 << 20
	// DefaultJSONDepth: Movable Type's content data and WordPress's
	// block editor nest under 20 levels.
	DefaultJSONDepth = 64
)

// DefaultMethods are the methods a CMS and its REST APIs use (Movable
// Type's Data API and WordPress's REST API use PUT, PATCH and DELETE).
// TRACE, TRACK, CONNECT and WebDAV methods are refused.
var DefaultMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Limits are the request limits. A zero field takes its default; -1
// switches a numeric limit off.
type Limits struct {
	// URILength is the longest request target (path and query, as sent),
	// in bytes; longer gets 414. Default 32 KiB.
	URILength int `json:"uri_length,omitempty"`
	// HeaderCount is the most header fields (Host included); more gets
	// 431. Default 100.
	HeaderCount int `json:"header_count,omitempty"`
	// HeaderBytes is the largest total of header names and values (plus
	// 4 bytes per field for ": " and CRLF); larger gets 431. Default 64 KiB.
	HeaderBytes int `json:"header_bytes,omitempty"`
	// BodyBytes is the largest body that is not multipart, by
	// Content-Length up front and by count while streaming; larger gets
	// 413. Default 8 MiB.
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// UploadBytes is the largest multipart/form-data body. Default 32 MiB.
	UploadBytes int64 `json:"upload_bytes,omitempty"`
	// ArgCount is the most arguments in the query plus a url-encoded
	// body; more gets 400. Default 4000.
	ArgCount int `json:"arg_count,omitempty"`
	// ArgNameLength is the longest argument name (as sent, encoded);
	// longer gets 400. Default 16 KiB.
	ArgNameLength int `json:"arg_name_length,omitempty"`
	// ArgValueLength is the longest argument value in the query or a
	// url-encoded body (encoded length); longer gets 400. Default 1 MiB.
	ArgValueLength int `json:"arg_value_length,omitempty"`
	// JSONDepth is the deepest nesting of arrays and objects in a JSON
	// body; deeper gets 400. Default 64.
	JSONDepth int `json:"json_depth,omitempty"`
	// Methods is the allow-list of methods; others get 405 with Allow.
	// Default GET HEAD POST PUT PATCH DELETE OPTIONS.
	Methods []string `json:"methods,omitempty"`
}

// Override replaces some limits for one path.
type Override struct {
	// Path is an exact path, or a prefix ending in "/".
	Path string `json:"path"`
	// Limits are the limits that change under Path; zero fields keep
	// the general value.
	Limits
}

// Config is the limits block: general limits and per-path overrides.
type Config struct {
	Limits
	// At lists per-path overrides; where several match, the longest
	// path wins field by field over shorter ones.
	At []Override `json:"at,omitempty"`
}

// Refusal is a limit a request broke.
type Refusal struct {
	// Rule names the limit ("uri-length", "body-size", ...).
	Rule string
	// Reason says what was measured against what.
	Reason string
	// Status is the HTTP status to answer with.
	Status int
	// Allow is the Allow header value for a 405.
	Allow string
}

func (r *Refusal) Error() string { return r.Rule + ": " + r.Reason }

// Compiled is a Config with its defaults resolved, ready for requests.
type Compiled struct {
	base resolved
	at   []compiledOverride // shortest path first
}

type compiledOverride struct {
	path string
	lim  resolved
}

// resolved limits: every field set, -1 (off) turned into "no limit".
type resolved struct {
	uriLength, headerCount, headerBytes int
	bodyBytes, uploadBytes              int64
	argCount, argName, argValue, depth  int
	methods                             map[string]bool
	allow                               string
}

const unlimited = int(^uint(0) >> 1)

// Compile checks the config and resolves defaults.
func (c Config) Compile() (*Compiled, error) {
	base, err := resolve(c.Limits)
	if err != nil {
		return nil, err
	}
	out := &Compiled{base: base}
	for _, o := range c.At {
		if !strings.HasPrefix(o.Path, "/") {
			return nil, fmt.Errorf("limits at %q: path must start with /", o.Path)
		}
		if err := validate(o.Limits); err != nil {
			return nil, fmt.Errorf("limits at %s: %w", o.Path, err)
		}
		out.at = append(out.at, compiledOverride{path: o.Path, lim: resolvedOverlay(o.Limits)})
	}
	// Shorter paths first, so that longer (more specific) ones overlay them.
	sort.SliceStable(out.at, func(a, b int) bool { return len(out.at[a].path) < len(out.at[b].path) })
	return out, nil
}

// resolvedOverlay keeps an override's raw values (0 = inherit) for merging.
func resolvedOverlay(l Limits) resolved {
	r := resolved{
		uriLength: l.URILength, headerCount: l.HeaderCount, headerBytes: l.HeaderBytes,
		bodyBytes: l.BodyBytes, uploadBytes: l.UploadBytes, argCount: l.ArgCount,
		argName: l.ArgNameLength, argValue: l.ArgValueLength, depth: l.JSONDepth,
	}
	if len(l.Methods) > 0 {
		r.methods, r.allow = methodSet(l.Methods)
	}
	return r
}

func validate(l Limits) error {
	for name, v := range map[string]int64{
		"uri_length": int64(l.URILength), "header_count": int64(l.HeaderCount), "header_bytes": int64(l.HeaderBytes),
		"body_bytes": l.BodyBytes, "upload_bytes": l.UploadBytes, "arg_count": int64(l.ArgCount),
		"arg_name_length": int64(l.ArgNameLength), "arg_value_length": int64(l.ArgValueLength), "json_depth": int64(l.JSONDepth),
	} {
		if v < -1 {
			return fmt.Errorf("%s %d: must be positive, or -1 for no limit", name, v)
		}
	}
	for _, m := range l.Methods {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t\r\n:,") {
			return fmt.Errorf("method %q: must be an upper-case HTTP method token", m)
		}
	}
	return nil
}

func resolve(l Limits) (resolved, error) {
	if err := validate(l); err != nil {
		return resolved{}, err
	}
	or := func(v, def int) int {
		switch v {
		case 0:
			return def
		case -1:
			return unlimited
		}
		return v
	}
	or64 := func(v, def int64) int64 {
		switch v {
		case 0:
			return def
		case -1:
			return int64(unlimited)
		}
		return v
	}
	methods := l.Methods
	if len(methods) == 0 {
		methods = DefaultMethods
	}
	r := resolved{
		uriLength:   or(l.URILength, DefaultURILength),
		headerCount: or(l.HeaderCount, DefaultHeaderCount),
		headerBytes: or(l.HeaderBytes, DefaultHeaderBytes),
		bodyBytes:   or64(l.BodyBytes, DefaultBodyBytes),
		uploadBytes: or64(l.UploadBytes, DefaultUploadBytes),
		argCount:    or(l.ArgCount, DefaultArgCount),
		argName:     or(l.ArgNameLength, DefaultArgNameLength),
		argValue:    or(l.ArgValueLength, DefaultArgValueLength),
		depth:       or(l.JSONDepth, DefaultJSONDepth),
	}
	r.methods, r.allow = methodSet(methods)
	return r, nil
}

func methodSet(ms []string) (map[string]bool, string) {
	set := make(map[string]bool, len(ms))
	for _, m := range ms {
		set[m] = true
	}
	return set, strings.Join(ms, ", ")
}

// MaxBody is the largest body any path accepts (for sizing the WAF's
// own body limit, which must not refuse first).
func (c *Compiled) MaxBody() int64 {
	m := max(c.base.bodyBytes, c.base.uploadBytes)
	for _, o := range c.at {
		m = max(m, o.lim.bodyBytes, o.lim.uploadBytes)
	}
	return m
}

// For returns the limits that apply to a request, from its view: an
// override applies when its path matches the normalised path or the
// script the path runs (request.View.Paths), so "/x/../cgi-bin/mt/mt.cgi"
// and "/cgi-bin/mt/mt.cgi/" (PATH_INFO) find the override of the script
// the upstream will run. Overrides only ever widen or narrow by explicit
// configuration.
func (c *Compiled) For(v *request.View) *resolved {
	if len(c.at) == 0 {
		return &c.base
	}
	var merged *resolved
	for _, o := range c.at {
		if !slices.ContainsFunc(v.Paths(), func(p string) bool { return pathMatches(o.path, p) }) {
			continue
		}
		if merged == nil {
			m := c.base
			merged = &m
		}
		overlay(merged, &o.lim)
	}
	if merged == nil {
		return &c.base
	}
	return merged
}

func overlay(dst, src *resolved) {
	set := func(d *int, v int) {
		switch v {
		case 0:
		case -1:
			*d = unlimited
		default:
			*d = v
		}
	}
	set64 := func(d *int64, v int64) {
		switch v {
		case 0:
		case -1:
			*d = int64(unlimited)
		default:
			*d = v
		}
	}
	set(&dst.uriLength, src.uriLength)
	set(&dst.headerCount, src.headerCount)
	set(&dst.headerBytes, src.headerBytes)
	set64(&dst.bodyBytes, src.bodyBytes)
	set64(&dst.uploadBytes, src.uploadBytes)
	set(&dst.argCount, src.argCount)
	set(&dst.argName, src.argName)
	set(&dst.argValue, src.argValue)
	set(&dst.depth, src.depth)
	if src.methods != nil {
		dst.methods, dst.allow = src.methods, src.allow
	}
}

func pathMatches(pattern, p string) bool {
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(p, pattern) || p+"/" == pattern
	}
	return p == pattern
}

// Check decides everything that can be decided before the body is read:
// method, URI length, headers, Content-Length and the query's arguments
// as the CMS reads them (the view's readings: CGI.pm splits on ";" as
// well as "&", PHP nests arrays). v is the request's view (request.New);
// nil reads the request as every dialect would. When Check returns nil
// and the request has a body, the caller wraps r.Body with Body so the
// rest is enforced while the body streams.
func (c *Compiled) Check(r *http.Request, v *request.View) *Refusal {
	if v == nil {
		v = request.New(r, request.Union)
	}
	return c.For(v).check(r, v)
}

func (l *resolved) check(r *http.Request, v *request.View) *Refusal {
	if !l.methods[r.Method] {
		return &Refusal{Rule: "method", Reason: fmt.Sprintf("method %.32q is not allowed", r.Method), Status: http.StatusMethodNotAllowed, Allow: l.allow}
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if len(uri) > l.uriLength {
		return &Refusal{Rule: "uri-length", Reason: fmt.Sprintf("request target of %d bytes, limit %d", len(uri), l.uriLength), Status: http.StatusRequestURITooLong}
	}
	// net/http moved Host out of the map; it was one field on the wire.
	count, size := 1, len("Host")+len(r.Host)+4
	for name, values := range r.Header {
		count += len(values)
		for _, v := range values {
			size += len(name) + len(v) + 4
		}
	}
	if len(r.TransferEncoding) > 0 {
		count++
		size += len("Transfer-Encoding") + len("chunked") + 4
	}
	if count > l.headerCount {
		return &Refusal{Rule: "header-count", Reason: fmt.Sprintf("%d header fields, limit %d", count, l.headerCount), Status: http.StatusRequestHeaderFieldsTooLarge}
	}
	if size > l.headerBytes {
		return &Refusal{Rule: "header-size", Reason: fmt.Sprintf("%d bytes of headers, limit %d", size, l.headerBytes), Status: http.StatusRequestHeaderFieldsTooLarge}
	}
	if limit := l.bodyLimit(r); r.ContentLength > limit {
		return bodyRefusal(r.ContentLength, limit, "Content-Length")
	}
	return l.checkQuery(v)
}

// checkQuery applies the argument limits to the query's parameters as
// each of the view's readings has them: a name is measured with its PHP
// array keys, and the reading with the most parameters counts.
func (l *resolved) checkQuery(v *request.View) *Refusal {
	for _, rd := range v.Readings() {
		if len(rd.Query) > l.argCount {
			return argCountRefusal(l.argCount)
		}
		for _, f := range rd.Query {
			n := len(f.Name)
			for _, k := range f.Keys {
				n += len(k) + 2 // "[k]"
			}
			if n > l.argName {
				return argNameRefusal(l.argName)
			}
			if len(f.Value) > l.argValue {
				return argValueRefusal(l.argValue)
			}
		}
	}
	return nil
}

// queryArgs is the number of query parameters the CMS reads: the largest
// of the view's readings.
func queryArgs(v *request.View) int {
	n := 0
	for _, rd := range v.Readings() {
		n = max(n, len(rd.Query))
	}
	return n
}

func (l *resolved) bodyLimit(r *http.Request) int64 {
	if isMultipart(r.Header.Get("Content-Type")) {
		return l.uploadBytes
	}
	return l.bodyBytes
}

func bodyRefusal(n, limit int64, by string) *Refusal {
	return &Refusal{Rule: "body-size", Reason: fmt.Sprintf("body of %s %d bytes, limit %d", by, n, limit), Status: http.StatusRequestEntityTooLarge}
}

func isMultipart(ct string) bool {
	return len(ct) >= 10 && strings.EqualFold(ct[:10], "multipart/")
}

func bodyKind(ct string) int {
	if ct == "" {
		return kindOther
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return kindOther
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return kindForm
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return kindJSON
	}
	return kindOther
}
