package headers

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
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
// host in its query or path: the shape of an open redirect
// ("?redirect_to=https://evil.example/"). Redirects the site chose by
// itself (to a login server, a CDN) pass.
func (c *Compiled) CheckRedirect(status int, h http.Header, r *http.Request) error {
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
	if !requestNames(r, host) {
		return nil
	}
	return fmt.Errorf("%w: Location host %.100q", ErrOpenRedirect, host)
}

// requestNames reports whether the request's query or path holds host,
// after decoding (twice, for double encoding).
func requestNames(r *http.Request, host string) bool {
	for _, s := range []string{r.URL.RawQuery, r.URL.EscapedPath()} {
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
	}
	return false
}
