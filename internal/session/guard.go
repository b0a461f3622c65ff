package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/state"
)

// Reasons a presented cookie is dropped (the event's rule ID is
// "session-" + reason).
const (
	// ReasonForged: the value is not an envelope this proxy sealed for this
	// cookie: forged, tampered with, or planted by an attacker (fixation).
	ReasonForged = "forged"
	// ReasonBinding: sealed for another client (stolen and replayed).
	ReasonBinding = "binding"
	// ReasonExpired: older than the absolute timeout or its own expiry.
	ReasonExpired = "expired"
	// ReasonIdle: unused longer than the idle timeout.
	ReasonIdle = "idle"
	// ReasonRevoked: its session was logged out.
	ReasonRevoked = "revoked"
	// ReasonStoreUnavailable: the revocation list could not be read.
	ReasonStoreUnavailable = "store-unavailable"
)

// Guard is a compiled session guard, safe for concurrent use.
type Guard struct {
	rules    []CookieRule
	sameSite map[string]http.SameSite // rule name → SameSite
	sealer   *Sealer
	bindOff  bool
	v4, v6   int
	ua       UABinding
	idle     time.Duration
	absolute time.Duration
	refresh  time.Duration
	store    state.Store
	failOpen bool
	noStore  bool
	// Now is the clock (tests set it).
	Now func() time.Time
}

// Options are what the guard needs besides its configuration.
type Options struct {
	// Profile contributes its session cookies (nil: the operator's only).
	Profile *profile.Profile
	// Keys seal (the first) and open (all) envelopes.
	Keys [][]byte
	// Store holds revocations.
	Store state.Store
	// FailOpen is the resolved store-failure choice.
	FailOpen bool
}

// New compiles a guard.
func New(c Config, o Options) (*Guard, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sealer, err := NewSealer(o.Keys)
	if err != nil {
		return nil, err
	}
	g := &Guard{sealer: sealer, store: o.Store, failOpen: o.FailOpen, Now: time.Now,
		v4: DefaultIPv4Prefix, v6: DefaultIPv6Prefix, sameSite: map[string]http.SameSite{},
		idle: time.Duration(c.IdleTimeout), absolute: time.Duration(c.AbsoluteTimeout),
		noStore: c.NoStore == nil || *c.NoStore, ua: UAFamily}
	if g.store == nil {
		g.store = state.NewMemory()
	}
	if g.idle == 0 {
		g.idle = DefaultIdleTimeout
	}
	if g.absolute == 0 {
		g.absolute = DefaultAbsoluteTimeout
	}
	if g.idle > g.absolute {
		g.idle = g.absolute
	}
	// A sealed cookie is re-sealed with a fresh last-seen time once it is
	// older than an eighth of the idle timeout: idle sessions end between
	// 7/8 and all of the timeout, with no server-side write per request.
	g.refresh = g.idle / 8
	if b := c.Bind; b != nil {
		g.bindOff = b.Off
		if b.UserAgent != "" {
			g.ua = b.UserAgent
		}
		if b.IPv4Prefix != nil {
			g.v4 = *b.IPv4Prefix
		}
		if b.IPv6Prefix != nil {
			g.v6 = *b.IPv6Prefix
		}
	}
	if !g.bindOff && g.ua == UAFamily {
		uaParser() // built now, not on the first request
	}
	def, _ := ParseSameSite(c.SameSite)
	add := func(r CookieRule) {
		if r.Mode == "" {
			r.Mode = ModeSeal
		}
		ss := def
		if r.SameSite != "" {
			ss, _ = ParseSameSite(r.SameSite)
		}
		g.sameSite[r.Name] = ss
		g.rules = append(g.rules, r)
	}
	for _, r := range c.Cookies {
		add(r)
	}
	if o.Profile != nil {
		for _, pc := range o.Profile.Cookies {
			r := CookieRule{Name: pc.Name, Mode: ModeHarden, ScriptReadable: pc.ScriptReadable, Authenticated: pc.Authenticated}
			if pc.Seal {
				r.Mode = ModeSeal
			}
			if _, dup := g.sameSite[r.Name]; !dup {
				add(r)
			}
		}
	}
	return g, nil
}

// rule returns the first rule matching a cookie name.
// Governs reports whether the guard seals or hardens cookies of this
// name (a rule other than off matches it).
func (g *Guard) Governs(name string) bool {
	r, ok := g.rule(name)
	return ok && r.Mode != ModeOff
}

func (g *Guard) rule(name string) (CookieRule, bool) {
	for _, r := range g.rules {
		if r.Name == name {
			return r, true
		}
		if ok, err := pathMatch(r.Name, name); err == nil && ok {
			return r, true
		}
	}
	return CookieRule{}, false
}

// Client is what a sealed cookie is bound to.
type Client struct {
	// IP is the client's address as Caddy determined it (trusted_proxies).
	IP string
	// UserAgent is the User-Agent header.
	UserAgent string
}

func (g *Guard) binding(c Client) [16]byte {
	var out [16]byte
	if g.bindOff {
		return out
	}
	h := sha256.New()
	h.Write([]byte("ip\x00"))
	if addr, err := netip.ParseAddr(c.IP); err == nil {
		addr = addr.Unmap().WithZone("")
		bits := g.v6
		if addr.Is4() {
			bits = g.v4
		}
		if p, err := addr.Prefix(bits); err == nil {
			h.Write([]byte(p.String()))
		}
	} else {
		h.Write([]byte(c.IP))
	}
	switch g.ua {
	case UAFull:
		h.Write([]byte("\x00ua\x00" + c.UserAgent))
	case UAFamily:
		h.Write([]byte("\x00ua-family\x00" + uaFamily(c.UserAgent)))
	}
	copy(out[:], h.Sum(nil))
	return out
}

// Finding is a presented cookie the guard dropped (or, failing open,
// kept without being able to check it).
type Finding struct {
	// Cookie is the cookie's name.
	Cookie string
	// Reason is one of the Reason constants.
	Reason string
	// Ref is the session's reference when the envelope opened.
	Ref string
	// User is the account the envelope names, if known.
	User string
	// Kept is set when the cookie went on to the upstream anyway
	// (store unavailable, failing open).
	Kept bool
	// Err is the store's error, for ReasonStoreUnavailable.
	Err error
}

// Describe says, for the event, what was wrong with the cookie and what
// became of it.
func (f Finding) Describe() string {
	switch f.Reason {
	case ReasonForged:
		return "cookie " + f.Cookie + " was not sealed by this proxy (forged or planted: session fixation); removed"
	case ReasonBinding:
		return "cookie " + f.Cookie + " was sealed for another client (stolen session replayed); removed"
	case ReasonExpired:
		return "cookie " + f.Cookie + " is older than the absolute timeout; removed"
	case ReasonIdle:
		return "cookie " + f.Cookie + " was idle longer than the idle timeout; removed"
	case ReasonRevoked:
		return "cookie " + f.Cookie + " belongs to a session that was logged out; removed"
	case ReasonStoreUnavailable:
		if f.Kept {
			return "revocation of cookie " + f.Cookie + " could not be checked (" + f.Err.Error() + "); kept (redis_failure open)"
		}
		return "revocation of cookie " + f.Cookie + " could not be checked (" + f.Err.Error() + "); removed (redis_failure closed)"
	}
	return f.Reason
}

// Presented is a valid sealed session the request carried.
type Presented struct {
	Name, Ref, User string
}

// Request is what the guard learned from one request's cookies.
type Request struct {
	// Findings are the dropped (or unchecked) cookies.
	Findings []Finding
	// Sessions are the valid sealed cookies, opened.
	Sessions []Presented
	// Authenticated is set when a valid cookie marked authenticated came in.
	Authenticated bool
	// User is the account named by a valid envelope.
	User string

	refresh []refresh
}

type refresh struct {
	rule CookieRule
	name string
	env  *Envelope
}

// Inbound opens the sealed cookies of a request's header, restores the
// upstream's values, and removes every cookie it must not pass on.
func (g *Guard) Inbound(ctx context.Context, h http.Header, c Client) *Request {
	req := &Request{}
	values := h.Values("Cookie")
	if len(values) == 0 {
		return req
	}
	pairs := ParseCookieHeader(values)
	kept := pairs[:0:0]
	changed := false
	now := g.Now()
	bind := g.binding(c)
	for _, p := range pairs {
		r, ok := g.rule(p.Name)
		if !ok || r.Mode == ModeOff {
			kept = append(kept, p)
			continue
		}
		if r.Mode != ModeSeal || p.Value == "" {
			// Harden-only cookies cannot be checked; an empty value
			// carries no session.
			if r.Authenticated && p.Value != "" {
				req.Authenticated = true
			}
			kept = append(kept, p)
			continue
		}
		changed = true
		env, err := g.sealer.Open(p.Name, p.Value)
		if err != nil {
			req.Findings = append(req.Findings, Finding{Cookie: p.Name, Reason: ReasonForged})
			continue
		}
		f := Finding{Cookie: p.Name, Ref: Ref(p.Name, env.Value), User: env.User}
		switch {
		case env.Binding != bind:
			f.Reason = ReasonBinding
		case now.Sub(env.Issued) >= g.absolute, !env.Expires.IsZero() && !now.Before(env.Expires):
			f.Reason = ReasonExpired
		case now.Sub(env.Seen) >= g.idle:
			f.Reason = ReasonIdle
		}
		if f.Reason == "" {
			revoked, err := g.store.Marked(ctx, revokedKey(f.Ref))
			switch {
			case err != nil:
				f.Reason, f.Err, f.Kept = ReasonStoreUnavailable, err, g.failOpen
			case revoked:
				f.Reason = ReasonRevoked
			}
		}
		if f.Reason != "" {
			req.Findings = append(req.Findings, f)
			if !f.Kept {
				continue
			}
		}
		kept = append(kept, Pair{Name: p.Name, Value: env.Value})
		req.Sessions = append(req.Sessions, Presented{Name: p.Name, Ref: f.Ref, User: env.User})
		if r.Authenticated {
			req.Authenticated = true
		}
		if env.User != "" {
			req.User = env.User
		}
		if now.Sub(env.Seen) >= g.refresh {
			fresh := *env
			fresh.Seen = now
			req.refresh = append(req.refresh, refresh{rule: r, name: p.Name, env: &fresh})
		}
	}
	if changed {
		if len(kept) == 0 {
			h.Del("Cookie")
		} else {
			h.Set("Cookie", FormatCookieHeader(kept))
		}
	}
	return req
}

func revokedKey(ref string) string { return "revoked:" + ref }

// Revoke puts every session the request presented on the revocation list
// for as long as its envelope could otherwise live (a logout).
func (g *Guard) Revoke(ctx context.Context, req *Request) error {
	var errs []error
	for _, s := range req.Sessions {
		if err := g.store.Mark(ctx, revokedKey(s.Ref), g.absolute); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Response describes the response being sent.
type Response struct {
	// HTTPS: the client connection is TLS (cookies get Secure).
	HTTPS bool
	// Private: an admin path (no-store whatever the cookies).
	Private bool
	// Logout: the request was a logout (Clear-Site-Data, no refresh).
	Logout bool
	// User is the account to write into new envelopes (a login's user name).
	User string
}

// Issued is a session cookie the upstream set in a response.
type Issued struct {
	// Name is the cookie's name.
	Name string
	// Ref is its session reference ("" for a deletion or a harden-only cookie).
	Ref string
	// Deleted: the upstream removed the cookie.
	Deleted bool
	// Authenticated: the cookie's rule marks it as a logged-in session.
	Authenticated bool
}

// Outbound hardens and seals the session cookies of a response's headers,
// adds refreshed envelopes, Clear-Site-Data at logout and no-store on
// private responses. It returns the session cookies the upstream set.
func (g *Guard) Outbound(h http.Header, req *Request, c Client, resp Response) []Issued {
	now := g.Now()
	var issued []Issued
	setNames := map[string]bool{}
	if lines := h.Values("Set-Cookie"); len(lines) > 0 {
		out := make([]string, 0, len(lines))
		for _, line := range lines {
			ck, err := http.ParseSetCookie(line)
			if err != nil {
				name, _, _ := strings.Cut(line, "=")
				if r, ok := g.rule(strings.TrimSpace(name)); ok && r.Mode == ModeSeal {
					// A session cookie we cannot parse cannot be sealed; sent
					// unsealed it would be dropped on the way back anyway.
					continue
				}
				out = append(out, line)
				continue
			}
			r, ok := g.rule(ck.Name)
			if !ok || r.Mode == ModeOff {
				out = append(out, line)
				continue
			}
			setNames[ck.Name] = true
			g.harden(ck, r, resp.HTTPS)
			is := Issued{Name: ck.Name, Authenticated: r.Authenticated}
			deleted := ck.Value == "" || ck.MaxAge < 0 || (!ck.Expires.IsZero() && !ck.Expires.After(now))
			is.Deleted = deleted
			if r.Mode == ModeSeal && !deleted {
				env := &Envelope{Value: ck.Value, Issued: now, Seen: now, Binding: g.binding(c),
					User: resp.User, Path: ck.Path, Domain: ck.Domain}
				if req != nil && env.User == "" {
					env.User = req.User
				}
				switch {
				case ck.MaxAge > 0:
					env.Expires = now.Add(time.Duration(ck.MaxAge) * time.Second)
				case !ck.Expires.IsZero():
					env.Expires = ck.Expires
				}
				is.Ref = Ref(ck.Name, ck.Value)
				ck.Value = g.sealer.Seal(ck.Name, env)
			}
			issued = append(issued, is)
			out = append(out, ck.String())
		}
		h["Set-Cookie"] = out
	}
	if req != nil && !resp.Logout {
		for _, rf := range req.refresh {
			if setNames[rf.name] {
				continue // the upstream set it anew: its cookie wins
			}
			ck := &http.Cookie{Name: rf.name, Value: g.sealer.Seal(rf.name, rf.env), Path: rf.env.Path, Domain: rf.env.Domain}
			if !rf.env.Expires.IsZero() {
				ck.Expires = rf.env.Expires
			}
			g.harden(ck, rf.rule, resp.HTTPS)
			h.Add("Set-Cookie", ck.String())
		}
	}
	if resp.Logout {
		h.Set("Clear-Site-Data", `"cookies", "storage"`)
	}
	private := resp.Private || (req != nil && req.Authenticated)
	for _, is := range issued {
		private = private || (is.Authenticated && !is.Deleted)
	}
	if g.noStore && private && !strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store") {
		h.Set("Cache-Control", "no-store")
	}
	return issued
}

// harden sets Secure (on HTTPS), HttpOnly (unless script-readable) and
// SameSite (keeping an upstream's Strict).
func (g *Guard) harden(ck *http.Cookie, r CookieRule, https bool) {
	if https {
		ck.Secure = true
	}
	if !r.ScriptReadable {
		ck.HttpOnly = true
	}
	want := g.sameSite[r.Name]
	if ck.SameSite != http.SameSiteStrictMode {
		ck.SameSite = want
	}
}
