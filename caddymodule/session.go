package caddymodule

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/auth"
	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/session"
)

// sessionGuards are a handler's session guard (V8, B2), login audit (A2,
// S11) and login throttle (B4), provisioned together because they share
// the global mamori app's store and keys.
type sessionGuards struct {
	guard            *session.Guard // nil: session guard off
	throttle         *auth.Throttle // nil: throttle off
	throttleFailOpen bool
}

// provisionSessions builds the session guard and login throttle: on by
// default with a profile, or when the operator names cookies.
func (h *Handler) provisionSessions(ctx caddy.Context) error {
	sessionOn := h.Session != nil && !h.Session.Off && (h.profile != nil || len(h.Session.Cookies) > 0)
	if h.Session == nil && h.profile != nil {
		sessionOn = true
	}
	throttleOn := h.profile != nil && (h.LoginThrottle == nil || !h.LoginThrottle.Off)
	if !sessionOn && h.profile == nil {
		return nil
	}
	app, err := h.mamoriApp(ctx)
	if err != nil {
		return err
	}
	sg := &sessionGuards{}
	if sessionOn {
		cfg := session.Config{}
		if h.Session != nil {
			cfg = *h.Session
		}
		sg.guard, err = session.New(cfg, session.Options{Profile: h.profile, Keys: app.keys,
			Store: h.store(), FailOpen: app.failOpen(cfg.StoreFailure)})
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
	}
	if throttleOn {
		cfg := auth.ThrottleConfig{}
		if h.LoginThrottle != nil {
			cfg = *h.LoginThrottle
		}
		if sg.throttle, err = auth.NewThrottle(cfg, h.store()); err != nil {
			return err
		}
		sg.throttleFailOpen = app.failOpen(cfg.StoreFailure)
	}
	h.sessions = sg
	return nil
}

// sessionState is what the session and login stages learn about one request.
type sessionState struct {
	client  session.Client
	req     *session.Request
	login   *auth.LoginStage
	logout  bool
	private bool
	toCMS   bool // the request went on to the CMS
	issued  []session.Issued
}

// withUser and withRef add the account and session reference to an event.
func withUser(user string) func(*events.Event) {
	return func(e *events.Event) { e.UserName = user }
}

func withRef(ref string) func(*events.Event) {
	return func(e *events.Event) { e.SessionRef = ref }
}

// withAudit makes an event an authentication audit record.
func withAudit(action, result string) func(*events.Event) {
	return func(e *events.Event) {
		e.Action, e.Outcome, e.Category = action, result, []string{"authentication", "session"}
	}
}

// sessionRequest runs the session stage (session.UnsealStage): it opens
// the sealed session cookies, dropping forged, stolen, expired and revoked
// ones before anything else sees them; recognizeLogin does the rest once
// the WAF has read the body.
func (h *Handler) sessionRequest(w http.ResponseWriter, o *outcome, req *pipeline.Request) *sessionState {
	sg := h.sessions
	if sg == nil {
		return nil
	}
	st := &sessionState{client: session.Client{IP: o.clientIP, UserAgent: req.HTTP.UserAgent()}}
	if sg.guard != nil {
		unseal := &session.UnsealStage{Guard: sg.guard, Client: st.client}
		ctx, cancel := storeContext(req.HTTP.Context())
		pipeline.Run(ctx, req, o.apply(w), unseal) // never refuses
		cancel()
		st.req = unseal.Presented
	}
	st.private = session.Private(h.profile, o.view)
	return st
}

// recognizeLogin runs, after the WAF's request phases, the login stage
// (auth.LoginStage: a login is kept for the throttle and the audit of its
// outcome) and the logout stage (session.LogoutStage: the presented
// sessions are revoked and the logout audited). Both read the form from
// the view (req.ReadBody reads the body the WAF buffered once).
func (h *Handler) recognizeLogin(w http.ResponseWriter, o *outcome, req *pipeline.Request, st *sessionState) {
	if st == nil || h.profile == nil {
		return
	}
	st.login = &auth.LoginStage{Profile: h.profile, Throttle: h.sessions.throttle}
	logout := &session.LogoutStage{Guard: h.sessions.guard, Profile: h.profile, Presented: st.req}
	ctx, cancel := storeContext(req.HTTP.Context())
	pipeline.Run(ctx, req, o.apply(w), st.login, logout) // never refuse
	cancel()
	st.logout = logout.Logout
}

// loginRequest runs the login throttle (auth.ThrottleStage) on a
// recognised login attempt and reports whether it answered.
func (h *Handler) loginRequest(w http.ResponseWriter, r *http.Request, o *outcome, req *pipeline.Request, st *sessionState) bool {
	if st == nil || st.login == nil || st.login.Attempt == nil || h.sessions.throttle == nil {
		return false
	}
	ctx, cancel := storeContext(r.Context())
	defer cancel()
	return pipeline.Run(ctx, req, o.apply(w), &auth.ThrottleStage{Throttle: h.sessions.throttle,
		FailOpen: h.sessions.throttleFailOpen, Login: st.login.Attempt})
}

// sessionHooks are the response writer's header hook that seals and
// hardens the response's session cookies just before its headers go out
// (session.Guard.Outbound), and how much of the body a login's outcome
// needs (auth.LoginStage.CaptureLimit).
func (h *Handler) sessionHooks(r *http.Request, st *sessionState) ([]func(int, http.Header), int) {
	if st == nil {
		return nil, 0
	}
	st.toCMS = true
	capture := 0
	if st.login != nil {
		capture = st.login.CaptureLimit()
	}
	guard := h.sessions.guard
	if guard == nil {
		return nil, capture
	}
	seal := func(_ int, hdr http.Header) {
		resp := session.Response{HTTPS: r.TLS != nil, Private: st.private, Logout: st.logout}
		if st.login != nil && st.login.Attempt != nil {
			resp.User = st.login.Attempt.User
		}
		st.issued = guard.Outbound(hdr, st.req, st.client, resp)
	}
	return []func(int, http.Header){seal}, capture
}

// sessionDone reports a login's outcome (auth.LoginStage.Done: judged
// from the response the client got, the throttle's count settled, the
// audit event; A2, S11).
func (h *Handler) sessionDone(w *response, o *outcome, st *sessionState) {
	if st == nil || st.login == nil || st.login.Attempt == nil || !st.toCMS {
		return // no login, or never sent to the CMS (refused before)
	}
	ctx, cancel := storeContext(o.r.Context())
	d := st.login.Done(ctx, o.clientIP, auth.Response{Status: w.upstreamStatus(), Header: w.Header(), Body: w.captured(), Issued: st.issued})
	cancel()
	o.apply(w)(st.login, d)
}

// parseSession reads `session off` or
//
//	session {
//		cookie <name|glob> [seal|harden|off] [samesite lax|strict|none] [script_readable] [authenticated]
//		bind ip_prefix <v4-bits> [<v6-bits>] | user_agent [full|family|off] | off
//		idle_timeout <duration>
//		absolute_timeout <duration>
//		samesite lax|strict|none
//		redis_failure open|closed
//		no_store on|off
//	}
func parseSession(d *caddyfile.Dispenser, h *Handler) error {
	c := &session.Config{}
	if d.NextArg() {
		if d.Val() != "off" || d.NextArg() {
			return d.Errf("usage: session off, or session { ... }")
		}
		c.Off = true
		h.Session = c
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		args := d.RemainingArgs()
		switch option {
		case "cookie":
			if len(args) == 0 {
				return d.Errf("usage: cookie <name|glob> [seal|harden|off] [samesite lax|strict|none] [script_readable] [authenticated]")
			}
			rule := session.CookieRule{Name: args[0]}
			for i := 1; i < len(args); i++ {
				switch a := args[i]; a {
				case session.ModeSeal, session.ModeHarden, session.ModeOff:
					rule.Mode = a
				case "samesite":
					if i+1 >= len(args) {
						return d.Errf("cookie %s: samesite needs lax, strict or none", rule.Name)
					}
					i++
					rule.SameSite = args[i]
				case "script_readable":
					rule.ScriptReadable = true
				case "authenticated":
					rule.Authenticated = true
				default:
					return d.Errf("cookie %s: unknown setting %q (seal, harden, off, samesite <v>, script_readable, authenticated)", rule.Name, a)
				}
			}
			c.Cookies = append(c.Cookies, rule)
		case "bind":
			if err := parseBind(d, c, args); err != nil {
				return err
			}
		case "idle_timeout", "absolute_timeout":
			if len(args) != 1 {
				return d.Errf("usage: %s <duration>", option)
			}
			v, err := caddy.ParseDuration(args[0])
			if err != nil || v <= 0 {
				return d.Errf("%s: %q is not a positive duration such as 30m or 4h", option, args[0])
			}
			if option == "idle_timeout" {
				c.IdleTimeout = session.Duration(v)
			} else {
				c.AbsoluteTimeout = session.Duration(v)
			}
		case "samesite":
			if len(args) != 1 {
				return d.Errf("usage: samesite lax|strict|none")
			}
			c.SameSite = args[0]
		case "redis_failure":
			if len(args) != 1 {
				return d.Errf("usage: redis_failure open|closed")
			}
			c.StoreFailure = args[0]
		case "no_store":
			on, err := onOff(d, "session: no_store", args...)
			if err != nil {
				return err
			}
			c.NoStore = &on
		default:
			return d.Errf("unknown session option %q", option)
		}
		if err := c.Validate(); err != nil {
			return d.Errf("session: %v", err)
		}
	}
	h.Session = c
	return nil
}

// parseBind reads `bind ip_prefix <v4> [<v6>]`, `bind user_agent
// [full|family|off]` and `bind off`; several bind lines (or words on one
// line) combine.
func parseBind(d *caddyfile.Dispenser, c *session.Config, args []string) error {
	if c.Bind == nil {
		c.Bind = &session.Binding{}
	}
	if len(args) == 0 {
		return d.Errf("usage: bind ip_prefix <v4-bits> [<v6-bits>] | user_agent [full|family|off] | off")
	}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "off":
			c.Bind.Off = true
		case "user_agent":
			// `bind user_agent` alone is the exact header, as before.
			c.Bind.UserAgent = session.UAFull
			if i+1 < len(args) {
				switch m := args[i+1]; m {
				case session.UAFull, session.UAFamily, session.UAOff:
					c.Bind.UserAgent = session.UABinding(m)
					i++
				}
			}
		case "ip_prefix":
			var bits []int
			for i+1 < len(args) && len(bits) < 2 {
				n, err := strconv.Atoi(args[i+1])
				if err != nil {
					break
				}
				bits = append(bits, n)
				i++
			}
			if len(bits) == 0 {
				return d.Errf("bind ip_prefix needs the IPv4 prefix length (and optionally the IPv6 one), such as 24 64")
			}
			c.Bind.IPv4Prefix = &bits[0]
			if len(bits) == 2 {
				c.Bind.IPv6Prefix = &bits[1]
			}
		default:
			return d.Errf("bind: unknown %q (ip_prefix <v4> [<v6>], user_agent [full|family|off], off)", args[i])
		}
	}
	return nil
}

// parseLoginThrottle reads `login_throttle <N> per <duration> [redis_failure open|closed]`
// or `login_throttle off`.
func parseLoginThrottle(d *caddyfile.Dispenser, h *Handler) error {
	args := d.RemainingArgs()
	c := &auth.ThrottleConfig{}
	if len(args) == 1 && args[0] == "off" {
		c.Off = true
		h.LoginThrottle = c
		return nil
	}
	usage := "usage: login_throttle <failures> per <duration> [redis_failure open|closed], or login_throttle off"
	if len(args) != 3 && len(args) != 5 || args[1] != "per" {
		return d.Err(usage)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return d.Errf("login_throttle: %q is not a positive number of failures", args[0])
	}
	window, err := caddy.ParseDuration(args[2])
	if err != nil || window <= 0 {
		return d.Errf("login_throttle: %q is not a positive duration such as 15m", args[2])
	}
	c.Limit, c.Window = n, auth.Duration(window)
	if len(args) == 5 {
		if args[3] != "redis_failure" || (args[4] != "open" && args[4] != "closed") {
			return d.Err(usage)
		}
		c.StoreFailure = args[4]
	}
	h.LoginThrottle = c
	return nil
}
