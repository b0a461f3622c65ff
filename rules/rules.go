// Package rules holds mamori's embedded rule packs: the rule exclusions of
// each CMS profile (profiles/<cms>.conf) and the virtual patches (V12) that
// come with it (patches/<CVE>.conf). The files are SecLang written as Go
// text/templates, because the paths they guard come from the site's
// configuration (Movable Type's scripts live wherever CGIPath says):
// {{.Root}} is the profile's admin_path directory, {{.Static}} its
// static_path; {{lower .Root}} is for rules that compare a lowercased path.
//
// Rule IDs (outside every CRS range, documented in docs/profiles.md):
//
//	9900000-9909999  Movable Type profile
//	9910000-9919999  WordPress profile
//	9920000-9999999  virtual patches and WordPress guards, 9920000 + 1000·n
//	                 for the n-th file (Movable Type 9921000-9926999,
//	                 WordPress 9930000-9948999)
package rules

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/mamori-waf/mamori/internal/detect"
)

//go:embed profiles/*.conf patches/*.conf
var FS embed.FS

// Site is what the templates know of a site's layout.
type Site struct {
	// Root is the directory of the CMS's scripts, with a trailing slash:
	// Movable Type's CGIPath ("/cgi-bin/mt/"), WordPress's root ("/").
	Root string
	// Static is Movable Type's StaticWebPath ("/mt-static/").
	Static string
}

// Pack is one embedded rule file rendered for a site.
type Pack struct {
	// Name is the file's name under rules/ ("patches/CVE-2021-20837.conf").
	Name string
	// SecLang is the rendered text.
	SecLang string
}

// profilePatches lists, per profile, the virtual patches on by default.
var profilePatches = map[string][]string{
	"movabletype": {
		"CVE-2013-2184", "CVE-2015-1592",
		"CVE-2021-20837", "CVE-2022-38078",
		"CVE-2026-25776", "CVE-2026-33088",
	},
	"wordpress": {
		"mamori-wp-user-enum", "mamori-wp-xmlrpc-multicall",
		"CVE-2018-19207", "CVE-2019-9978", "CVE-2020-8772",
		"CVE-2020-11738", "CVE-2020-12800", "CVE-2020-25213",
		"CVE-2020-35489", "CVE-2021-24284", "CVE-2021-25003",
		"CVE-2022-0779", "CVE-2023-3460", "CVE-2023-6063",
		"CVE-2023-28121", "CVE-2023-32243", "CVE-2024-25600",
		"CVE-2024-27956", "CVE-2024-28000",
	},
}

// Patches lists the virtual patches a profile turns on by default.
func Patches(profile string) []string {
	return slices.Clone(profilePatches[profile])
}

// safePath is what a path must look like to be written into SecLang
// unquoted and unescaped: no quotes, spaces, commas, backslashes or %.
var safePath = regexp.MustCompile(`^/(?:[A-Za-z0-9._~-]+/)*$`)

// ForProfile renders a profile's exclusions and its virtual patches, minus
// the patches named in disabled (by CVE ID, or the guard's name:
// mamori-wp-user-enum). The profile's own file comes
// last, so a patch decides before any exclusion applies.
func ForProfile(profile string, site Site, disabled []string) ([]Pack, error) {
	patches, ok := profilePatches[profile]
	if !ok {
		return nil, fmt.Errorf("no rule pack for profile %q", profile)
	}
	for _, p := range []string{site.Root, site.Static} {
		if p != "" && !safePath.MatchString(p) {
			return nil, fmt.Errorf("path %q must be a directory path of letters, digits and ._~- only (it is written into rules)", p)
		}
	}
	for _, d := range disabled {
		if !slices.Contains(patches, d) {
			known := strings.Join(patches, ", ")
			if known == "" {
				known = "none"
			}
			return nil, fmt.Errorf("profile %s has no virtual patch %q (it has: %s)", profile, d, known)
		}
	}
	var packs []Pack
	for _, cve := range patches {
		if slices.Contains(disabled, cve) {
			continue
		}
		p, err := Render("patches/"+cve+".conf", site)
		if err != nil {
			return nil, err
		}
		packs = append(packs, p)
	}
	p, err := Render("profiles/"+profile+".conf", site)
	if err != nil {
		return nil, err
	}
	return append(packs, p), nil
}

// Render renders one embedded file for a site.
func Render(name string, site Site) (Pack, error) {
	text, err := FS.ReadFile(name)
	if err != nil {
		return Pack{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	t, err := template.New(name).Option("missingkey=error").
		Funcs(template.FuncMap{
			"lower":   strings.ToLower,
			"rx":      regexp.QuoteMeta,
			"exclude": exclude,
			"list":    func(s ...string) []string { return s },
			"add":     func(a, b int) int { return a + b },
		}).Parse(string(text))
	if err != nil {
		return Pack{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, site); err != nil {
		return Pack{}, fmt.Errorf("rule pack %s: %w", name, err)
	}
	return Pack{Name: name, SecLang: b.String()}, nil
}

// exclude writes the ctl actions that remove the rules of each tag (or
// each rule ID) in rules from each target in targets (both space-separated),
// one action per line, for use inside a rule's action list:
//
//	{{exclude "attack-xss attack-sqli 921130" "ARGS:text ARGS:excerpt"}}
//
// mamori's detection layers (internal/detect) follow: a CRS rule ID also
// removes its decoded, placement and path copies, and the tag OWASP_CRS
// also removes mamori's own rules (tag mamori-detect). Attack tags cover
// both already: the copies and signatures carry them.
func exclude(rules, targets string) string {
	var expanded []string
	for _, rule := range strings.Fields(rules) {
		expanded = append(expanded, rule)
		if rule == "OWASP_CRS" {
			expanded = append(expanded, "mamori-detect")
		}
		if id, err := strconv.Atoi(rule); err == nil {
			for _, r := range detect.CopyRanges(id, id) {
				expanded = append(expanded, strconv.Itoa(r[0]))
			}
		}
	}
	var actions []string
	for _, rule := range expanded {
		kind := "Tag"
		if strings.Trim(rule, "0123456789") == "" {
			kind = "Id"
		}
		for _, target := range strings.Fields(targets) {
			actions = append(actions, "ctl:ruleRemoveTargetBy"+kind+"="+rule+";"+target)
		}
	}
	return strings.Join(actions, ",\\\n        ")
}

// Names lists every embedded file, sorted.
func Names() []string {
	var names []string
	for _, dir := range []string{"profiles", "patches"} {
		entries, _ := FS.ReadDir(dir)
		for _, e := range entries {
			names = append(names, dir+"/"+e.Name())
		}
	}
	sort.Strings(names)
	return names
}
