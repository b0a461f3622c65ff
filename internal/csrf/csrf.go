// Package csrf refuses cross-site state-changing requests (checklist V7).
//
// A request whose method is not safe (anything but GET, HEAD, OPTIONS and
// TRACE) and that carries the site's credentials (any Cookie, HTTP
// authentication the browser adds by itself) or targets a protected path
// (the profile's admin paths, the operator's protect prefixes) must come
// from the site itself: forgery rides on ambient credentials, and a
// cross-site request without any acts as no one (CORS calls between
// sibling hosts, sendBeacon telemetry, public forms), so it passes. The
// browser says where a request comes from in three headers, read in this
// order, the first one present deciding:
//
//  1. Sec-Fetch-Site (Fetch Metadata, every browser since 2023):
//     "same-origin" and "none" (typed in the address bar, a bookmark)
//     pass, "same-site" passes only when AllowSameSite is set, anything
//     else is cross-site;
//  2. Origin, compared with the request's own origin (scheme, host and
//     port) and the trusted origins; "null" (sandboxed frames, privacy
//     redirects, file: pages) is cross-origin;
//  3. Referer, reduced to its origin and compared the same way.
//
// A request with none of the three is either not from a browser or from a
// very old one. On protected paths (a CMS's admin screens) it is refused:
// OWASP's CSRF cheat sheet asks verification to fail closed where the
// stakes are high. Elsewhere it passes, so API clients, feed readers and
// XML-RPC tools keep working.
//
// What this does not defend against: a cross-site scripting hole on the
// site itself (its requests are same-origin), a sibling subdomain when
// AllowSameSite is on, requests made with GET that change state (the
// CMS's own fault; MT's __mode=logout is one), and non-browser clients
// holding a stolen session cookie (that is the session guard's job).
// CMS tokens (MT's magic_token, WordPress nonces) remain the first layer.
package csrf

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// Config is the CSRF guard's configuration. The zero value checks every
// unsafe request, protects no path (a profile adds its admin paths) and
// trusts no other origin.
type Config struct {
	// Off turns the guard off. It is on unless the operator says so.
	Off bool `json:"off,omitempty"`
	// TrustedOrigins are other origins ("https://www.example.com") whose
	// pages may send state-changing requests to this site.
	TrustedOrigins []string `json:"trusted_origins,omitempty"`
	// Protect are path prefixes where a state-changing request must carry
	// Sec-Fetch-Site, Origin or Referer; one without any is refused. The
	// profile's admin paths are always protected.
	Protect []string `json:"protect,omitempty"`
	// Exempt are path prefixes that are never checked: endpoints that
	// browsers legitimately reach with cross-site POSTs (a single sign-on
	// assertion consumer, a payment callback). Use sparingly.
	Exempt []string `json:"exempt,omitempty"`
	// AllowSameSite lets "Sec-Fetch-Site: same-site" requests (from a
	// sibling subdomain) pass. Off by default: a sibling subdomain is
	// often less trusted than the CMS.
	AllowSameSite bool `json:"allow_same_site,omitempty"`
}

// Guard decides whether a request is same-origin. It is safe for
// concurrent use; build it once with New.
type Guard struct {
	// std is the standard library's guard. It decides every request that
	// carries Sec-Fetch-Site, with the trusted origins as its exemption,
	// exactly as we would. It is not enough on its own: it compares
	// Origin with Host without the scheme (an http:// page passes for the
	// https:// site), ignores Referer, and lets a request with neither
	// Sec-Fetch-Site nor Origin pass (fail open), which admin paths must
	// not; and it has no same-site option. Those parts are ours.
	std           *http.CrossOriginProtection
	trusted       map[string]bool // canonical origins
	protect       []string
	exempt        []string
	allowSameSite bool
}

// New validates the configuration and builds the guard; adminPaths are
// the profile's admin paths (exact paths, or prefixes ending in "/").
func New(c Config, adminPaths []string) (*Guard, error) {
	g := &Guard{std: http.NewCrossOriginProtection(), trusted: map[string]bool{}, allowSameSite: c.AllowSameSite}
	for _, o := range c.TrustedOrigins {
		canon, err := ParseTrustedOrigin(o)
		if err != nil {
			return nil, err
		}
		g.trusted[canon] = true
		// The standard guard compares the Origin header byte for byte:
		// give it the browser's serialisation of the operator's origin.
		if err := g.std.AddTrustedOrigin(canon); err != nil {
			return nil, fmt.Errorf("trusted_origin %q: %w", o, err)
		}
	}
	for _, list := range [][]string{c.Protect, c.Exempt} {
		for _, p := range list {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("path %q must start with /", p)
			}
		}
	}
	g.protect = append(append(g.protect, adminPaths...), c.Protect...)
	g.exempt = append(g.exempt, c.Exempt...)
	return g, nil
}

// ParseTrustedOrigin checks a configured origin (scheme://host[:port],
// nothing else) and returns its canonical form.
func ParseTrustedOrigin(s string) (string, error) {
	canon, ok := canonicalOrigin(s)
	if !ok {
		return "", fmt.Errorf("trusted_origin %q is not an origin such as https://www.example.com (scheme http or https, a host, an optional port, nothing else)", s)
	}
	return canon, nil
}

// Header names that decide; responses to checked requests vary on them.
const (
	HeaderSecFetchSite = "Sec-Fetch-Site"
	HeaderOrigin       = "Origin"
	HeaderReferer      = "Referer"
)

// VaryHeaders is the Vary value for responses whose outcome the guard
// decided from the request's headers.
const VaryHeaders = "Sec-Fetch-Site, Origin, Referer"

// Rules a refusal names.
const (
	RuleSecFetchSite = "csrf-sec-fetch-site" // Sec-Fetch-Site said cross-site
	RuleOrigin       = "csrf-origin"         // Origin is another origin, null, or malformed
	RuleReferer      = "csrf-referer"        // Referer is another origin or malformed
	RuleNoSource     = "csrf-no-source"      // none of the three on a protected path
)

// Decision is the guard's answer for one request.
type Decision struct {
	// Checked is true when the request's method is unsafe and its path not
	// exempt: the response varies on the source headers.
	Checked bool
	// Allowed is false for a refused request.
	Allowed bool
	// Rule is the refusal's rule (one of the Rule constants), "" if allowed.
	Rule string
	// Reason says which header decided and why, for the event (also for a
	// cross-site request let through because it carries no credentials).
	Reason string
}

// Check decides about r from its method and headers and the path as the
// CMS reads it (v, the request view; nil reads r as every dialect would);
// it never reads the body.
func (g *Guard) Check(r *http.Request, v *request.View) Decision {
	if v == nil {
		v = request.New(r, request.Union)
	}
	p := v.Path
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return Decision{Allowed: true}
	}
	if g.matches(g.exempt, p) {
		return Decision{Allowed: true}
	}
	d := Decision{Checked: true, Allowed: true}
	// Forgery needs ambient credentials: a request from another site that
	// carries none of the site's cookies and no HTTP authentication the
	// browser added (ambientAuthorization) acts as no one, so it passes
	// (CORS API calls between sibling hosts, beacons, public forms), unless
	// it targets a protected path.
	credentialed := r.Header.Get("Cookie") != "" || ambientAuthorization(r.Header.Get("Authorization")) || g.matches(g.protect, p)
	deny := func(rule, reason string) Decision {
		if !credentialed {
			d.Reason = "without credentials: " + reason
			return d
		}
		d.Allowed, d.Rule, d.Reason = false, rule, reason
		return d
	}

	if site := r.Header.Get(HeaderSecFetchSite); site != "" {
		if site == "same-site" && g.allowSameSite {
			return d
		}
		if err := g.std.Check(r); err != nil {
			return deny(RuleSecFetchSite, fmt.Sprintf("Sec-Fetch-Site is %q and Origin %q is not trusted", truncate(site), truncate(r.Header.Get(HeaderOrigin))))
		}
		return d
	}

	self := requestOrigin(r)
	if values := r.Header.Values(HeaderOrigin); len(values) > 0 {
		origin := values[0]
		if len(values) > 1 {
			return deny(RuleOrigin, "Origin header sent more than once")
		}
		if origin == "null" {
			return deny(RuleOrigin, `Origin is "null" (sandboxed or opaque origin)`)
		}
		canon, ok := canonicalOrigin(origin)
		switch {
		case !ok:
			return deny(RuleOrigin, fmt.Sprintf("Origin %q is malformed", truncate(origin)))
		case canon == self || g.trusted[canon]:
			return d
		}
		return deny(RuleOrigin, fmt.Sprintf("Origin %q is not this site (%s) nor a trusted origin", truncate(origin), self))
	}

	if values := r.Header.Values(HeaderReferer); len(values) > 0 {
		ref := values[0]
		if len(values) > 1 {
			return deny(RuleReferer, "Referer header sent more than once")
		}
		canon, ok := refererOrigin(ref)
		switch {
		case !ok:
			// Not echoed: a Referer's path and query may hold secrets.
			return deny(RuleReferer, "Referer is malformed or not an absolute http(s) URL")
		case canon == self || g.trusted[canon]:
			return d
		}
		return deny(RuleReferer, fmt.Sprintf("Referer from %q is not this site (%s) nor a trusted origin", truncate(canon), self))
	}

	if g.matches(g.protect, p) {
		return deny(RuleNoSource, "none of Sec-Fetch-Site, Origin, Referer on a protected path")
	}
	return d
}

// matches reports whether p is under one of the patterns. A pattern
// without a trailing "/" also covers what follows it after a "/" (CGI
// PATH_INFO: /cgi-bin/mt/mt.cgi/x still runs mt.cgi).
func (g *Guard) matches(patterns []string, p string) bool {
	for _, pat := range patterns {
		if profile.PathMatches(pat, p) || strings.HasPrefix(p, strings.TrimSuffix(pat, "/")+"/") {
			return true
		}
	}
	return false
}

// requestOrigin is the origin the client addressed: https when the
// connection is TLS, the Host header's host and port.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host, port, ok := splitHostPort(r.Host, scheme)
	if !ok {
		return scheme + "://" + strings.ToLower(r.Host)
	}
	return join(scheme, host, port)
}

// canonicalOrigin parses an Origin value (scheme://host[:port]) into the
// browser's serialisation: lower case, the default port left out.
func canonicalOrigin(s string) (string, bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#@\\ \t") {
		return "", false
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port, ok := splitHostPort(rest, scheme)
	if !ok {
		return "", false
	}
	return join(scheme, host, port), true
}

// refererOrigin reduces a Referer URL to its canonical origin.
func refererOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port, ok := splitHostPort(u.Host, scheme)
	if !ok {
		return "", false
	}
	return join(scheme, host, port), true
}

// splitHostPort splits host[:port] (IPv6 in brackets) and fills in the
// scheme's default port.
func splitHostPort(hostport, scheme string) (host, port string, ok bool) {
	if hostport == "" {
		return "", "", false
	}
	host, port = hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
		if port == "" {
			return "", "", false
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return "", "", false
			}
		}
	} else if strings.HasPrefix(hostport, "[") {
		if !strings.HasSuffix(hostport, "]") {
			return "", "", false
		}
		host = hostport[1 : len(hostport)-1]
	} else if strings.Contains(hostport, ":") {
		return "", "", false // a bare IPv6 address or a bad port
	}
	if strings.Contains(host, ":") {
		if net.ParseIP(host) == nil {
			return "", "", false
		}
	} else if !validRegName(host) {
		return "", "", false
	}
	// One trailing dot names the same host (a fully qualified name);
	// nothing else may be left empty or end in a dot.
	host = strings.TrimSuffix(host, ".")
	if host == "" || strings.HasSuffix(host, ".") {
		return "", "", false
	}
	if port == "" {
		port = defaultPort[scheme]
	}
	port = strings.TrimLeft(port, "0")
	if port == "" {
		return "", "", false
	}
	return strings.ToLower(host), port, true
}

// validRegName reports whether host is a host name or IPv4 address as an
// origin carries it (browsers send IDNs as punycode): letters, digits and
// RFC 3986's unreserved and sub-delimiter characters, no brackets.
func validRegName(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~%!$&'()*+,;=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// join serialises an origin the way browsers do: the default port left
// out, IPv6 addresses in brackets.
func join(scheme, host, port string) string {
	if port == defaultPort[scheme] {
		if strings.Contains(host, ":") {
			return scheme + "://[" + host + "]"
		}
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

var defaultPort = map[string]string{"http": "80", "https": "443"}

// truncate keeps attacker-chosen header values short in reasons.
func truncate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// ambientAuthorization reports whether an Authorization header is one a
// browser adds by itself: HTTP authentication it remembers for the site
// (Basic, Digest) or negotiates with the operating system (Negotiate,
// NTLM), which a forged request from another site carries too. Any other
// scheme (Bearer, an API's own) is set by the page's script from a token
// it holds: another site cannot send the user's token, and a cross-origin
// script may only send the header after the server's CORS preflight
// allowed it, so such a request acts as whoever holds the token.
func ambientAuthorization(value string) bool {
	scheme, _, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	switch strings.ToLower(scheme) {
	case "basic", "digest", "negotiate", "ntlm":
		return true
	}
	return false
}
