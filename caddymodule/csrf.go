package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/csrf"
)

// provisionCSRFAndPasswords builds the CSRF guard (on unless turned off)
// and the password policy (on when the profile names password forms).
func (h *Handler) provisionCSRFAndPasswords() error {
	if !h.CSRF.Off {
		var admin []string
		if h.profile != nil {
			admin = h.profile.AdminPaths
		}
		g, err := csrf.New(h.CSRF, admin)
		if err != nil {
			return err
		}
		h.csrf = g
	}
	if !h.PasswordPolicy.Off && h.profile != nil && len(h.profile.PasswordForms) > 0 {
		c, err := h.PasswordPolicy.Compile()
		if err != nil {
			return err
		}
		h.passwords = c
	}
	return nil
}

// parseCSRF reads `csrf off` or
//
//	csrf {
//		trusted_origin <origin>...
//		protect <path-prefix>...
//		exempt <path-prefix>...
//		allow_same_site on|off
//		off
//	}
func parseCSRF(d *caddyfile.Dispenser, h *Handler) error {
	c := &h.CSRF
	if d.NextArg() {
		if d.Val() != "off" || d.NextArg() {
			return d.Errf("usage: csrf off, or csrf { ... }")
		}
		c.Off = true
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		args := d.RemainingArgs()
		switch option {
		case "trusted_origin", "trusted_origins":
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, o := range args {
				if _, err := csrf.ParseTrustedOrigin(o); err != nil {
					return d.Errf("csrf: %v", err)
				}
			}
			c.TrustedOrigins = append(c.TrustedOrigins, args...)
		case "protect", "exempt":
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, p := range args {
				if len(p) == 0 || p[0] != '/' {
					return d.Errf("csrf: %s: path %q must start with /", option, p)
				}
			}
			if option == "protect" {
				c.Protect = append(c.Protect, args...)
			} else {
				c.Exempt = append(c.Exempt, args...)
			}
		case "allow_same_site":
			on, err := onOff(d, "csrf: "+option, args...)
			if err != nil {
				return err
			}
			c.AllowSameSite = on
		case "off":
			if len(args) != 0 {
				return d.ArgErr()
			}
			c.Off = true
		default:
			return d.Errf("unknown csrf option %q", option)
		}
	}
	return nil
}
