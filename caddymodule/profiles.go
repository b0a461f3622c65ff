package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/waf"
	"github.com/mamori-waf/mamori/rules"
)

// provisionRulePacks adds the profile's embedded rule packs (its rule
// exclusions and its virtual patches, minus those the operator turned off)
// to the WAF configuration, rendered for the site's paths. They become
// part of the WAF's SecLang, so its fingerprint covers them.
func (h *Handler) provisionRulePacks() error {
	h.WAF.Packs = nil
	if h.profile == nil {
		return nil
	}
	packs, err := rules.ForProfile(h.profile.Name, rules.Site{Root: h.profile.Root, Static: h.profile.Static}, h.Profile.DisablePatches)
	if err != nil {
		return err
	}
	for _, p := range packs {
		h.WAF.Packs = append(h.WAF.Packs, waf.RulePack{Name: p.Name, SecLang: p.SecLang})
	}
	return nil
}

// parseDisablePatch reads `disable_patch <CVE-ID>...` inside a profile
// block: the named virtual patches of the profile stay off.
func parseDisablePatch(d *caddyfile.Dispenser, pc *ProfileConfig) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.Errf("usage: disable_patch <CVE-ID>... (the profile's patches: see docs/profiles.md)")
	}
	pc.DisablePatches = append(pc.DisablePatches, args...)
	return nil
}

// checkProfileRules renders the profile's packs once at parse time, so a
// bad admin_path or an unknown patch name fails with the Caddyfile line.
func checkProfileRules(d *caddyfile.Dispenser, pc *ProfileConfig, root, static string) error {
	if _, err := rules.ForProfile(pc.Name, rules.Site{Root: root, Static: static}, pc.DisablePatches); err != nil {
		return d.Errf("profile %s: %v", pc.Name, err)
	}
	return nil
}
