package caddymodule

import (
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/waf"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("mamori", parseCaddyfile)
	// mamori must see every request before any other handler does, so no
	// operator needs an `order` line.
	httpcaddyfile.RegisterDirectiveOrder("mamori", httpcaddyfile.Before, "tracing")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var m Handler
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return &m, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	mamori {
//		mode block|detect
//		paranoia <1-4> [detection <1-4>]
//		anomaly_threshold <inbound> [<outbound>]
//		request_body_limit <size>
//		request_body_memory_limit <size>
//		response_body_limit <size>
//		response_inspection on|off
//		response_mime_types <type>...
//		regex_prefilter on|off
//		setup_directives <seclang>
//		include <glob>...
//		watch <interval>|off
//		directives <seclang>
//		exclude <id|id-id|tag:name> [on <target>] [at <path-prefix>]
//		headers {
//			hsts <value>|off
//			csp <policy> [report_only]
//			content_type_options <value>|off
//			frame_options <value>|off
//			referrer_policy <value>|off
//			permissions_policy <value>|off
//			coop <value>|off
//			remove <header>...
//			keep <header>...
//			csp_report <path>
//			open_redirect block|off
//			redirect_allow <host|origin|*.domain>...
//		}
//		limits {
//			uri_length|header_count|header_bytes|body|upload <value>|off
//			args|arg_name|arg_value|json_depth <value>|off
//			methods <METHOD>...
//			at <path> { <limit> <value> ... }
//		}
//		admin_allow <cidr|ip>...
//		admin_deny_status 403|404
//		paths {
//			deny <glob>...
//			allow <glob>...
//			case_insensitive on|off
//			debug_param <name>[=<value>]...
//			upload_path <path/>...
//			directory_listings block|off
//		}
//		profile movabletype|wordpress {
//			admin_path <path>
//			static_path <path>
//			disable_patch <CVE-ID>...
//		}
//		csrf off | csrf {
//			trusted_origin <origin>...
//			protect <path-prefix>...
//			exempt <path-prefix>...
//			allow_same_site on|off
//			off
//		}
//		password_policy off | password_policy {
//			min_length <n>
//			min_classes <1-4>
//			words <word>...
//			words_file <path>
//			min_score <0-4>
//			off
//		}
//		session off | { see parseSession }
//		login_throttle <N> per <duration> [redis_failure open|closed] | off
//		detection on|off | detection {
//			decode|placements|signatures|promote|text_gate on|off
//		}
//		block_page <template-file>
//		access_log off | [<file>] {
//			output <log writer> ...
//			chain_key <key>
//			ship <log writer> ...
//			roll_size|roll_keep_for|roll_keep|roll_interval|... <value>
//		}
//		log_secret_fields <name>...
//	}
//
// The WAF options may also be grouped in `crs { ... }` and the rule
// options in `rules { ... }` blocks.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	var needProfile profileChecks
	if err := h.parseBlock(d, d.Nesting(), &needProfile); err != nil {
		return err
	}
	if h.Profile == nil {
		// Options that act on the profile's forms and cookies would be
		// accepted and do nothing without one: an error at their line.
		if needProfile.session != nil {
			return needProfile.session
		}
		if needProfile.password != nil {
			return needProfile.password
		}
	}
	h.recordRuleFiles()
	return nil
}

// profileChecks hold the errors of options that need a profile, made at
// their line and returned when the block turns out to have none.
type profileChecks struct{ session, password error }

func (h *Handler) parseBlock(d *caddyfile.Dispenser, nesting int, needProfile *profileChecks) error {
	c := &h.WAF
	for d.NextBlock(nesting) {
		option := d.Val()
		switch option {
		case "crs", "rules":
			if d.NextArg() {
				return d.ArgErr()
			}
			if err := h.parseBlock(d, d.Nesting(), needProfile); err != nil {
				return err
			}
		case "mode":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			if v != string(waf.ModeBlock) && v != string(waf.ModeDetect) {
				return d.Errf("mode must be block or detect, not %q", v)
			}
			c.Mode = waf.Mode(v)
		case "paranoia", "paranoia_level":
			args := d.RemainingArgs()
			if len(args) != 1 && !(len(args) == 3 && args[1] == "detection") {
				return d.Errf("usage: paranoia <1-4> [detection <1-4>]")
			}
			level, err := levelArg(d, args[0])
			if err != nil {
				return err
			}
			c.ParanoiaLevel = level
			if len(args) == 3 {
				det, err := levelArg(d, args[2])
				if err != nil {
					return err
				}
				if det < level {
					return d.Errf("detection paranoia level %d is below the blocking level %d", det, level)
				}
				c.DetectionParanoiaLevel = det
			}
		case "anomaly_threshold":
			args := d.RemainingArgs()
			if len(args) < 1 || len(args) > 2 {
				return d.Errf("usage: anomaly_threshold <inbound> [<outbound>]")
			}
			in, err := positiveArg(d, args[0])
			if err != nil {
				return err
			}
			c.InboundThreshold = in
			if len(args) == 2 {
				out, err := positiveArg(d, args[1])
				if err != nil {
					return err
				}
				c.OutboundThreshold = out
			}
		case "request_body_limit", "request_body_memory_limit", "response_body_limit":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(v)
			if err != nil || size == 0 || size > 1<<40 {
				return d.Errf("%s: %q is not a size such as 512KB or 10MiB", option, v)
			}
			switch option {
			case "request_body_limit":
				c.RequestBodyLimit = int64(size)
			case "request_body_memory_limit":
				c.RequestBodyInMemoryLimit = int64(size)
			default:
				c.ResponseBodyLimit = int64(size)
			}
		case "budget":
			// budget { inspected_bytes <size>|off  decoded_bytes <size>|off
			//          decoded_values <n>|off  depth on|off
			//          decompressed_bytes <size>|off }
			if err := parseBudget(d, &c.Budget); err != nil {
				return err
			}
		case "response_inspection", "regex_prefilter":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			on, err := onOff(d, option, v)
			if err != nil {
				return err
			}
			if option == "response_inspection" {
				c.InspectResponseBody = &on
			} else {
				c.RegexPrefilter = &on
			}
		case "response_mime_types":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			c.ResponseMIMETypes = args
		case "setup_directives", "directives":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			if option == "directives" {
				c.Directives = joinLines(c.Directives, v)
			} else {
				c.SetupDirectives = joinLines(c.SetupDirectives, v)
			}
		case "include":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			c.Includes = append(c.Includes, args...)
		case "exclude":
			e, err := parseExclusion(d)
			if err != nil {
				return err
			}
			c.Exclusions = append(c.Exclusions, e)
		case "headers":
			if d.NextArg() {
				return d.ArgErr()
			}
			if err := parseHeaders(d, &h.Headers); err != nil {
				return err
			}
		case "profile":
			if err := parseProfile(d, h); err != nil {
				return err
			}
		case "csrf":
			if err := parseCSRF(d, h); err != nil {
				return err
			}
		case "password_policy":
			atLine := d.Err(errPasswordPolicyNeedsProfile)
			if err := parsePasswordPolicy(d, h); err != nil {
				return err
			}
			if !h.PasswordPolicy.Off {
				needProfile.password = atLine
			}
		case "limits":
			if err := parseLimits(d, &h.Limits); err != nil {
				return err
			}
		case "paths":
			if err := parsePaths(d, &h.Paths); err != nil {
				return err
			}
		case "admin_allow", "admin_deny_status":
			if err := parseAdminOption(d, &h.Paths); err != nil {
				return err
			}
		case "session":
			atLine := d.Err(errSessionNeedsCookies)
			if err := parseSession(d, h); err != nil {
				return err
			}
			if !h.Session.Off && len(h.Session.Cookies) == 0 {
				needProfile.session = atLine
			}
		case "login_throttle":
			if err := parseLoginThrottle(d, h); err != nil {
				return err
			}
		case "watch":
			if err := parseWatch(d, h); err != nil {
				return err
			}
		case "access_log":
			if err := parseAccessLog(d, h); err != nil {
				return err
			}
		case "log_secret_fields":
			if err := parseSecretFields(d, h); err != nil {
				return err
			}
		case "detection":
			if err := parseDetection(d, &c.Detection); err != nil {
				return err
			}
		case "block_page":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			h.BlockPage = v
		default:
			return d.Errf("unknown mamori option %q", option)
		}
	}
	return nil
}

// parseHeaders reads the headers { } block.
func parseHeaders(d *caddyfile.Dispenser, p *headers.Policy) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		args := d.RemainingArgs()
		one := func(dst *string) error {
			if len(args) != 1 {
				return d.Errf("headers: %s takes one value (or off)", option)
			}
			*dst = args[0]
			return nil
		}
		var err error
		switch option {
		case "hsts":
			err = one(&p.StrictTransportSecurity)
		case "csp":
			if len(args) == 2 && args[1] == "report_only" {
				p.CSPReportOnly = true
				args = args[:1]
			}
			err = one(&p.ContentSecurityPolicy)
		case "content_type_options":
			err = one(&p.ContentTypeOptions)
		case "frame_options":
			err = one(&p.FrameOptions)
		case "referrer_policy":
			err = one(&p.ReferrerPolicy)
		case "permissions_policy":
			err = one(&p.PermissionsPolicy)
		case "coop":
			err = one(&p.CrossOriginOpenerPolicy)
		case "csp_report":
			err = one(&p.CSPReportPath)
		case "open_redirect":
			err = one(&p.OpenRedirect)
		case "redirect_allow":
			if len(args) == 0 {
				return d.ArgErr()
			}
			p.RedirectAllow = append(p.RedirectAllow, args...)
		case "remove", "keep":
			if len(args) == 0 {
				return d.ArgErr()
			}
			if option == "remove" {
				p.Remove = append(p.Remove, args...)
			} else {
				p.Keep = append(p.Keep, args...)
			}
		default:
			return d.Errf("unknown headers option %q", option)
		}
		if err != nil {
			return err
		}
	}
	if _, err := p.Compile(); err != nil {
		return d.Errf("headers: %v", err)
	}
	return nil
}

// parseExclusion reads `exclude <rules> [on <target>] [at <path>]`.
func parseExclusion(d *caddyfile.Dispenser) (waf.Exclusion, error) {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return waf.Exclusion{}, d.Errf("usage: exclude <id|id-id|tag:name> [on <target>] [at <path-prefix>]")
	}
	e := waf.Exclusion{Rules: args[0]}
	for i := 1; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return e, d.Errf("exclude: %q needs a value", args[i])
		}
		switch args[i] {
		case "on":
			e.Target = args[i+1]
		case "at":
			e.PathPrefix = args[i+1]
		default:
			return e, d.Errf("exclude: expected 'on <target>' or 'at <path>', got %q", args[i])
		}
	}
	if err := e.Validate(); err != nil {
		return e, d.Errf("exclude: %v", err)
	}
	return e, nil
}

// onOff is the one parser of on|off values: what names the option in
// the error ("csrf: allow_same_site").
func onOff(d *caddyfile.Dispenser, what string, args ...string) (bool, error) {
	if len(args) == 1 {
		switch args[0] {
		case "on":
			return true, nil
		case "off":
			return false, nil
		}
	}
	return false, d.Errf("%s must be on or off, not %q", what, strings.Join(args, " "))
}

func oneArg(d *caddyfile.Dispenser) (string, error) {
	var v string
	if !d.Args(&v) {
		return "", d.ArgErr()
	}
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

func levelArg(d *caddyfile.Dispenser, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 4 {
		return 0, d.Errf("paranoia level must be 1 to 4, not %q", s)
	}
	return n, nil
}

func positiveArg(d *caddyfile.Dispenser, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, d.Errf("anomaly threshold must be a positive whole number, not %q", s)
	}
	return n, nil
}

func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	return strings.TrimRight(a, "\n") + "\n" + b
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)

const (
	errSessionNeedsCookies        = "session: needs a profile or `cookie <name> ...` lines: without them it guards no cookie"
	errPasswordPolicyNeedsProfile = "password_policy: needs a profile: it checks the new passwords of the profile's password forms"
)

// parseProfile reads `profile <name> [{ admin_path <p>; static_path <p> }]`.
func parseProfile(d *caddyfile.Dispenser, h *Handler) error {
	name, err := oneArg(d)
	if err != nil {
		return err
	}
	pc := &ProfileConfig{Name: name}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		if option == "disable_patch" {
			if err := parseDisablePatch(d, pc); err != nil {
				return err
			}
			continue
		}
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		switch option {
		case "admin_path":
			pc.AdminPath = v
		case "static_path":
			pc.StaticPath = v
		default:
			return d.Errf("unknown profile option %q", option)
		}
	}
	p, err := profile.Get(pc.Name, pc.Options)
	if err != nil {
		return d.Err(err.Error())
	}
	if err := checkProfileRules(d, pc, p.Root, p.Static); err != nil {
		return err
	}
	h.Profile = pc
	return nil
}

// parseBudget reads the work budget's block (internal/waf Budget).
func parseBudget(d *caddyfile.Dispenser, b *waf.Budget) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		var n int64
		switch {
		case v == "off":
			n = -1
		case option == "depth" && v == "on":
			n = 0
		case option == "decoded_values":
			i, err := strconv.ParseInt(v, 10, 64)
			if err != nil || i < 1 {
				return d.Errf("budget: decoded_values %q is not a positive number or off", v)
			}
			n = i
		case option == "inspected_bytes" || option == "decoded_bytes" || option == "decompressed_bytes":
			size, err := humanize.ParseBytes(v)
			if err != nil || size == 0 || size > 1<<40 {
				return d.Errf("budget: %s %q is not a size such as 2MiB, or off", option, v)
			}
			n = int64(size)
		default:
			return d.Errf("budget: unknown option %q or value %q (inspected_bytes, decoded_bytes, decoded_values, depth, decompressed_bytes)", option, v)
		}
		switch option {
		case "inspected_bytes":
			b.InspectedBytes = n
		case "decoded_bytes":
			b.DecodedBytes = n
		case "decoded_values":
			b.DecodedValues = n
		case "depth":
			b.Depth = n
		case "decompressed_bytes":
			b.DecompressedBytes = n
		}
	}
	return nil
}
