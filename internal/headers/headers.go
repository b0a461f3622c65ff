// Package headers adds the browser protections a CMS response should carry
// when the upstream did not set them (checklist V9, V10, A4), removes the
// headers that tell an attacker what runs behind the proxy, and refuses
// upstream response headers that would split the response (CR, LF, NUL).
package headers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Off disables one default header.
const Off = "off"

// Policy says which security headers a response gets and which it loses.
// Each header is added only when the upstream did not set it, so a CMS that
// sends its own (Movable Type sends X-Frame-Options) keeps its value. The
// zero value is the secure default.
type Policy struct {
	// StrictTransportSecurity is sent on HTTPS responses only (A4).
	// Default "max-age=31536000; includeSubDomains"; "off" disables.
	StrictTransportSecurity string `json:"strict_transport_security,omitempty"`
	// ContentSecurityPolicy is sent when set (V9). No default: a policy
	// that fits a CMS's admin screens must be written for the site.
	ContentSecurityPolicy string `json:"content_security_policy,omitempty"`
	// CSPReportOnly sends the policy as Content-Security-Policy-Report-Only,
	// to try it without breaking pages.
	CSPReportOnly bool `json:"csp_report_only,omitempty"`
	// ContentTypeOptions: default "nosniff"; "off" disables.
	ContentTypeOptions string `json:"content_type_options,omitempty"`
	// FrameOptions (clickjacking): default "SAMEORIGIN"; "off" disables.
	FrameOptions string `json:"frame_options,omitempty"`
	// ReferrerPolicy: default "strict-origin-when-cross-origin"; "off" disables.
	ReferrerPolicy string `json:"referrer_policy,omitempty"`
	// PermissionsPolicy: default denies camera, microphone, geolocation
	// and payment; "off" disables.
	PermissionsPolicy string `json:"permissions_policy,omitempty"`
	// CrossOriginOpenerPolicy: default "same-origin"; "off" disables.
	CrossOriginOpenerPolicy string `json:"cross_origin_opener_policy,omitempty"`
	// Remove lists extra response headers to remove, besides the defaults
	// (Server, X-Powered-By, X-AspNet-Version, X-AspNetMvc-Version,
	// X-Generator, X-Runtime, X-Drupal-Cache, X-Drupal-Dynamic-Cache).
	Remove []string `json:"remove,omitempty"`
	// Keep lists default-removed headers to keep (e.g. "Server").
	Keep []string `json:"keep,omitempty"`
	// CSPReportPath is the path of mamori's own CSP report endpoint
	// (e.g. "/.mamori/csp-report"): browsers' reports sent there become
	// events and are answered 204 by mamori, never forwarded. When set,
	// a ContentSecurityPolicy without report-uri gets "report-uri <path>".
	// Default: no endpoint.
	CSPReportPath string `json:"csp_report_path,omitempty"`
	// OpenRedirect: "block" (default) answers 502 instead of an upstream
	// redirect to another host when the request named that host in its
	// query or path (V10); "off" lets such redirects through.
	OpenRedirect string `json:"open_redirect,omitempty"`
	// RedirectAllow lists hosts the site may redirect to whatever the
	// request says ("login.example.com", "*.example.com" for subdomains).
	RedirectAllow []string `json:"redirect_allow,omitempty"`
}

// DefaultRemove are the headers that name software and versions.
var DefaultRemove = []string{
	"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version",
	"X-Generator", "X-Runtime", "X-Drupal-Cache", "X-Drupal-Dynamic-Cache",
}

// Defaults of the added headers.
const (
	DefaultHSTS              = "max-age=31536000; includeSubDomains"
	DefaultReferrerPolicy    = "strict-origin-when-cross-origin"
	DefaultPermissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=()"
)

// Compiled is a Policy ready to apply: the headers to add, in order, and
// the canonical names to remove.
type Compiled struct {
	add             [][2]string
	hsts            string
	remove          []string
	cspReportPath   string
	openRedirectOff bool
	redirectAllow   []string // lower-case hosts, "*.example.com" patterns
}

// CSPReportPath is the report endpoint's path, "" without one.
func (c *Compiled) CSPReportPath() string { return c.cspReportPath }

// Compile checks the policy and resolves its defaults.
func (p Policy) Compile() (*Compiled, error) {
	c := &Compiled{hsts: orDefault(p.StrictTransportSecurity, DefaultHSTS), cspReportPath: p.CSPReportPath}
	csp := "Content-Security-Policy"
	if p.CSPReportOnly {
		csp = "Content-Security-Policy-Report-Only"
	}
	policy := p.ContentSecurityPolicy
	if p.CSPReportPath != "" {
		if !strings.HasPrefix(p.CSPReportPath, "/") || strings.ContainsAny(p.CSPReportPath, " ;,?#\r\n\x00") {
			return nil, fmt.Errorf("csp report path %q: must be a plain path starting with /", p.CSPReportPath)
		}
		if policy != "" && policy != Off && !strings.Contains(policy, "report-uri") && !strings.Contains(policy, "report-to") {
			policy = strings.TrimRight(strings.TrimSpace(policy), ";") + "; report-uri " + p.CSPReportPath
		}
	}
	switch p.OpenRedirect {
	case "", "block":
	case Off:
		c.openRedirectOff = true
	default:
		return nil, fmt.Errorf("open_redirect %q: must be block or off", p.OpenRedirect)
	}
	for _, h := range p.RedirectAllow {
		host := strings.ToLower(h)
		if i := strings.Index(host, "://"); i >= 0 {
			host = hostOf(strings.TrimRight(host[i+3:], "/"))
		}
		if host == "" || strings.ContainsAny(host, "/ ?#@") || (strings.Contains(host, "*") && !strings.HasPrefix(host, "*.")) {
			return nil, fmt.Errorf("redirect_allow %q: not a host, origin or *.domain", h)
		}
		c.redirectAllow = append(c.redirectAllow, host)
	}
	for _, h := range [][2]string{
		{"X-Content-Type-Options", orDefault(p.ContentTypeOptions, "nosniff")},
		{"X-Frame-Options", orDefault(p.FrameOptions, "SAMEORIGIN")},
		{"Referrer-Policy", orDefault(p.ReferrerPolicy, DefaultReferrerPolicy)},
		{"Permissions-Policy", orDefault(p.PermissionsPolicy, DefaultPermissionsPolicy)},
		{"Cross-Origin-Opener-Policy", orDefault(p.CrossOriginOpenerPolicy, "same-origin")},
		{csp, policy},
	} {
		if h[1] == "" || h[1] == Off {
			continue
		}
		if err := checkValue(h[0], h[1]); err != nil {
			return nil, err
		}
		c.add = append(c.add, h)
	}
	if c.hsts != Off {
		if err := checkValue("Strict-Transport-Security", c.hsts); err != nil {
			return nil, err
		}
	}
	keep := map[string]bool{}
	for _, k := range p.Keep {
		keep[http.CanonicalHeaderKey(k)] = true
	}
	for _, name := range append(append([]string(nil), DefaultRemove...), p.Remove...) {
		name = http.CanonicalHeaderKey(name)
		if err := checkValue("remove", name); err != nil || strings.ContainsAny(name, " :") {
			return nil, fmt.Errorf("cannot remove %q: not a header name", name)
		}
		if !keep[name] {
			c.remove = append(c.remove, name)
		}
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func checkValue(name, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("%s: value holds a line break or NUL", name)
	}
	return nil
}

// Apply adds the missing security headers to h and removes the leaky ones.
// https says whether the client connection is TLS (for HSTS).
func (c *Compiled) Apply(h http.Header, https bool) {
	for _, kv := range c.add {
		if _, set := h[kv[0]]; !set {
			h[kv[0]] = []string{kv[1]}
		}
	}
	if https && c.hsts != Off {
		if _, set := h["Strict-Transport-Security"]; !set {
			h["Strict-Transport-Security"] = []string{c.hsts}
		}
	}
	for _, name := range c.remove {
		delete(h, name)
	}
}

// ErrUnsafeHeader means an upstream response header holds CR, LF or NUL:
// passing it on could split the response (V10).
var ErrUnsafeHeader = errors.New("response header holds CR, LF or NUL")

// CheckResponse reports the first response header whose name or value
// holds CR, LF or NUL.
func CheckResponse(h http.Header) error {
	for name, values := range h {
		if strings.ContainsAny(name, "\r\n\x00") {
			return fmt.Errorf("%w: name %q", ErrUnsafeHeader, name)
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("%w: %s", ErrUnsafeHeader, name)
			}
		}
	}
	return nil
}
