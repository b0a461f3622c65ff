package caddymodule

// The perimeter guards' glue: request limits (V1), mamori's CSP report
// endpoint (V9), the path guards (V5, V6, S1) and directory-listing
// detection on responses (V6). The decisions live in internal/limits,
// internal/paths and internal/headers; this file only turns them into
// answers, events and Caddyfile options.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/internal/events"
	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/limits"
	"github.com/mamori-waf/mamori/internal/paths"
	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/waf"
)

// provisionPerimeter compiles the limits and path guards. It runs before
// the WAF is compiled: when the operator did not size the WAF's body
// buffer, it is sized to the largest body the limits accept, so that
// the limits (with their own statuses and events) decide, and the WAF's
// 413 stays a backstop.
func (h *Handler) provisionPerimeter() error {
	var err error
	if h.limits, err = h.Limits.Compile(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	h.WAF.AllowedMethods = wafMethods(h.Limits)
	if h.paths, err = paths.New(h.Paths, h.profile); err != nil {
		return fmt.Errorf("paths: %w", err)
	}
	maxBody := h.limits.MaxBody()
	switch {
	case h.WAF.RequestBodyLimit == 0:
		if maxBody < 1<<40 {
			h.WAF.RequestBodyLimit = maxBody
		}
	case h.WAF.RequestBodyLimit < maxBody && h.logger != nil:
		h.logger.Warn("the WAF's request_body_limit is below the limits' largest body: the WAF refuses bodies between the two with 413",
			zap.Int64("request_body_limit", h.WAF.RequestBodyLimit), zap.Int64("limits_max_body", maxBody))
	}
	return nil
}

// perimeter runs the stages before the WAF, in docs/design.md's order:
// limits, then mamori's CSP report endpoint, then the path guards and
// CSRF. It reports
// whether it answered the request itself. In detect mode, like the WAF,
// they let the request through and report what they would have refused.
func (h *Handler) perimeter(w http.ResponseWriter, r *http.Request, o *outcome, req *pipeline.Request) bool {
	detect := h.WAF.Mode == waf.ModeDetect
	apply := o.apply(w)
	if pipeline.Run(r.Context(), req, apply, h.limits) {
		return true
	}
	// The rest of the limits hold while the body streams into the WAF's
	// buffer: a refusal there surfaces as the WAF's body read error
	// (see refuseBody), before anything reaches the upstream.
	o.body = h.limits.Body(r, o.view)
	if detect {
		o.body.Observe(func(ref *limits.Refusal) {
			o.event("limits", events.VerdictDetected, ref.Rule, ref.Reason, ref.Status)
		})
	}

	if p := h.headers.CSPReportPath(); p != "" && o.view.Path == p {
		h.serveCSPReport(w, r, o)
		return true
	}
	// The path guards, then CSRF (when on).
	return pipeline.Run(r.Context(), req, apply, h.front...)
}

// refuseBody answers a request whose body broke a limit while the WAF
// read it; false if the body broke none (a plain read error).
func (o *outcome) refuseBody(w http.ResponseWriter) bool {
	ref := o.body.Refusal()
	if ref == nil {
		return false
	}
	o.refuse(w, "limits", ref.Rule, ref.Reason, ref.Status)
	return true
}

// serveCSPReport answers a browser's CSP report: one event per reported
// violation and 204, or the status that says why the report was refused.
// Reports never reach the upstream.
func (h *Handler) serveCSPReport(w http.ResponseWriter, r *http.Request, o *outcome) {
	o.reported = true
	reports, err := headers.ReadCSPReports(r)
	var bad *headers.ErrReport
	if errors.As(err, &bad) {
		if bad.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		o.Set(events.VerdictBlocked, "csp", "csp-report-invalid")
		http.Error(w, bad.Error(), bad.Status)
		return
	}
	o.Note(events.VerdictFlagged, "csp", "csp-violation")
	for _, rep := range reports {
		o.event("csp", events.VerdictFlagged, "csp-violation", rep.Summary(), http.StatusNoContent)
	}
	w.WriteHeader(http.StatusNoContent)
}

// listingCheck is the directory-listing check for the upstream's
// response (paths.ListingCheck), nil when listings are allowed. It runs
// before the WAF's response phases, so a directory index is answered
// with 404 (CRS 950130 would answer 403 in block mode, and nothing in
// detect mode).
func (o *outcome) listingCheck() *paths.ListingCheck {
	if !o.h.paths.BlocksListings() {
		return nil
	}
	return &paths.ListingCheck{Detect: o.h.WAF.Mode == waf.ModeDetect}
}

const listingReason = "upstream answered with a directory index"

// refuseListing answers 404 instead of a directory index.
func (o *outcome) refuseListing(w http.ResponseWriter) {
	o.replaced = http.StatusNotFound
	o.h.page.Write(w, o.r, http.StatusNotFound, o.id)
	o.event("paths", events.VerdictBlocked, "directory-listing", listingReason, http.StatusNotFound)
}

// listingDetected reports a directory index let through in detect mode.
func (o *outcome) listingDetected() {
	o.event("paths", events.VerdictDetected, "directory-listing", listingReason, http.StatusNotFound)
}

// parseLimits reads `limits { <limit> <value>; at <path> { ... } }`.
func parseLimits(d *caddyfile.Dispenser, c *limits.Config) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if d.Val() == "at" {
			var o limits.Override
			if !d.NextArg() {
				return d.Errf("limits: usage: at <path> { <limit> <value> ... }")
			}
			o.Path = d.Val()
			if !strings.HasPrefix(o.Path, "/") {
				return d.Errf("limits: at %q: path must start with /", o.Path)
			}
			if d.NextArg() {
				return d.ArgErr()
			}
			for n := d.Nesting(); d.NextBlock(n); {
				if err := parseLimit(d, &o.Limits); err != nil {
					return err
				}
			}
			c.At = append(c.At, o)
			continue
		}
		if err := parseLimit(d, &c.Limits); err != nil {
			return err
		}
	}
	if _, err := c.Compile(); err != nil {
		return d.Errf("limits: %v", err)
	}
	return nil
}

func parseLimit(d *caddyfile.Dispenser, l *limits.Limits) error {
	option := d.Val()
	args := d.RemainingArgs()
	if option == "methods" {
		if len(args) == 0 {
			return d.ArgErr()
		}
		for _, m := range args {
			if m != strings.ToUpper(m) {
				return d.Errf("limits: method %q must be upper case", m)
			}
		}
		l.Methods = args
		return nil
	}
	if len(args) != 1 {
		return d.Errf("limits: %s takes one value (a number, a size for byte limits, or off)", option)
	}
	v := args[0]
	count := func(dst *int) error {
		if v == "off" {
			*dst = -1
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return d.Errf("limits: %s %q: not a positive whole number or off", option, v)
		}
		*dst = n
		return nil
	}
	size := func() (int64, error) {
		if v == "off" {
			return -1, nil
		}
		n, err := humanize.ParseBytes(v)
		if err != nil || n == 0 || n > 1<<40 {
			return 0, d.Errf("limits: %s %q: not a size such as 8KiB or 64MB, or off", option, v)
		}
		return int64(n), nil
	}
	sizeInt := func(dst *int) error {
		n, err := size()
		if err == nil && n > 1<<31 {
			err = d.Errf("limits: %s %q: too large", option, v)
		}
		*dst = int(n)
		return err
	}
	var err error
	switch option {
	case "uri_length", "uri":
		err = sizeInt(&l.URILength)
	case "header_count", "headers":
		err = count(&l.HeaderCount)
	case "header_bytes", "header_size":
		err = sizeInt(&l.HeaderBytes)
	case "body", "body_bytes":
		l.BodyBytes, err = size()
	case "upload", "upload_bytes":
		l.UploadBytes, err = size()
	case "args", "arg_count":
		err = count(&l.ArgCount)
	case "arg_name", "arg_name_length":
		err = sizeInt(&l.ArgNameLength)
	case "arg_value", "arg_value_length":
		err = sizeInt(&l.ArgValueLength)
	case "json_depth":
		err = count(&l.JSONDepth)
	default:
		return d.Errf("unknown limits option %q", option)
	}
	return err
}

// parsePaths reads `paths { ... }`.
func parsePaths(d *caddyfile.Dispenser, c *paths.Config) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		switch option {
		case "admin_allow", "admin_deny_status":
			if err := parseAdminOption(d, c); err != nil {
				return err
			}
			continue
		}
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		switch option {
		case "deny":
			c.Deny = append(c.Deny, args...)
		case "allow":
			c.Allow = append(c.Allow, args...)
		case "debug_param":
			c.DebugParams = append(c.DebugParams, args...)
		case "upload_path":
			c.UploadPaths = append(c.UploadPaths, args...)
		case "case_insensitive":
			on, err := onOff(d, "paths: case_insensitive", args...)
			if err != nil {
				return err
			}
			c.CaseInsensitive = on
		case "directory_listings":
			if len(args) != 1 {
				return d.ArgErr()
			}
			c.DirectoryListings = args[0]
		default:
			return d.Errf("unknown paths option %q", option)
		}
	}
	if _, err := paths.New(*c, nil); err != nil {
		return d.Errf("paths: %v", err)
	}
	return nil
}

// parseAdminOption reads `admin_allow <cidr>...` and
// `admin_deny_status 403|404`, at the top level or in paths { }.
func parseAdminOption(d *caddyfile.Dispenser, c *paths.Config) error {
	option := d.Val()
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	if option == "admin_deny_status" {
		n, err := strconv.Atoi(args[0])
		if err != nil || len(args) != 1 || (n != 403 && n != 404) {
			return d.Errf("admin_deny_status must be 403 or 404")
		}
		c.AdminDenyStatus = n
		return nil
	}
	for _, a := range args {
		if _, err := paths.New(paths.Config{AdminAllow: []string{a}}, nil); err != nil {
			return d.Errf("%v", err)
		}
	}
	c.AdminAllow = append(c.AdminAllow, args...)
	return nil
}

// wafMethods is CRS's allowed-methods list (911100) for the limits: every
// method some path's limits allow, so that the WAF never refuses a method
// the perimeter lets through somewhere and one `methods` option narrows
// both.
func wafMethods(c limits.Config) []string {
	general := c.Methods
	if len(general) == 0 {
		general = limits.DefaultMethods
	}
	out := slices.Clone(general)
	for _, o := range c.At {
		for _, m := range o.Methods {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}
