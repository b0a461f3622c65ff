package checklist

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// modeDetect is the WAF mode that reports instead of refusing.
const modeDetect = "detect"

// decide is one item's verdict for one site, with its reason.
func decide(id string, c *config, s site, opts Options) (Verdict, string) {
	h := s.Mamori
	switch id {
	case "A1":
		return redundancy(c, s)
	case "S3":
		return adminAPI(c)
	case "A4":
		return channel(s)
	}
	if h == nil {
		return Off, "no mamori handler in this site"
	}
	detect := h.WAF.Mode == modeDetect
	// guard is the verdict of a guard that only reports in detect mode.
	guard := func(why string) (Verdict, string) {
		if detect {
			return LoggedOnly, "mode detect: " + why + " reported as events, not refused"
		}
		return Enforced, why
	}
	prof := ""
	if h.Profile != nil {
		prof = h.Profile.Name
	}
	switch id {
	case "V1":
		return guard("request limits before any parsing (" + limitsSource(h) + "), CRS 920")
	case "V2":
		return crs(h, "942", "attack-sqli", "SQL injection")
	case "V3":
		return crs(h, "932", "attack-rce", "command injection")
	case "V4":
		v, why := crs(h, "930", "attack-lfi", "path traversal")
		if v == Enforced || v == LoggedOnly {
			why = "path normalisation and " + why
		}
		return v, why
	case "V5":
		why := "never-served files, debug switches and web-shell names denied"
		if prof != "" {
			why += ", with profile " + prof + "'s check and config pages"
		} else {
			why += "; no profile: the CMS's own check pages are not known"
		}
		if len(h.Paths.Allow) > 0 {
			why += "; paths allow re-opens " + strings.Join(h.Paths.Allow, " ")
		}
		return guard(why)
	case "V6", "S1", "B3":
		return adminAllow(h, detect, id)
	case "V7":
		if h.CSRF.Off {
			return Off, "csrf off"
		}
		why := "csrf on: unsafe methods must be same-origin (Sec-Fetch-Site, Origin, Referer)"
		if prof != "" {
			why += "; profile " + prof + "'s admin paths fail closed"
		} else if len(h.CSRF.Protect) == 0 {
			why += "; no profile and no protect paths: requests without any of the three headers pass"
		}
		return guard(why)
	case "V8":
		return sessions(c, h)
	case "V9":
		v, why := crs(h, "941", "attack-xss", "XSS")
		switch {
		case h.Headers.ContentSecurityPolicy == "":
			why += "; no csp (headers { csp … })"
		case h.Headers.CSPReportOnly:
			why += "; csp in report-only mode"
		default:
			why += "; csp enforced"
		}
		return v, why
	case "V10":
		why := "CR/LF/NUL in request headers refused by the HTTP server; upstream headers checked (502)"
		if h.Headers.OpenRedirect == "off" {
			why += "; open_redirect off: off-site redirects from request parameters pass"
		} else {
			why += "; open redirects refused"
		}
		if v, _ := crs(h, "921", "attack-protocol", ""); v != Enforced {
			why += "; CRS 921 " + string(v)
		}
		return Enforced, why
	case "V11":
		v, why := crs(h, "913", "attack-reputation-scanner", "scanner detection")
		return v, why + "; `mamori scan` is available for the regular scan"
	case "V12":
		return patches(h, detect)
	case "A2", "S11":
		if prof == "" {
			return Off, "no profile: logins and logouts are not recognised"
		}
		if !c.EventsLogged {
			return Misconfigured, "every log excludes mamori.events: login and logout events are written nowhere"
		}
		return Enforced, "profile " + prof + ": every login and logout is an event with the user, in " + c.EventsWhere
	case "A3", "B1":
		return passwords(h, detect, id)
	case "B2":
		if v, why := sessionOn(h); v != Enforced {
			return v, why
		}
		if h.Session != nil && h.Session.NoStore != nil && !*h.Session.NoStore {
			return Off, "session no_store off: private pages may be cached"
		}
		return Enforced, "Cache-Control: no-store on authenticated and admin responses, Clear-Site-Data at logout"
	case "B4":
		pv, pwhy := passwords(h, detect, "B1")
		tv, twhy := throttle(c, h)
		if tv.rank() < pv.rank() {
			return tv, twhy + "; " + pwhy
		}
		return pv, pwhy + "; " + twhy
	case "S2":
		for _, u := range s.Upstreams {
			for _, d := range u.Dials {
				if dbPort(d) {
					return Misconfigured, "reverse_proxy to " + d + ": a database port proxied to the internet"
				}
			}
		}
		v, why := crs(h, "934", "attack-ssrf", "SSRF")
		return v, "only the configured upstreams are proxied; " + why
	case "S5":
		al := h.Logs.AccessLog
		if al != nil && al.Off {
			return Off, "access_log off"
		}
		return Enforced, "mamori's access log, one line per request, in " + accessDestination(h)
	case "S6":
		return retention(h, opts)
	case "S8":
		for _, k := range c.App.SealKeys {
			if literal(k) {
				return Misconfigured, "seal_key written in the configuration: use {env.…} or {file.…}"
			}
		}
		if al := h.Logs.AccessLog; al != nil && literal(al.ChainKey) {
			return Misconfigured, "chain_key written in the configuration: use {env.…} or {file.…}"
		}
		return Enforced, "passwords, cookies and tokens masked in every log; session cookies sealed; keys on disk mode 0600"
	case "S13":
		switch {
		case !s.Health:
			return Off, "no mamori_health route for load balancers"
		case c.AdminDisabled && !s.Metrics:
			return Off, "admin off and no metrics handler: the Prometheus metrics are not served"
		}
		return Enforced, "mamori_health route and Prometheus metrics on " + metricsWhere(c)
	}
	return Off, "unknown item"
}

// crs is the verdict of a CRS category: off when the rule engine is off
// or an exclusion removes the category everywhere.
func crs(h *handler, category, tag, name string) (Verdict, string) {
	directives := strings.ToLower(h.WAF.SetupDirectives + "\n" + h.WAF.Directives)
	if strings.Contains(directives, "secruleengine off") {
		return Off, "SecRuleEngine Off in directives"
	}
	lo, _ := strconv.Atoi(category + "000")
	hi := lo + 999
	for _, e := range h.WAF.Exclusions {
		if e.Target != "" || e.PathPrefix != "" {
			continue
		}
		if e.Rules == "tag:"+tag {
			return Off, "exclude " + e.Rules + " removes CRS " + category + " everywhere"
		}
		a, b, ok := strings.Cut(e.Rules, "-")
		if !ok {
			b = a
		}
		from, err1 := strconv.Atoi(a)
		to, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && from <= lo+100 && to >= hi-100 {
			return Off, "exclude " + e.Rules + " removes CRS " + category + " everywhere"
		}
	}
	pl := h.WAF.ParanoiaLevel
	if pl == 0 {
		pl = 1
	}
	th := h.WAF.InboundThreshold
	if th == 0 {
		th = 5
	}
	why := fmt.Sprintf("CRS %s (%s) at paranoia %d, anomaly threshold %d", category, name, pl, th)
	if h.WAF.Detection.Off {
		why += ", mamori's detection layers off"
	}
	if h.WAF.Mode == modeDetect || strings.Contains(directives, "secruleengine detectiononly") {
		return LoggedOnly, "mode detect: " + why + ", reported as events, not refused"
	}
	return Enforced, why
}

func limitsSource(h *handler) string {
	if len(h.Limits) > 0 && string(h.Limits) != "{}" && string(h.Limits) != "null" {
		return "limits { … }, defaults where unset"
	}
	return "the default limits"
}

// adminAllow is the admin allow-list's verdict (V6, S1, B3).
func adminAllow(h *handler, detect bool, id string) (Verdict, string) {
	if len(h.Paths.AdminAllow) == 0 {
		why := "no admin_allow: admin screens answer any network"
		if id == "V6" {
			why += " (never-served files are still denied)"
		}
		return Off, why
	}
	for _, a := range h.Paths.AdminAllow {
		if _, n, err := net.ParseCIDR(a); err == nil {
			if ones, _ := n.Mask.Size(); ones == 0 {
				return Misconfigured, "admin_allow " + a + " allows every address"
			}
		}
	}
	if h.Profile == nil {
		return Misconfigured, "admin_allow without a profile: no admin paths to guard"
	}
	why := "admin_allow " + strings.Join(h.Paths.AdminAllow, " ") + " on profile " + h.Profile.Name + "'s admin and installer paths"
	if detect {
		return LoggedOnly, "mode detect: " + why + ", other networks reported, not refused"
	}
	return Enforced, why
}

// sessionOn says whether the session guard runs.
func sessionOn(h *handler) (Verdict, string) {
	if h.Session != nil && h.Session.Off {
		return Off, "session off"
	}
	if h.Profile == nil && (h.Session == nil || len(h.Session.Cookies) == 0) {
		return Off, "no profile and no session cookie rules: the session cookies are not known"
	}
	return Enforced, ""
}

// sessions is V8: the session guard acts in detect mode too.
func sessions(c *config, h *handler) (Verdict, string) {
	if v, why := sessionOn(h); v != Enforced {
		return v, why
	}
	sc := h.Session
	if sc != nil && sc.Bind != nil && sc.Bind.Off {
		return Misconfigured, "session bind off: a stolen sealed cookie replays from anywhere"
	}
	why := "session cookies hardened, sealed and bound to the client"
	if sc != nil && sc.Bind != nil {
		switch ua := strings.Trim(string(sc.Bind.UserAgent), `"`); ua {
		case "", "null", "false", "off":
		case "true":
			why += " (and its User-Agent)"
		default:
			why += " (and its User-Agent: " + ua + ")"
		}
	}
	why += ", revoked at logout, idle and absolute timeouts"
	why += "; " + stateNote(c)
	if failOpen(c, sc != nil && sc.StoreFailure == "open", sc != nil && sc.StoreFailure == "closed") {
		why += "; store_failure open: revocations unchecked while Redis is down"
	}
	return Enforced, why
}

func stateNote(c *config) string {
	if strings.HasPrefix(c.App.State, "redis") {
		return "revocations shared through Redis"
	}
	return "state memory: revocations per instance (use state redis with several instances)"
}

func failOpen(c *config, open, closed bool) bool {
	return open || !closed && c.App.RedisFailure == "open"
}

// passwords is the password policy's verdict (A3, B1).
func passwords(h *handler, detect bool, id string) (Verdict, string) {
	if h.Profile == nil {
		return Off, "no profile: the CMS's password forms are not known"
	}
	p := h.PasswordPolicy
	if p.Off {
		return Off, "password_policy off"
	}
	minLen, minClasses := p.MinLength, p.MinClasses
	if minLen == 0 {
		minLen = 8
	}
	if minClasses == 0 {
		minClasses = 3
	}
	if id == "B1" && (minLen < 8 || minClasses < 3) {
		return Misconfigured, fmt.Sprintf("password_policy min_length %d, min_classes %d: the checklist asks 8 and 3", minLen, minClasses)
	}
	why := fmt.Sprintf("password_policy on profile %s's password forms: %d+ characters, %d of 4 classes, no dictionary word or user ID", h.Profile.Name, minLen, minClasses)
	if detect {
		return LoggedOnly, "mode detect: " + why + ", weak passwords reported, not refused"
	}
	return Enforced, why
}

// throttle is the login throttle's verdict (B4); it refuses in detect
// mode too.
func throttle(c *config, h *handler) (Verdict, string) {
	if h.Profile == nil {
		return Off, "no profile: logins are not recognised, so not throttled"
	}
	t := h.LoginThrottle
	if t != nil && t.Off {
		return Off, "login_throttle off"
	}
	limit, window := 5, "15m"
	if t != nil && t.Limit > 0 {
		limit = t.Limit
	}
	if t != nil && t.Window != "" {
		window = strings.TrimSuffix(strings.TrimSuffix(t.Window, "0s"), "0m") // "1h0m0s" → "1h"
	}
	why := fmt.Sprintf("login_throttle %d per %s per IP and account", limit, window)
	if !strings.HasPrefix(c.App.State, "redis") {
		why += " (per instance: state memory)"
	}
	return Enforced, why
}

// patches is V12.
func patches(h *handler, detect bool) (Verdict, string) {
	var parts []string
	if h.Profile != nil {
		s := "profile " + h.Profile.Name + "'s virtual patches"
		if len(h.Profile.DisablePatches) > 0 {
			s += " (but " + strings.Join(h.Profile.DisablePatches, " ") + ")"
		}
		parts = append(parts, s)
	}
	if len(h.WAF.Includes) > 0 {
		parts = append(parts, "include "+strings.Join(h.WAF.Includes, " "))
	}
	if len(parts) == 0 {
		return Off, "no profile and no rules include: no virtual patches, nowhere to add one (rules { include /etc/mamori/patches/*.conf })"
	}
	why := strings.Join(parts, ", ")
	if len(h.Watch) > 0 && string(h.Watch) != "0" {
		why += "; watched for changes"
	} else {
		why += "; new patches with `mamori reload-rules`"
	}
	if detect {
		return LoggedOnly, "mode detect: " + why + ", matches reported, not refused"
	}
	return Enforced, why
}

// redundancy is A1: several upstreams with health checks.
func redundancy(c *config, s site) (Verdict, string) {
	var dials []string
	dynamic, health := false, true
	for _, u := range s.Upstreams {
		dials = append(dials, u.Dials...)
		dynamic = dynamic || u.Dynamic
		health = health && u.Health
	}
	switch {
	case len(s.Upstreams) == 0:
		return Off, "no reverse_proxy in this site"
	case !dynamic && len(dials) < 2:
		return Off, "one upstream (" + strings.Join(dials, " ") + "): no redundancy"
	case !health:
		return Misconfigured, "several upstreams without health_checks: a dead one keeps getting requests"
	}
	why := "reverse_proxy with health checks over " + strconv.Itoa(len(dials)) + " upstreams"
	if dynamic {
		why = "reverse_proxy with health checks over dynamic upstreams"
	}
	if strings.HasPrefix(c.App.State, "redis") {
		why += "; mamori instances share state through Redis"
	} else {
		why += "; state memory: run one mamori instance, or state redis for several"
	}
	return Enforced, why
}

// adminAPI is S3: Caddy's admin API off or on loopback.
func adminAPI(c *config) (Verdict, string) {
	if c.AdminDisabled {
		return Enforced, "admin off (no `mamori reload`, no metrics on the admin API)"
	}
	l := c.AdminListen
	if l == "" {
		return Enforced, "admin API on Caddy's default localhost:2019"
	}
	if strings.HasPrefix(l, "unix/") {
		return Enforced, "admin API on a local socket " + l
	}
	host := l
	if i := strings.LastIndex(l, ":"); i >= 0 {
		host = strings.Trim(l[:i], "[]")
	}
	if host == "localhost" {
		return Enforced, "admin API on loopback " + l
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return Enforced, "admin API on loopback " + l
	}
	return Misconfigured, "admin " + l + ": the admin API is reachable from the network"
}

// channel is A4: HTTPS with a redirect and HSTS.
func channel(s site) (Verdict, string) {
	if !s.HTTPS {
		if s.Trusted {
			return NotApplicable, "plain HTTP behind trusted_proxies: TLS ends at the load balancer, which must redirect to HTTPS and send HSTS"
		}
		return Off, "plain HTTP (http:// site or HTTP port) and no trusted_proxies"
	}
	if s.Mamori != nil && s.Mamori.Headers.StrictTransportSecurity == "off" {
		return Misconfigured, "headers hsts off on an HTTPS site"
	}
	if !s.Redirects {
		return Misconfigured, "automatic_https disable_redirects: plain HTTP is not sent to HTTPS"
	}
	why := "automatic HTTPS (a public certificate needs public DNS and ports 80/443 reachable), HTTP→HTTPS redirect"
	if s.Internal {
		why = "HTTPS with Caddy's local CA (localhost or an IP: browsers do not trust it), HTTP→HTTPS redirect"
	}
	if s.Mamori != nil {
		why += ", HSTS"
	}
	return Enforced, why
}

// retention is S6: the access log's rotation, age and chain.
func retention(h *handler, opts Options) (Verdict, string) {
	al := h.Logs.AccessLog
	if al != nil && al.Off {
		return Off, "access_log off"
	}
	days, keep, file, chained := 400, 100000, "", false
	if al != nil && len(al.Output) > 0 {
		w := al.Output
		var o struct {
			Output       string          `json:"output"`
			Filename     string          `json:"filename"`
			Writer       json.RawMessage `json:"writer"`
			Roll         *bool           `json:"roll"`
			RollKeep     int             `json:"roll_keep"`
			RollKeepDays int             `json:"roll_keep_days"`
		}
		_ = json.Unmarshal(w, &o)
		if o.Output == "mamori_chain" {
			chained = true
			_ = json.Unmarshal(o.Writer, &o)
		}
		if o.Output != "file" {
			return NotApplicable, "access log to " + o.Output + ": kept as long as that collector keeps it"
		}
		if o.Roll != nil && !*o.Roll {
			return Misconfigured, "access log " + o.Filename + " roll_disabled: never rotated nor expired"
		}
		file, days, keep = o.Filename, o.RollKeepDays, o.RollKeep
		if days == 0 {
			days = 90
		}
		if keep == 0 {
			keep = 10
		}
	}
	if file == "" {
		file = "$MAMORI_LOG_DIR/access.log"
	}
	if keep < days {
		return Misconfigured, fmt.Sprintf("access log roll_keep %d: at most %d rolled files, fewer than roll_keep_for %dd of daily files", keep, keep, days)
	}
	chained = chained || al != nil && al.ChainKey != "" || opts.LogKeyInEnv
	why := fmt.Sprintf("access log %s rolled and kept %d days", file, days)
	if chained {
		why += ", HMAC-chained (`mamori logs verify`)"
	} else {
		why += ", not tamper-evident (no chain_key or $MAMORI_LOG_KEY)"
	}
	return Enforced, why
}

func accessDestination(h *handler) string {
	if al := h.Logs.AccessLog; al != nil && len(al.Output) > 0 {
		return writerName(al.Output)
	}
	return "$MAMORI_LOG_DIR/access.log (default /var/log/mamori)"
}

func metricsWhere(c *config) string {
	if !c.AdminDisabled {
		l := c.AdminListen
		if l == "" {
			l = "localhost:2019"
		}
		return "the admin API (" + l + "/metrics)"
	}
	return "a metrics route"
}

// literal says a key is written out instead of a placeholder.
func literal(k string) bool {
	k = strings.TrimSpace(k)
	return k != "" && !strings.HasPrefix(k, "{")
}

// dbPort says an upstream address is a well-known database port.
func dbPort(dial string) bool {
	switch port(dial) {
	case 3306, 5432, 6379, 27017, 1433, 1521, 9042, 11211:
		return true
	}
	return false
}
