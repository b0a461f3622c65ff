package headers

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/mamori-waf/mamori/internal/request"
)

// ErrOpenRedirect means the upstream redirected off-site to a target the
// request itself named (V10): the site is being used as an open redirect.
var ErrOpenRedirect = errors.New("redirect off-site to a target named by the request")

// redirectHost is the host a browser would go to for a Location value,
// "" for a same-site (relative) target. It reads the value the way
// browsers do, not the way url.Parse does: backslashes count as slashes,
// tabs and newlines are dropped, "https:evil.example" and
// "///evil.example" are absolute.
func redirectHost(loc string) string {
	loc = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, strings.TrimSpace(loc))
	rest := loc
	if i := strings.IndexByte(loc, ':'); i > 0 && !strings.ContainsAny(loc[:i], "/?#") {
		scheme := strings.ToLower(loc[:i])
		if scheme != "http" && scheme != "https" {
			return "" // not a web redirect (mailto:, a custom app scheme)
		}
		rest = loc[i+1:]
	} else if !strings.HasPrefix(loc, "//") {
		return "" // a path: same site
	}
	u, err := url.Parse("http://" + strings.TrimLeft(rest, "/"))
	if err != nil {
		return "?" // unparsable: judged like an off-site target
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
}

func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

// trustedHost reports whether host is one of the trusted redirect hosts
// ("shop.example.com", or "*.example.com" for any subdomain).
func (c *Compiled) trustedHost(host string) bool {
	for _, t := range c.redirectAllow {
		if strings.HasPrefix(t, "*.") {
			if strings.HasSuffix(host, t[1:]) {
				return true
			}
		} else if host == t {
			return true
		}
	}
	return false
}

// CheckRedirect refuses a redirect (3xx with Location) to another host
// than the request's and the trusted ones, when the request named that
// host in a parameter or its path as the CMS reads them (v, the request
// view; nil reads r as every dialect would): the shape of an open
// redirect ("?redirect_to=https://evil.example/", also in a form body or
// after CGI.pm's ";"). Redirects the site chose by itself (to a login
// server, a CDN) pass.
func (c *Compiled) CheckRedirect(status int, h http.Header, r *http.Request, v *request.View) error {
	if c.openRedirectOff || status < 300 || status > 399 || r == nil {
		return nil
	}
	loc := h.Get("Location")
	if loc == "" {
		return nil
	}
	host := redirectHost(loc)
	if host == "" || host == hostOf(r.Host) || c.trustedHost(host) {
		return nil
	}
	if v == nil {
		v = request.New(r, request.Union)
	}
	if !requestNames(v, host) {
		return nil
	}
	return fmt.Errorf("%w: Location host %.100q", ErrOpenRedirect, host)
}

// requestNames reports whether the request's parameters (query, and the
// body once the view has read it; names and values as the CMS decodes
// them) or its normalised path hold host, also after decoding twice more
// (a CMS that decodes a value again).
func requestNames(v *request.View, host string) bool {
	if names(v.Path, host) {
		return true
	}
	return v.Names(func(name, value, where string) bool {
		return where == "parameter" && (names(name, host) || names(value, host))
	})
}

func names(s, host string) bool {
	for range 3 {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(s, `\`, "/")), host) {
			return true
		}
		d, err := url.QueryUnescape(s)
		if err != nil || d == s {
			break
		}
		s = d
	}
	return false
}
