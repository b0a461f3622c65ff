// Package caddymodule is mamori's only Caddy glue: it registers the
// "mamori" HTTP handler and its Caddyfile directive, provisions the guards
// from internal/, and runs them in order for every request.
package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/internal/accesslog"
	"github.com/mamori-waf/mamori/internal/auth"
	"github.com/mamori-waf/mamori/internal/blockpage"
	"github.com/mamori-waf/mamori/internal/csrf"
	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/limits"
	"github.com/mamori-waf/mamori/internal/metrics"
	"github.com/mamori-waf/mamori/internal/password"
	"github.com/mamori-waf/mamori/internal/paths"
	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
	"github.com/mamori-waf/mamori/internal/session"
	"github.com/mamori-waf/mamori/internal/waf"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// RequestIDHeader is the response (and upstream request) header that carries
// mamori's request ID, which the block page shows as the incident ID.
const RequestIDHeader = "X-Request-Id"

// Handler is the mamori HTTP handler: the WAF (Coraza running OWASP CRS v4)
// and a block page, in front of the rest of the route.
type Handler struct {
	// WAF configures Coraza and CRS. Its zero value is CRS v4 at paranoia
	// level 1 in blocking mode with anomaly scoring.
	WAF waf.Config `json:"waf,omitempty"`
	// Headers adds browser protections (HSTS on HTTPS, X-Content-Type-Options,
	// X-Frame-Options, Referrer-Policy, Permissions-Policy,
	// Cross-Origin-Opener-Policy, an optional Content-Security-Policy) to
	// responses that lack them, removes headers naming the server software,
	// and refuses upstream headers holding CR, LF or NUL with 502.
	Headers headers.Policy `json:"headers,omitempty"`
	// BlockPage is the path of an html/template file rendered for blocked
	// requests instead of the built-in page. It receives .IncidentID,
	// .Status, .StatusText and .Lang ("en" or "ja").
	BlockPage string `json:"block_page,omitempty"`
	// Profile selects a CMS profile ("movabletype" or "wordpress"): its
	// admin paths, session cookies, login, logout and password requests,
	// never-served files, and the rule exclusions that let its editors work.
	Profile *ProfileConfig `json:"profile,omitempty"`
	// Limits are the request limits checked before anything reads the
	// body (V1): URI length (414), header count and size (431), body and
	// upload size (413), argument count and length and JSON depth (400),
	// the method allow-list (405), with per-path overrides.
	Limits limits.Config `json:"limits,omitempty"`
	// Paths are the path guards (V5, V6, S1): the admin allow-list,
	// never-served files, debug switches, scripts under upload
	// directories, and directory listings in responses.
	Paths paths.Config `json:"paths,omitempty"`
	// CSRF refuses cross-site state-changing requests (V7): Sec-Fetch-Site,
	// then Origin, then Referer must name this site or a trusted origin;
	// on the profile's admin paths and the protected paths a request with
	// none of them is refused too. On unless Off is set.
	CSRF csrf.Config `json:"csrf,omitempty"`
	// PasswordPolicy checks the new password on the profile's password
	// forms before the CMS gets it (B1, B4, A3). On whenever a profile is
	// set, unless Off is set.
	PasswordPolicy password.Policy `json:"password_policy,omitempty"`
	// Session hardens the session cookies the upstream sets (Secure,
	// HttpOnly, SameSite), seals them bound to the client, drops forged,
	// stolen, expired and revoked ones, revokes them at logout and sends
	// no-store on private pages (V8, B2). On by default with a profile.
	Session *session.Config `json:"session,omitempty"`
	// LoginThrottle limits failed logins per client IP and per account
	// (B4): 5 per 15 minutes by default with a profile.
	LoginThrottle *auth.ThrottleConfig `json:"login_throttle,omitempty"`
	// Watch, when set, checks the include files at this interval and
	// swaps in the recompiled rules when one changed, without a
	// configuration reload (V12); a file that does not load is logged and
	// the running rules stay. Off by default (use `mamori reload`).
	Watch caddy.Duration `json:"watch,omitempty"`
	// Logs configures mamori's access log (on by default, one line per
	// request, secrets masked, optionally HMAC-chained and shipped) and
	// more secret field names (see logs.go, docs/logs.md).
	Logs LogSettings `json:"logs,omitempty"`

	app          *App             // the global mamori app, once loaded
	sessions     *sessionGuards   // nil without a profile or session cookies
	profile      *profile.Profile // nil without a profile
	dialect      request.Dialect  // how the CMS parses requests (Union without a profile)
	limits       *limits.Compiled
	paths        *paths.Guard
	csrf         *csrf.Guard       // nil when off
	passwords    *password.Checker // nil when off or without password forms
	front        []pipeline.Stage  // after limits and the CSP endpoint: paths, CSRF
	bodyStages   []pipeline.Stage  // on the body the WAF buffered: ambiguous parts, debug switches
	passwordForm pipeline.Stage    // nil when the password policy is off
	watcher      *waf.Watcher      // nil unless Watch is set
	engine       *engineRef        // weak after Cleanup (release.go)
	fingerprint  string
	packText     []unique.Handle[string] // keeps the interned rule-pack text of h.WAF.Packs shared (profiles.go)
	ruleSet      string                  // fingerprint of the rules in force after a rules reload (the watcher's checks are serial)
	headers      *headers.Compiled
	page         *blockpage.Page
	logger       *zap.Logger
	events       *zap.Logger
	access       *zap.Logger // nil with access_log off
	caddyAccess  *zap.Logger // Caddy's access logger, for lines mamori masks (redact.go)
	accessWriter io.Closer   // the shared access-log file's handle (logwriters.go)
	metrics      *metrics.Metrics
	server       *caddyhttp.Server // the server this handler runs in (nil outside Caddy's HTTP app)
	inflight     *inflight         // requests in flight (upstreams.go)
}

// ProfileConfig selects a CMS profile and adapts it to the site's layout.
type ProfileConfig struct {
	// Name is the profile: "movabletype" or "wordpress".
	Name string `json:"name"`
	profile.Options
	// DisablePatches names virtual patches of the profile (by CVE ID) to
	// leave off; every patch of the profile is on by default (V12).
	DisablePatches []string `json:"disable_patches,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.mamori",
		New: func() caddy.Module { return new(Handler) },
	}
}

// engines holds one compiled WAF per distinct configuration (rule file
// contents included), shared by every site and reused across reloads; the
// last user's Cleanup closes it.
var engines = caddy.NewUsagePool()

// eventsModule only names the events logger: Caddy routes logs by module
// ID, so events get a name of their own (mamori.events) that a `log`
// block can include or exclude.
type eventsModule struct{}

func (eventsModule) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: events.LoggerName}
}

type pooledEngine struct{ *waf.Engine }

func (p pooledEngine) Destruct() error { return p.Close() }

// Provision compiles (or reuses) the WAF and loads the block page.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.events = ctx.Logger(eventsModule{})
	serverTimeouts(ctx) // timeouts.go
	h.server, _ = ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	h.inflight = new(inflight)
	if h.Profile != nil {
		p, err := profile.Get(h.Profile.Name, h.Profile.Options)
		if err != nil {
			return err
		}
		h.profile = p
		h.dialect = request.DialectOf(p.Name)
	}
	if err := h.provisionRulePacks(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if err := h.provisionPerimeter(); err != nil {
		return err
	}
	if err := h.provisionCSRFAndPasswords(); err != nil {
		return err
	}
	h.wireStages()

	compiled, err := waf.Compile(h.WAF)
	if err != nil {
		return fmt.Errorf("waf: %w", err)
	}
	e, loaded, err := acquireEngine(h.logger, compiled)
	if err != nil {
		return fmt.Errorf("waf: %w", err)
	}
	h.engine = newEngineRef(e)
	h.fingerprint = compiled.Fingerprint
	if loaded {
		h.logger.Debug("WAF reused", zap.String("fingerprint", compiled.Fingerprint[:12]))
	}

	if err := h.provisionSessions(ctx); err != nil {
		return err
	}
	if err := h.startWatching(); err != nil {
		return fmt.Errorf("watch: %w", err)
	}

	if h.headers, err = h.Headers.Compile(); err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	if h.page, err = blockpage.New(h.BlockPage); err != nil {
		return err
	}
	return h.provisionLogs(ctx)
}

// wireStages puts the provisioned guards in their pipeline order
// (docs/design.md "A request's way through"); a guard turned off is left out.
func (h *Handler) wireStages() {
	h.front = []pipeline.Stage{h.paths}
	if h.csrf != nil {
		h.front = append(h.front, h.csrf)
	}
	h.bodyStages = []pipeline.Stage{pipeline.AmbiguousBody, h.paths.BodyStage()}
	if h.passwords != nil {
		h.passwordForm = &password.Stage{Checker: h.passwords, Forms: h.profile.PasswordForms}
	}
}

// MinWatch is the shortest rule file watch interval.
const MinWatch = 100 * time.Millisecond

// Validate checks what the configuration says, apart from building it
// (Provision), as Caddy's own modules do: the same limits whether the
// configuration came from a Caddyfile or JSON.
func (h *Handler) Validate() error {
	if err := validWatch(time.Duration(h.Watch)); err != nil {
		return err
	}
	if !h.PasswordPolicy.Off && h.Profile == nil && !reflect.DeepEqual(h.PasswordPolicy, password.Policy{}) {
		return errors.New(errPasswordPolicyNeedsProfile)
	}
	if h.Session != nil && !h.Session.Off && h.Profile == nil && len(h.Session.Cookies) == 0 {
		return errors.New(errSessionNeedsCookies)
	}
	if h.LoginThrottle != nil && !h.LoginThrottle.Off && h.Profile == nil {
		return errors.New("login_throttle: needs a profile (it watches the profile's login requests)")
	}
	if al := h.Logs.AccessLog; al != nil && al.AnchorInterval < 0 {
		return fmt.Errorf("access_log: anchor_interval %v is not a positive duration", time.Duration(al.AnchorInterval))
	}
	return nil
}

// validWatch checks a rule file watch interval: off (0) or at least MinWatch.
func validWatch(d time.Duration) error {
	if d != 0 && d < MinWatch {
		return fmt.Errorf("watch: %v is not an interval of at least %v (such as 2s) or off", d, MinWatch)
	}
	return nil
}

// acquireEngine returns the shared engine for compiled's rule set,
// compiling it (and logging "WAF compiled") only when no site holds it
// yet, and takes a reference to it; loaded reports a reused engine.
func acquireEngine(logger *zap.Logger, compiled *waf.Compiled) (e *waf.Engine, loaded bool, err error) {
	val, loaded, err := engines.LoadOrNew(compiled.Fingerprint, func() (caddy.Destructor, error) {
		start := time.Now()
		e, err := waf.New(compiled)
		if err != nil {
			return nil, err
		}
		logger.Info("WAF compiled",
			zap.Int("rules", e.RulesCount()),
			zap.String("mode", string(compiled.Config.Mode)),
			zap.Int("paranoia_level", compiled.Config.ParanoiaLevel),
			zap.String("fingerprint", compiled.Fingerprint[:12]),
			zap.Duration("took", time.Since(start)))
		return pooledEngine{e}, nil
	})
	if err != nil {
		return nil, false, err
	}
	if !loaded {
		freeCompileMemory() // release.go
	}
	return val.(pooledEngine).Engine, loaded, nil
}

// sharedEngines lets rule file watchers take their engines from the
// pool, so a rules reload keeps one engine per distinct rule set.
type sharedEngines struct{ logger *zap.Logger }

func (p sharedEngines) Acquire(c *waf.Compiled) (*waf.Engine, error) {
	e, _, err := acquireEngine(p.logger, c)
	return e, err
}

func (sharedEngines) Release(fingerprint string) { _, _ = engines.Delete(fingerprint) }

// Cleanup releases this handler's reference to the shared WAF.
func (h *Handler) Cleanup() error {
	watching := h.watcher != nil
	if err := h.stopWatching(); err != nil { // releases the watcher's engine
		h.logger.Error("stopping the rule file watcher", zap.Error(err))
	}
	h.cleanupLogs()
	h.engine.release() // a replaced configuration Caddy still holds must not hold its rules (release.go)
	closeIdleWhenDrained(h.inflight, serverTransports(h.server))
	h.releasePacks()
	if h.fingerprint == "" || watching {
		return nil
	}
	_, err := engines.Delete(h.fingerprint)
	return err
}

// ServeHTTP runs the WAF's request phases, the rest of the route, and the
// WAF's response phases, and reports the outcome in an event and in the
// access log.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (err error) {
	start := time.Now()
	h.inflight.enter()
	defer h.inflight.leave()
	id := events.NewRequestID()
	caddyhttp.SetVar(r.Context(), "mamori.request_id", id)
	w.Header().Set(RequestIDHeader, id)
	extra, _ := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields)
	if extra != nil {
		extra.Set(zap.String("mamori.request_id", id))
	}

	// The request as the CMS will read it, built once: every guard
	// decides on this view (package request).
	view := request.New(r, h.dialect)
	r = r.WithContext(request.WithView(r.Context(), view))
	clientIP, clientPort := clientAddress(r)
	o := &outcome{h: h, r: r, id: id, clientIP: clientIP, extra: extra, view: view}
	if extra != nil {
		// Caddy's own access line gets mamori's verdict, written after
		// this handler returns.
		defer func() {
			for _, f := range o.CaddyFields() {
				extra.Set(f)
			}
		}()
	}
	// Caddy's own access line, masked when it would hold a secret (S8):
	// taken before mamori changes r.
	caddyLine := h.maskCaddyLog(w, r, o)
	defer caddyLine.finish(&err)
	// One response writer (response.go): every answer, mamori's or the
	// upstream's, passes the header policy (so does the error status
	// Caddy writes after mamori returns) and is recorded for the
	// access-log line every request gets, however it ends (S5).
	resp := newResponse(w)
	https := r.TLS != nil
	resp.policy = func(status int, hdr http.Header) error { return h.headers.Respond(status, hdr, https, r, view) }
	resp.refuse = o.refuseHeaders
	w = resp
	defer h.logAccess(o, resp, start, &err)
	defer func() { resp.failed(err, func(hdr http.Header) { h.headers.Apply(hdr, https) }) }()

	// Guards before the WAF, in this order (docs/design.md "A request's
	// way through"): limits, path guards, CSRF, session unseal and binding.
	// Each returns true when it has answered the request itself.
	req := &pipeline.Request{HTTP: r, View: view, ClientIP: clientIP}
	if h.perimeter(w, r, o, req) { // limits, CSP reports, path guards, CSRF
		return nil
	}
	sst := h.sessionRequest(w, o, req)
	defer h.sessionDone(resp, o, sst)

	tx := h.currentEngine().NewTransaction(id)
	defer tx.Close()

	defer func() {
		if !o.reported {
			// The chain unwound without reaching a report: a client that
			// hung up mid-response makes the proxy abort with a panic. The
			// access-log line still gets the verdict.
			o.report(tx.Verdict(), tx.ResponseStatus())
		}
	}()
	it, err := tx.ProcessRequest(r, clientIP, clientPort)
	if err != nil {
		if o.refuseBody(w) { // the body broke a limit while the WAF read it
			return nil
		}
		if be := (*waf.BudgetError)(nil); errors.As(err, &be) { // too much inspection work
			o.refuse(w, "budget", be.RuleID(), be.Error(), be.Status())
			return nil
		}
		if be := (*waf.BodyError)(nil); errors.As(err, &be) { // a compressed body that does not decode
			o.refuse(w, "waf", be.RuleID(), be.Error(), be.Status())
			return nil
		}
		status := http.StatusInternalServerError
		if errors.Is(err, waf.ErrBadRequestBody) {
			status = http.StatusBadRequest
		}
		o.report(tx.Verdict(), status)
		return caddyhttp.Error(status, err)
	}
	if it != nil {
		o.report(tx.Verdict(), it.Status)
		return h.interrupt(w, r, it, id)
	}
	// The body as the CMS reads it, from the WAF's buffer: a part the
	// CMS reads as a field must have been inspected as one.
	req.ReadBody = func() error { return h.readBody(r, o, tx) }
	if h.checkBody(w, r, o, req, tx) {
		return nil
	}
	// Password observation, after the WAF's request phases (docs/design.md).
	if pipeline.Run(r.Context(), req, o.apply(w), h.passwordForm) {
		return nil
	}

	h.recognizeLogin(w, o, req, sst)
	if h.loginRequest(w, r, o, req, sst) {
		return nil
	}

	// The upstream gets mamori's request ID, never the client's.
	r.Header.Set(RequestIDHeader, id)
	// The upstream's response: the listing check, then the WAF's
	// response phases, judge it before it goes out; the session guard
	// seals its cookies as its headers go.
	listing := o.listingCheck()
	wafCheck := tx.ResponseCheck(r)
	checks := []pipeline.ResponseCheck{wafCheck}
	if listing != nil {
		checks = []pipeline.ResponseCheck{listing, wafCheck}
	}
	hooks, capture := h.sessionHooks(r, sst)
	if err := next.ServeHTTP(resp.upstream(checks, hooks, capture), r); err != nil {
		resp.abandon()
		o.report(tx.Verdict(), statusOf(err))
		return err
	}
	switch refused := resp.end(); {
	case refused == nil:
	case listing != nil && refused == pipeline.ResponseCheck(listing):
		o.refuseListing(resp)
	default:
		it, err := wafCheck.Interruption()
		if it == nil { // the inspection failed: nothing of the response was sent
			o.report(tx.Verdict(), http.StatusInternalServerError)
			return caddyhttp.Error(http.StatusInternalServerError, fmt.Errorf("inspecting the response: %w", err))
		}
		o.report(tx.Verdict(), it.Status)
		return h.interrupt(w, r, it, id)
	}
	if listing != nil && listing.Found && listing.Detect {
		o.listingDetected()
	}
	o.report(tx.Verdict(), tx.ResponseStatus())
	return nil
}

// interrupt answers for a rule that stopped the request or response.
func (h *Handler) interrupt(w http.ResponseWriter, r *http.Request, it *waf.Interruption, id string) error {
	switch it.Action {
	case "redirect":
		http.Redirect(w, r, it.Location, http.StatusFound)
		return nil
	case "drop":
		// Close the connection without an answer, as the rule asked.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			return conn.Close()
		}
		panic(http.ErrAbortHandler)
	}
	h.page.Write(w, r, it.Status, id)
	return nil
}

// outcome turns a WAF verdict into an event and access-log fields.
type outcome struct {
	reported bool
	unsafe   string // rule of the refusal of the upstream's headers ("" when sent)
	replaced int    // status of mamori's answer in place of the upstream's (502 unsafe headers, 404 listing)
	body     *limits.Body
	view     *request.View // the request as the CMS reads it
	h        *Handler
	r        *http.Request
	id       string
	clientIP string
	user     string // the account the request names, for events
	extra    *caddyhttp.ExtraLogFields

	// What the access log and the metrics say about the request: the
	// strongest verdict, its guard and rule; the WAF's rules and scores.
	accesslog.Record
}

func (o *outcome) report(v waf.Verdict, status int) {
	o.reported = true
	if o.replaced != 0 {
		status = o.replaced
	}
	outcome := v.Outcome()
	o.record(v, outcome)
	if outcome == events.VerdictAllowed || !events.Enabled(o.h.events, outcome) {
		return // no event, or one the events log would drop: build nothing
	}
	v.Event(o.r, o.id, o.clientIP, status).Emit(o.h.events)
}

// refuse answers a request that a guard other than the WAF refused: the
// block page with status, one event, and the access-log verdict. The WAF
// never sees the request and nothing reaches the upstream.
func (o *outcome) refuse(w http.ResponseWriter, guard, ruleID, reason string, status int, with ...func(*events.Event)) {
	o.refused(guard, ruleID)
	o.h.page.Write(w, o.r, status, o.id)
	o.event(guard, events.VerdictBlocked, ruleID, reason, status, with...)
}

// apply turns a stage's decision into mamori's answer (see refuse and
// refuseNotice) and reports whether it answered; in detect mode a
// refusal the stage does not enforce is only reported as "detected", as
// the WAF does, so a rollout in detect mode shows what every guard would
// refuse.
func (o *outcome) apply(w http.ResponseWriter) func(pipeline.Stage, pipeline.Decision) bool {
	return func(s pipeline.Stage, d pipeline.Decision) bool {
		if d.Vary != "" {
			// The answer depends on these headers; caches must know.
			w.Header().Add("Vary", d.Vary)
		}
		if d.User != "" {
			o.user = d.User
		}
		if d.Flag {
			o.event(s.Name(), events.VerdictFlagged, d.Rule, d.Reason, 0)
		}
		o.rewrite(d.Rewrite)
		if o.extra != nil {
			for name, values := range d.Log {
				o.extra.Set(zap.Strings(name, values))
			}
		}
		for _, e := range d.Events {
			guard := e.Guard
			if guard == "" {
				guard = s.Name()
			}
			with := []func(*events.Event){withRef(e.SessionRef)}
			if e.User != "" {
				with = append(with, withUser(e.User))
			}
			if e.Action != "" {
				with = append(with, withAudit(e.Action, e.Outcome))
			}
			o.event(guard, e.Verdict, e.Rule, e.Reason, e.Status, with...)
		}
		if !d.Refuses() {
			return false
		}
		if o.h.WAF.Mode == waf.ModeDetect && !d.Enforce {
			o.event(s.Name(), events.VerdictDetected, d.Rule, d.Reason, d.Status)
			return false
		}
		for name, values := range d.Header {
			w.Header()[name] = values
		}
		if d.Notice != nil {
			o.refuseNotice(w, s.Name(), d.Rule, d.Reason, d.Status, d.Notice)
		} else {
			o.refuse(w, s.Name(), d.Rule, d.Reason, d.Status)
		}
		return true
	}
}

// rewrite replaces request headers as a stage decided (pipeline.Decision
// Rewrite); the view rereads the cookies when the Cookie header changed.
func (o *outcome) rewrite(h http.Header) {
	for name, values := range h {
		if len(values) == 0 {
			o.r.Header.Del(name)
		} else {
			o.r.Header[name] = values
		}
		if name == "Cookie" {
			o.view.RereadCookies(o.r.Header)
		}
	}
}

// refused records a guard's refusal in the metrics and the access log.
func (o *outcome) refused(guard, ruleID string) {
	o.reported = true
	o.Set(events.VerdictBlocked, guard, ruleID)
	o.h.metrics.Request(events.VerdictBlocked, 0, 0, false)
	o.h.metrics.Refused(guard, ruleID)
}

// event emits one event for a guard's decision about this request; with
// adds optional fields (user name, session reference, audit action).
func (o *outcome) event(guard, verdict, ruleID, reason string, status int, with ...func(*events.Event)) {
	o.h.metrics.Event(guard, verdict, ruleID)
	o.Note(verdict, guard, ruleID)
	if !events.Enabled(o.h.events, verdict) {
		return
	}
	e := events.ForRequest(o.r, o.id, o.clientIP)
	e.Guard, e.Verdict, e.Status, e.RuleID, e.RuleName, e.UserName = guard, verdict, status, ruleID, reason, o.user
	for _, f := range with {
		f(e)
	}
	e.Emit(o.h.events)
}

// refuseHeaders answers 502 instead of a response whose headers hold CR,
// LF or NUL, or that redirects off-site where the request said (V10),
// and reports it as an event of its own. The response writer has removed
// every header but the request ID.
func (o *outcome) refuseHeaders(w http.ResponseWriter, err error) {
	o.replaced = http.StatusBadGateway
	o.h.page.Write(w, o.r, http.StatusBadGateway, o.id)
	rule := "unsafe-response-header"
	if errors.Is(err, headers.ErrOpenRedirect) {
		rule = "open-redirect"
	}
	o.unsafe = rule
	o.event("headers", events.VerdictBlocked, rule, err.Error(), http.StatusBadGateway)
}

func statusOf(err error) int {
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode != 0 {
		return he.StatusCode
	}
	return http.StatusInternalServerError
}

// clientAddress is the real client: Caddy's client_ip (which honours the
// server's trusted_proxies), and the connection's port.
func clientAddress(r *http.Request) (string, int) {
	_, portStr, _ := net.SplitHostPort(r.RemoteAddr)
	port, _ := strconv.Atoi(portStr)
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"), port
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr, port
	}
	return host, port
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
