// Package paths guards which paths a client may reach (checklist V5, V6,
// S1): a profile's admin screens and installer only from configured
// networks, never the files a site must not serve (CMS configuration and
// check pages, version control and environment files, backups and dumps,
// tool pages, known web shells, scripts under upload directories), no
// debug switches, and no directory listings in responses.
//
// Every path is normalised first (see Normalize) so that encodings, dot
// segments, backslashes and ";" parameters cannot spell a denied file
// another way.
package paths

import (
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"strings"

	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/request"
)

// Config is the path guard's configuration. The zero value denies the
// built-in never-served files, the profile's denied and installer paths
// and debug switches, and blocks directory listings; admin paths stay
// open to everyone until AdminAllow lists networks.
type Config struct {
	// AdminAllow lists the networks (CIDR, or single addresses) from
	// which the profile's admin paths (and installer paths, when allowed)
	// may be reached. Empty: no admin allow-list.
	AdminAllow []string `json:"admin_allow,omitempty"`
	// AdminDenyStatus answers admin requests from other networks: 403
	// (default) or 404 (hides that an admin screen exists).
	AdminDenyStatus int `json:"admin_deny_status,omitempty"`
	// Deny lists more never-served paths as globs (path.Match syntax): a
	// glob without "/" matches the last path segment ("*.inc"), one with
	// "/" the whole path ("/private/*"), one ending in "/" a prefix.
	Deny []string `json:"deny,omitempty"`
	// Allow lists globs (same syntax) exempt from every denial of never-
	// served files, built-in, profile or Deny: e.g. "/downloads/*.zip",
	// or the installer path while upgrading. The admin allow-list still
	// applies to admin and installer paths.
	Allow []string `json:"allow,omitempty"`
	// CaseInsensitive matches paths without regard to case, for upstreams
	// on case-insensitive file systems (Windows, macOS).
	CaseInsensitive bool `json:"case_insensitive,omitempty"`
	// DebugParams are more debug switches refused in the query or a
	// cookie: a name ("debug") or name=value ("debug=1"). Always refused:
	// XDEBUG_* and phpinfo.
	DebugParams []string `json:"debug_params,omitempty"`
	// UploadPaths are more upload directories (prefixes ending in "/")
	// where scripts are never executed, besides the profile's.
	UploadPaths []string `json:"upload_paths,omitempty"`
	// DirectoryListings: "block" (default) replaces an upstream
	// directory index with a 404; "off" lets it through.
	DirectoryListings string `json:"directory_listings,omitempty"`
}

// Decision is a refusal by the path guard.
type Decision struct {
	// Rule names what matched ("admin-network", "vcs", "backup", ...).
	Rule string
	// Reason says what matched, for the event.
	Reason string
	// Status is the HTTP status to answer with.
	Status int
}

// Guard is a compiled Config joined with a profile's facts.
type Guard struct {
	networks      []netip.Prefix
	adminStatus   int
	admin         []string // exact paths or prefixes ending in "/"
	publicAdmin   []string
	installer     []string
	denied        []string
	uploads       []string
	deny, allow   []string
	fold          bool
	debug         []debugParam
	blockListings bool
	hasAllowList  bool
}

type debugParam struct{ name, value string } // name lower-cased; value "" = any

// New compiles c with the facts of p (nil without a profile).
func New(c Config, p *profile.Profile) (*Guard, error) {
	g := &Guard{adminStatus: http.StatusForbidden, fold: c.CaseInsensitive, blockListings: true}
	switch c.AdminDenyStatus {
	case 0, http.StatusForbidden:
	case http.StatusNotFound:
		g.adminStatus = http.StatusNotFound
	default:
		return nil, fmt.Errorf("admin_deny_status %d: must be 403 or 404", c.AdminDenyStatus)
	}
	switch c.DirectoryListings {
	case "", "block":
	case "off":
		g.blockListings = false
	default:
		return nil, fmt.Errorf("directory_listings %q: must be block or off", c.DirectoryListings)
	}
	for _, s := range c.AdminAllow {
		pfx, err := parseNetwork(s)
		if err != nil {
			return nil, err
		}
		g.networks = append(g.networks, pfx)
	}
	g.hasAllowList = len(g.networks) > 0
	norm := func(ps []string) []string {
		out := make([]string, 0, len(ps))
		for _, x := range ps {
			if g.fold {
				x = strings.ToLower(x)
			}
			out = append(out, x)
		}
		return out
	}
	for _, globs := range [][]string{c.Deny, c.Allow} {
		for _, gl := range globs {
			if !strings.HasSuffix(gl, "/") {
				if _, err := path.Match(gl, ""); err != nil {
					return nil, fmt.Errorf("glob %q: %v", gl, err)
				}
			}
		}
	}
	g.deny, g.allow = norm(c.Deny), norm(c.Allow)
	for _, u := range c.UploadPaths {
		if !strings.HasPrefix(u, "/") || !strings.HasSuffix(u, "/") {
			return nil, fmt.Errorf("upload path %q: must start and end with /", u)
		}
	}
	g.uploads = norm(c.UploadPaths)
	for _, d := range c.DebugParams {
		name, value, _ := strings.Cut(d, "=")
		if name == "" {
			return nil, fmt.Errorf("debug parameter %q: needs a name", d)
		}
		g.debug = append(g.debug, debugParam{strings.ToLower(name), value})
	}
	if p != nil {
		g.admin = norm(p.AdminPaths)
		g.publicAdmin = norm(p.PublicAdminPaths)
		g.installer = norm(p.InstallerPaths)
		g.denied = norm(p.DeniedPaths)
		g.uploads = append(g.uploads, norm(p.UploadPaths)...)
		for _, d := range p.DebugParams {
			name, value, _ := strings.Cut(d, "=")
			g.debug = append(g.debug, debugParam{strings.ToLower(name), value})
		}
	}
	return g, nil
}

func parseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("admin_allow %q: not a CIDR network: %v", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("admin_allow %q: not an IP address or CIDR network", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// BlocksListings reports whether responses are checked for directory
// listings.
func (g *Guard) BlocksListings() bool { return g.blockListings }

// Check decides a request from its view (see package request): nil lets
// it through. The path is judged as sent and as the script it runs
// ("/cgi-bin/mt/mt.cgi/" runs mt.cgi, "/uploads/x.php/y.jpg" runs x.php),
// and every parameter and cookie name as each dialect reads it. clientIP
// is the real client (after trusted proxies).
func (g *Guard) Check(v *request.View, clientIP string) *Decision {
	if d := g.CheckDebug(v); d != nil {
		return d
	}
	for _, p := range v.Paths() {
		if g.fold {
			p = strings.ToLower(p)
		}
		if d := g.checkPath(p, clientIP); d != nil {
			return d
		}
	}
	return nil
}

func (g *Guard) checkPath(p, clientIP string) *Decision {
	allowed := g.allow != nil && globsMatch(g.allow, p)
	installer := profile.AnyPathMatches(g.installer, p)
	if installer && !allowed {
		return &Decision{Rule: "installer", Reason: "installer or upgrade script " + p, Status: http.StatusNotFound}
	}
	admin := installer || (profile.AnyPathMatches(g.admin, p) && !profile.AnyPathMatches(g.publicAdmin, p))
	if g.hasAllowList && admin && !g.fromAdminNetwork(clientIP) {
		return &Decision{Rule: "admin-network", Reason: "admin path " + p + " from outside the admin networks", Status: g.adminStatus}
	}
	if allowed {
		return nil
	}
	if profile.AnyPathMatches(g.denied, p) {
		return &Decision{Rule: "cms-denied", Reason: "CMS configuration or check page " + p, Status: http.StatusNotFound}
	}
	if d := g.checkBuiltin(p); d != nil {
		return d
	}
	if g.deny != nil && globsMatch(g.deny, p) {
		return &Decision{Rule: "deny", Reason: "denied path " + p, Status: http.StatusNotFound}
	}
	return nil
}

func (g *Guard) fromAdminNetwork(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false // fail closed: an unknown client is not in any network
	}
	a = a.Unmap()
	for _, n := range g.networks {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// globsMatch matches p against globs: "/" ending → prefix, containing
// "/" → whole path, else the last segment.
func globsMatch(globs []string, p string) bool {
	base := path.Base(p)
	for _, gl := range globs {
		switch {
		case strings.HasSuffix(gl, "/"):
			if strings.HasPrefix(p, gl) || p+"/" == gl {
				return true
			}
		case strings.Contains(gl, "/"):
			if ok, _ := path.Match(gl, p); ok {
				return true
			}
		default:
			if ok, _ := path.Match(gl, base); ok && !strings.HasSuffix(p, "/") {
				return true
			}
		}
	}
	return false
}

// CheckDebug refuses a debug switch in any parameter or cookie name as
// any reading of the view has it ("XDEBUG.SESSION_START" is PHP's
// "XDEBUG_SESSION_START"). It runs again once the body is read.
func (g *Guard) CheckDebug(v *request.View) *Decision {
	var d *Decision
	v.Names(func(name, value, where string) bool {
		d = g.isDebug(name, value, where)
		return d != nil
	})
	return d
}

func (g *Guard) isDebug(name, value, where string) *Decision {
	if name == "" {
		return nil
	}
	lower := strings.ToLower(name)
	hit := strings.HasPrefix(lower, "xdebug_") || lower == "phpinfo"
	for _, d := range g.debug {
		if lower == d.name && (d.value == "" || value == d.value) {
			hit = true
		}
	}
	if !hit {
		return nil
	}
	return &Decision{Rule: "debug-switch", Reason: fmt.Sprintf("debug switch in a %s: %.64s", where, name), Status: http.StatusForbidden}
}
