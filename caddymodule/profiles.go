package caddymodule

import (
	"errors"
	"time"
	"unique"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/mamori-waf/mamori/internal/waf"
	"github.com/mamori-waf/mamori/rules"
)

// provisionRulePacks adds the profile's embedded rule packs (its rule
// exclusions and its virtual patches, minus those the operator turned off)
// to the WAF configuration, rendered for the site's paths. They become
// part of the WAF's SecLang, so its fingerprint covers them.
//
// The rendered text (about 200 KB a site) is interned: every site and
// configuration with the same profile and paths shares one copy, kept as
// long as a handler holds its handle (issue 12), and a handler's Cleanup
// lets go of it (releasePacks).
func (h *Handler) provisionRulePacks() error {
	h.WAF.Packs, h.packText = nil, nil
	h.WAF.Dialect = h.dialect // the CMS's parsers: allowed methods, untyped bodies
	if h.profile == nil {
		return nil
	}
	packs, err := rules.ForProfile(h.profile.Name, rules.Site{Root: h.profile.Root, Static: h.profile.Static}, h.Profile.DisablePatches)
	if err != nil {
		return err
	}
	for _, p := range packs {
		text := unique.Make(p.SecLang)
		h.packText = append(h.packText, text)
		h.WAF.Packs = append(h.WAF.Packs, waf.RulePack{Name: p.Name, SecLang: text.Value()})
	}
	return nil
}

// releasePacks drops the rule packs' text at Cleanup: the engine has
// compiled them, and a replaced configuration that Caddy keeps reachable
// (see engineRef) must not keep them. Nothing reads them after
// provisioning: requests read only the WAF's mode (h.WAF.Mode).
func (h *Handler) releasePacks() {
	h.WAF.Packs, h.packText = nil, nil
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

// recordRuleFiles records a digest of the include files in the adapted
// configuration (V12): Caddy skips a reload whose configuration equals the
// running one, so without it a patch file changed in place would not be
// picked up by `mamori reload`.
func (h *Handler) recordRuleFiles() {
	h.WAF.IncludeDigest = waf.IncludeDigest(h.WAF.Includes)
}

// startWatching gives the handler a rule file watcher (V12): include files
// changed on disk are compiled and swapped in without a configuration
// reload, so no listener or connection is touched. It polls when the
// handler asks for it (watch); otherwise it checks only when told to,
// through mamori's admin API (`mamori reload-rules`).
func (h *Handler) startWatching() error {
	if len(h.WAF.Includes) == 0 {
		return nil // nothing on disk to reload
	}
	w, err := waf.NewWatcher(h.WAF, h.engine.get(), time.Duration(h.Watch),
		func(e *waf.Engine) {
			h.logger.Info("rule files changed: new rules in force", zap.Int("rules", e.RulesCount()),
				zap.String("fingerprint", e.Fingerprint()[:12]))
			h.ruleSetSwapped(e)
		},
		func(err error) {
			h.logger.Error("rule files changed but do not load: the running rules stay", zap.Error(err))
		})
	if err != nil {
		return err
	}
	// The watcher takes over the handler's reference to the shared engine
	// and swaps in shared ones: sites with the same rules keep one engine.
	w.Share(sharedEngines{logger: h.logger}, h.fingerprint)
	h.watcher = w
	// From now on the watcher holds the engine for the next request: the
	// one provisioned must not outlive a rules reload because of the
	// handler (release.go).
	h.engine.release()
	liveWatchers.Store(w, struct{}{})
	w.Start()
	return nil
}

// ruleSetSwapped updates the ruleset_info metric after a rules reload: the
// new rule set is in force, and the previous one goes when no site runs it.
// Called by the handler's watcher with its lock held (one check at a time),
// so h.ruleSet needs no lock of its own.
func (h *Handler) ruleSetSwapped(e *waf.Engine) {
	prev := h.ruleSet
	if prev == "" {
		prev = h.fingerprint
	}
	h.ruleSet = e.Fingerprint()
	if h.metrics == nil {
		return
	}
	h.metrics.RuleSetLoaded(crsVersion(), h.ruleSet[:12], e.RulesCount(), string(e.Config().Mode))
	if n, _ := engines.References(prev); n == 0 && prev != h.ruleSet {
		h.metrics.RuleSetUnloaded(prev[:12])
	}
}

// stopWatching stops the watcher, if any.
func (h *Handler) stopWatching() error {
	if h.watcher == nil {
		return nil
	}
	liveWatchers.Delete(h.watcher)
	return h.watcher.Close()
}

// currentEngine is the WAF for the next request: the watcher's latest
// when watching, else the one compiled at provisioning; after Cleanup,
// once that was freed, the one that refuses (release.go).
func (h *Handler) currentEngine() *waf.Engine {
	if h.watcher != nil {
		return engineOrReleased(h.watcher.Engine())
	}
	return engineOrReleased(h.engine.get())
}

// parseWatch reads `watch <interval>|off`.
func parseWatch(d *caddyfile.Dispenser, h *Handler) error {
	var v string
	if !d.Args(&v) || d.NextArg() {
		return d.ArgErr()
	}
	if v == "off" {
		h.Watch = 0
		return nil
	}
	dur, err := caddy.ParseDuration(v)
	if err == nil && dur <= 0 {
		err = errors.New("not positive")
	}
	if err != nil || validWatch(dur) != nil {
		return d.Errf("watch: %q is not an interval of at least %v (such as 2s) or off", v, MinWatch)
	}
	h.Watch = caddy.Duration(dur)
	return nil
}
