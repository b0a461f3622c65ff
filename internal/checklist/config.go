package checklist

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// handler is the part of mamori's handler JSON (caddymodule.Handler) the
// checklist reads. The structs are the checklist's own, with the same JSON
// names as the guards' configurations, so that a change of a guard's Go
// types does not reach here; the Caddyfile tests of `mamori check`
// (cmd/mamori) catch a renamed JSON field.
type handler struct {
	WAF struct {
		Mode             string   `json:"mode"`
		ParanoiaLevel    int      `json:"paranoia_level"`
		InboundThreshold int      `json:"inbound_threshold"`
		SetupDirectives  string   `json:"setup_directives"`
		Directives       string   `json:"directives"`
		Includes         []string `json:"include"`
		Exclusions       []struct {
			Rules      string `json:"rules"`
			Target     string `json:"target"`
			PathPrefix string `json:"path_prefix"`
		} `json:"exclusions"`
		Detection struct {
			Off bool `json:"off"`
		} `json:"detection"`
	} `json:"waf"`
	Headers struct {
		StrictTransportSecurity string `json:"strict_transport_security"`
		ContentSecurityPolicy   string `json:"content_security_policy"`
		CSPReportOnly           bool   `json:"csp_report_only"`
		OpenRedirect            string `json:"open_redirect"`
	} `json:"headers"`
	Profile *profileConfig  `json:"profile"`
	Limits  json.RawMessage `json:"limits"`
	Paths   struct {
		AdminAllow []string `json:"admin_allow"`
		Allow      []string `json:"allow"`
	} `json:"paths"`
	CSRF struct {
		Off     bool     `json:"off"`
		Protect []string `json:"protect"`
	} `json:"csrf"`
	PasswordPolicy struct {
		Off        bool `json:"off"`
		MinLength  int  `json:"min_length"`
		MinClasses int  `json:"min_classes"`
	} `json:"password_policy"`
	Session *struct {
		Off     bool              `json:"off"`
		Cookies []json.RawMessage `json:"cookies"`
		Bind    *struct {
			Off bool `json:"off"`
			// UserAgent is true/false or "full", "family", "off".
			UserAgent json.RawMessage `json:"user_agent"`
		} `json:"bind"`
		StoreFailure string `json:"store_failure"`
		NoStore      *bool  `json:"no_store"`
	} `json:"session"`
	LoginThrottle *struct {
		Off    bool   `json:"off"`
		Limit  int    `json:"limit"`
		Window string `json:"window"`
	} `json:"login_throttle"`
	Watch json.RawMessage `json:"watch"`
	Logs  struct {
		AccessLog *struct {
			Off      bool            `json:"off"`
			Output   json.RawMessage `json:"output"`
			ChainKey string          `json:"chain_key"`
		} `json:"access_log"`
	} `json:"logs"`
}

type profileConfig struct {
	Name           string   `json:"name"`
	DisablePatches []string `json:"disable_patches"`
}

// app is the global mamori app (caddymodule.App).
type app struct {
	State        string   `json:"state"`
	SealKeys     []string `json:"seal_keys"`
	RedisFailure string   `json:"redis_failure"`
}

// upstream is one reverse_proxy handler of a site.
type upstream struct {
	Dials   []string
	Dynamic bool
	Health  bool
}

// site is one host (or address) that serves content, with what decides
// its verdicts.
type site struct {
	Name      string
	HTTPS     bool
	Internal  bool // the certificate comes from Caddy's local CA
	Trusted   bool // the server has trusted_proxies
	Redirects bool // automatic HTTP→HTTPS redirects on
	Mamori    *handler
	Upstreams []upstream
	Health    bool // a mamori_health route
	Metrics   bool // a metrics handler route
}

// config is everything the checklist reads from one adapted configuration.
type config struct {
	AdminDisabled bool
	AdminListen   string // "" when absent: Caddy's default
	App           app
	EventsLogged  bool   // some log writes the mamori.events logger
	EventsWhere   string // where, for the reason
	Sites         []site
}

type rawConfig struct {
	Admin *struct {
		Disabled bool   `json:"disabled"`
		Listen   string `json:"listen"`
	} `json:"admin"`
	Logging struct {
		Logs map[string]struct {
			Writer  json.RawMessage `json:"writer"`
			Include []string        `json:"include"`
			Exclude []string        `json:"exclude"`
		} `json:"logs"`
	} `json:"logging"`
	Apps struct {
		HTTP struct {
			HTTPPort  int                  `json:"http_port"`
			HTTPSPort int                  `json:"https_port"`
			Servers   map[string]rawServer `json:"servers"`
		} `json:"http"`
		Mamori app `json:"mamori"`
	} `json:"apps"`
}

type rawServer struct {
	Listen         []string `json:"listen"`
	AutomaticHTTPS *struct {
		Disable          bool     `json:"disable"`
		DisableRedirects bool     `json:"disable_redirects"`
		Skip             []string `json:"skip"`
	} `json:"automatic_https"`
	TLSConnectionPolicies json.RawMessage `json:"tls_connection_policies"`
	TrustedProxies        json.RawMessage `json:"trusted_proxies"`
	Routes                []rawRoute      `json:"routes"`
}

type rawRoute struct {
	Match []struct {
		Host []string `json:"host"`
	} `json:"match"`
	Handle []json.RawMessage `json:"handle"`
}

// parse reads an adapted (JSON) Caddy configuration.
func parse(adapted []byte) (*config, error) {
	var raw rawConfig
	if err := json.Unmarshal(adapted, &raw); err != nil {
		return nil, fmt.Errorf("reading the adapted configuration: %w", err)
	}
	c := &config{App: raw.Apps.Mamori}
	if raw.Admin != nil {
		c.AdminDisabled, c.AdminListen = raw.Admin.Disabled, raw.Admin.Listen
	}
	c.EventsLogged, c.EventsWhere = eventsLogged(raw)

	httpPort, httpsPort := raw.Apps.HTTP.HTTPPort, raw.Apps.HTTP.HTTPSPort
	if httpPort == 0 {
		httpPort = 80
	}
	if httpsPort == 0 {
		httpsPort = 443
	}
	names := make([]string, 0, len(raw.Apps.HTTP.Servers))
	for n := range raw.Apps.HTTP.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	var metricsAnywhere bool
	for _, n := range names {
		srv := raw.Apps.HTTP.Servers[n]
		for _, r := range srv.Routes {
			var hosts []string
			for _, m := range r.Match {
				hosts = append(hosts, m.Host...)
			}
			s := site{Name: strings.Join(hosts, ", ")}
			if s.Name == "" {
				s.Name = strings.Join(srv.Listen, ", ")
			}
			for _, h := range r.Handle {
				if err := s.walk(h); err != nil {
					return nil, fmt.Errorf("site %s: %w", s.Name, err)
				}
			}
			metricsAnywhere = metricsAnywhere || s.Metrics
			if s.Mamori == nil && len(s.Upstreams) == 0 {
				continue // redirects and static answers serve no content
			}
			s.HTTPS, s.Redirects = httpsServer(srv, hosts, httpPort, httpsPort)
			s.Trusted = len(srv.TrustedProxies) > 0 && string(srv.TrustedProxies) != "null"
			for _, h := range hosts {
				if h == "localhost" || strings.HasSuffix(h, ".localhost") || net.ParseIP(h) != nil {
					s.Internal = true
				}
			}
			c.Sites = append(c.Sites, s)
		}
	}
	if metricsAnywhere {
		for i := range c.Sites {
			c.Sites[i].Metrics = true
		}
	}
	return c, nil
}

// httpsServer says whether a server serves the hosts over TLS and
// redirects plain HTTP to it, as Caddy's automatic HTTPS decides.
func httpsServer(srv rawServer, hosts []string, httpPort, httpsPort int) (https, redirects bool) {
	tlsPolicies := len(srv.TLSConnectionPolicies) > 0 && string(srv.TLSConnectionPolicies) != "null"
	onlyHTTPPort := len(srv.Listen) > 0
	for _, l := range srv.Listen {
		if port(l) != httpPort {
			onlyHTTPPort = false
		}
	}
	auto := srv.AutomaticHTTPS
	switch {
	case tlsPolicies:
		https = true
	case onlyHTTPPort, auto != nil && auto.Disable:
		https = false
	case len(hosts) == 0:
		https = false
		for _, l := range srv.Listen {
			if port(l) == httpsPort {
				https = true
			}
		}
	default:
		https = true
		if auto != nil {
			skipped := 0
			for _, h := range hosts {
				for _, s := range auto.Skip {
					if s == h {
						skipped++
						break
					}
				}
			}
			https = skipped < len(hosts)
		}
	}
	redirects = https && (auto == nil || !auto.DisableRedirects)
	return https, redirects
}

func port(listen string) int {
	if i := strings.LastIndex(listen, ":"); i >= 0 {
		p := listen[i+1:]
		if j := strings.Index(p, "-"); j >= 0 {
			p = p[:j]
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

// walk collects the handlers of a route, descending into subroutes.
func (s *site) walk(raw json.RawMessage) error {
	var h struct {
		Handler      string                  `json:"handler"`
		Routes       []rawRoute              `json:"routes"`
		Upstreams    []struct{ Dial string } `json:"upstreams"`
		Dynamic      json.RawMessage         `json:"dynamic_upstreams"`
		HealthChecks *struct {
			Active  json.RawMessage `json:"active"`
			Passive json.RawMessage `json:"passive"`
		} `json:"health_checks"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return err
	}
	switch h.Handler {
	case "subroute":
		for _, r := range h.Routes {
			for _, sub := range r.Handle {
				if err := s.walk(sub); err != nil {
					return err
				}
			}
		}
	case "mamori":
		if s.Mamori == nil { // the first one decides what the request meets
			var m handler
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("mamori handler: %w", err)
			}
			s.Mamori = &m
		}
	case "mamori_health":
		s.Health = true
	case "metrics":
		s.Metrics = true
	case "reverse_proxy":
		u := upstream{Dynamic: len(h.Dynamic) > 0 && string(h.Dynamic) != "null",
			Health: h.HealthChecks != nil && (len(h.HealthChecks.Active) > 0 || len(h.HealthChecks.Passive) > 0)}
		for _, d := range h.Upstreams {
			u.Dials = append(u.Dials, d.Dial)
		}
		s.Upstreams = append(s.Upstreams, u)
	}
	return nil
}

// eventsLogged says whether some Caddy log writes mamori's security events
// (the "mamori.events" logger) and where.
func eventsLogged(raw rawConfig) (bool, string) {
	const logger = "mamori.events"
	takes := func(names []string) bool {
		for _, n := range names {
			if n == logger || strings.HasPrefix(logger, n+".") {
				return true
			}
		}
		return false
	}
	if _, ok := raw.Logging.Logs["default"]; !ok {
		// Caddy's implicit default log (stderr) takes every logger.
		return true, "Caddy's default log (stderr)"
	}
	names := make([]string, 0, len(raw.Logging.Logs))
	for n := range raw.Logging.Logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := raw.Logging.Logs[n]
		if (len(l.Include) == 0 || takes(l.Include)) && !takes(l.Exclude) {
			return true, "log " + n + " (" + writerName(l.Writer) + ")"
		}
	}
	return false, ""
}

// writerName names a log writer: its file or its output module.
func writerName(raw json.RawMessage) string {
	var w struct {
		Output   string          `json:"output"`
		Filename string          `json:"filename"`
		Writer   json.RawMessage `json:"writer"`
	}
	if json.Unmarshal(raw, &w) != nil || w.Output == "" {
		return "stderr"
	}
	if w.Filename != "" {
		return w.Filename
	}
	if w.Output == "mamori_chain" && len(w.Writer) > 0 {
		return writerName(w.Writer) + ", chained"
	}
	return w.Output
}
