// Package session is mamori's session guard (V8, B2): it hardens the
// session cookies the upstream sets (Secure, HttpOnly, SameSite), seals
// their values in an encrypted, authenticated envelope bound to the
// client, opens them again on the way in, drops the ones that are forged,
// planted (fixation), stolen (binding mismatch), expired or revoked before
// the upstream sees them, revokes the session at logout, and keeps private
// pages out of caches. It knows nothing of Caddy.
//
// What it does not defend against: a thief on the same IP prefix with the
// same User-Agent (binding is a hurdle, not proof of identity); malware in
// the user's browser, which acts inside the real session; a CMS that
// leaks its session ID elsewhere (URLs, page bodies); cookies the guard is
// not told about.
package session

import (
	"fmt"
	"github.com/mamori-waf/mamori/internal/duration"
	"net/http"
	"path"
	"strings"
	"time"
)

// Cookie modes.
const (
	// ModeSeal hardens the cookie and seals its value bound to the client.
	ModeSeal = "seal"
	// ModeHarden only sets Secure, HttpOnly and SameSite.
	ModeHarden = "harden"
	// ModeOff leaves the cookie as the upstream set it.
	ModeOff = "off"
)

// Store failure choices.
const (
	// FailClosed treats a session whose revocation cannot be checked as
	// revoked, and refuses login attempts that cannot be counted.
	FailClosed = "closed"
	// FailOpen lets them through (with an event).
	FailOpen = "open"
)

// Defaults.
const (
	DefaultIdleTimeout     = 4 * time.Hour // Movable Type's UserSessionTimeout
	DefaultAbsoluteTimeout = 24 * time.Hour
	DefaultIPv4Prefix      = 24
	DefaultIPv6Prefix      = 64
)

// Duration is a time.Duration written in JSON as "4h30m".
type Duration = duration.Duration

// CookieRule is the operator's rule for cookies with a name or glob; it
// takes precedence over the profile's rules.
type CookieRule struct {
	// Name is the cookie's name or a path.Match glob ("wordpress_logged_in_*").
	Name string `json:"name"`
	// Mode is "seal" (harden, encrypt and bind to the client), "harden"
	// (Secure, HttpOnly, SameSite only) or "off" (leave as the upstream set
	// it). Default "seal".
	Mode string `json:"mode,omitempty"`
	// SameSite is "lax", "strict" or "none" for this cookie; default the
	// session's SameSite. An upstream's stricter value is kept.
	SameSite string `json:"samesite,omitempty"`
	// ScriptReadable leaves HttpOnly off: the site's own JavaScript reads
	// the cookie. Such a cookie should not be sealed.
	ScriptReadable bool `json:"script_readable,omitempty"`
	// Authenticated marks a cookie whose presence means a logged-in user:
	// responses to requests carrying it get Cache-Control: no-store.
	Authenticated bool `json:"authenticated,omitempty"`
}

// Binding says what a sealed cookie is bound to.
type Binding struct {
	// IPv4Prefix is how many leading bits of the client's IPv4 address
	// must match (default 24; 0 does not bind on IPv4).
	IPv4Prefix *int `json:"ipv4_prefix,omitempty"`
	// IPv6Prefix is the same for IPv6 (default 64; 0 does not bind).
	IPv6Prefix *int `json:"ipv6_prefix,omitempty"`
	// UserAgent is how much of the User-Agent header the cookie is bound
	// to as well: "family" (default: browser family, operating system and
	// device class, so a browser update keeps the session and another
	// browser does not), "full" (the exact header: an update logs the
	// user out) or "off". JSON true and false mean "full" and "off".
	UserAgent UABinding `json:"user_agent,omitempty"`
	// Off disables binding altogether.
	Off bool `json:"off,omitempty"`
}

// Config is the session guard's configuration (the handler's "session").
type Config struct {
	// Off disables the session guard (a profile enables it by default).
	Off bool `json:"off,omitempty"`
	// Cookies are the operator's cookie rules, checked before the profile's.
	Cookies []CookieRule `json:"cookies,omitempty"`
	// Bind is the client binding of sealed cookies: by default the client
	// IP's /24 (IPv4) or /64 (IPv6) prefix and the browser family and
	// platform parsed from the User-Agent.
	Bind *Binding `json:"bind,omitempty"`
	// IdleTimeout ends a sealed session unused this long (default 4h).
	IdleTimeout Duration `json:"idle_timeout,omitempty"`
	// AbsoluteTimeout ends a sealed session this long after login, however
	// active (default 24h).
	AbsoluteTimeout Duration `json:"absolute_timeout,omitempty"`
	// SameSite is the default SameSite of hardened cookies: "lax"
	// (default), "strict" or "none".
	SameSite string `json:"samesite,omitempty"`
	// StoreFailure is what happens when the state store (Redis) cannot say
	// whether a session was revoked: "closed" (drop the cookie: the user
	// must log in again) or "open" (accept it). Default: the global
	// redis_failure, else "closed".
	StoreFailure string `json:"store_failure,omitempty"`
	// NoStore turns off Cache-Control: no-store on authenticated and admin
	// responses when set to false (default true).
	NoStore *bool `json:"no_store,omitempty"`
}

// ParseSameSite checks a SameSite value.
func ParseSameSite(s string) (http.SameSite, error) {
	switch strings.ToLower(s) {
	case "", "lax":
		return http.SameSiteLaxMode, nil
	case "strict":
		return http.SameSiteStrictMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	}
	return 0, fmt.Errorf("samesite must be lax, strict or none, not %q", s)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if _, err := ParseSameSite(c.SameSite); err != nil {
		return err
	}
	for _, r := range c.Cookies {
		if r.Name == "" {
			return fmt.Errorf("cookie rule without a name")
		}
		if _, err := path.Match(r.Name, ""); err != nil {
			return fmt.Errorf("cookie %q: bad glob: %v", r.Name, err)
		}
		switch r.Mode {
		case "", ModeSeal, ModeHarden, ModeOff:
		default:
			return fmt.Errorf("cookie %q: mode must be seal, harden or off, not %q", r.Name, r.Mode)
		}
		if _, err := ParseSameSite(r.SameSite); err != nil {
			return fmt.Errorf("cookie %q: %v", r.Name, err)
		}
	}
	if b := c.Bind; b != nil {
		if b.IPv4Prefix != nil && (*b.IPv4Prefix < 0 || *b.IPv4Prefix > 32) {
			return fmt.Errorf("bind: IPv4 prefix must be 0 to 32, not %d", *b.IPv4Prefix)
		}
		if b.IPv6Prefix != nil && (*b.IPv6Prefix < 0 || *b.IPv6Prefix > 128) {
			return fmt.Errorf("bind: IPv6 prefix must be 0 to 128, not %d", *b.IPv6Prefix)
		}
		switch b.UserAgent {
		case "", UAFamily, UAFull, UAOff:
		default:
			return errUABinding(b.UserAgent)
		}
	}
	if c.IdleTimeout < 0 || c.AbsoluteTimeout < 0 {
		return fmt.Errorf("timeouts must be positive")
	}
	if c.IdleTimeout > 0 && c.AbsoluteTimeout > 0 && c.IdleTimeout > c.AbsoluteTimeout {
		return fmt.Errorf("idle_timeout %v is longer than absolute_timeout %v", time.Duration(c.IdleTimeout), time.Duration(c.AbsoluteTimeout))
	}
	switch c.StoreFailure {
	case "", FailClosed, FailOpen:
	default:
		return fmt.Errorf("store failure must be open or closed, not %q", c.StoreFailure)
	}
	return nil
}
