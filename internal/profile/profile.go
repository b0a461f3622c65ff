// Package profile describes the HTTP surface of the CMSs mamori protects:
// where their admin screens are, which cookies carry a session, what a
// login, a logout and a password change look like, which paths must never
// be served and which fields carry secrets. The guards (session, csrf,
// auth, paths, limits) and the log redaction read these facts; the rule
// exclusions that go with a profile live in rules/profiles/<name>.conf.
//
// Facts come from ../shared/reference/cms-http-surface.md (Movable Type's
// and WordPress's own source).
package profile

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
)

// Options adapt a built-in profile to a site's layout.
type Options struct {
	// AdminPath is the directory of the CMS's scripts as the browser sees
	// it: Movable Type's CGIPath ("/cgi-bin/mt/" by default), WordPress's
	// site root ("/" by default).
	AdminPath string `json:"admin_path,omitempty"`
	// StaticPath is Movable Type's StaticWebPath ("/mt-static/" by
	// default); unused for WordPress.
	StaticPath string `json:"static_path,omitempty"`
}

// Profile is one CMS's surface, resolved to absolute paths.
type Profile struct {
	// Name is the profile's name ("movabletype", "wordpress").
	Name string
	// Root is the directory of the CMS's scripts, ending in "/": the
	// admin_path option, or the CMS's default ("/cgi-bin/mt/", "/").
	Root string
	// Static is Movable Type's static files directory, ending in "/"
	// ("/mt-static/"); empty for WordPress.
	Static string
	// AdminPaths are the admin screens: exact paths, or prefixes ending
	// in "/". Admin allow-lists, fail-closed CSRF and no-store apply here.
	AdminPaths []string
	// PublicAdminPaths are paths under AdminPaths that the public site
	// itself calls for every visitor (WordPress's admin-ajax.php and
	// admin-post.php): the admin allow-list leaves them open.
	PublicAdminPaths []string
	// InstallerPaths are installer and upgrade scripts, reachable only
	// when the operator allows them.
	InstallerPaths []string
	// DeniedPaths are never served: CMS configuration and system-check
	// pages (exact paths or prefixes ending in "/").
	DeniedPaths []string
	// UploadPaths are where user uploads live; scripts under them are
	// never executed (prefixes ending in "/").
	UploadPaths []string
	// Cookies are the session cookies the session guard hardens and,
	// where Seal is set, seals and binds to the client.
	Cookies []Cookie
	// Logins are the login requests the login audit and throttle watch.
	Logins []Login
	// Logouts are the logout requests that revoke the presented session.
	Logouts []Request
	// PasswordForms are the requests that set a new password (B1).
	PasswordForms []PasswordForm
	// SecretFields are parameter names whose values never reach a log.
	SecretFields []string
	// DebugParams are the CMS's own debug switches, refused in the query
	// or a cookie by the path guard: a name, or name=value ("debug=1").
	// XDEBUG_* and phpinfo are refused for every site. Neither built-in
	// profile names one yet: Movable Type's DebugMode and WordPress's
	// WP_DEBUG are server configuration, not request switches.
	DebugParams []string
	// HTMLFields are the admin form fields that legitimately carry HTML,
	// JavaScript or JSON (documentation; the exclusions are in RuleFile).
	HTMLFields []string
	// RuleFile is the embedded rule file of the profile's exclusions and
	// virtual patches (under rules/), "" if none.
	RuleFile string
}

// Cookie names a session cookie.
type Cookie struct {
	// Name is the cookie name, or a path.Match glob ("wordpress_logged_in_*").
	Name string
	// Seal replaces the upstream's value with an authenticated, encrypted
	// envelope bound to the client. Cookies the site's JavaScript reads
	// (not HttpOnly) must not be sealed.
	Seal bool
	// ScriptReadable marks cookies the site's own JavaScript reads: they
	// get Secure and SameSite but not HttpOnly.
	ScriptReadable bool
	// Authenticated marks cookies whose presence means a logged-in user
	// (no-store on responses, exclusions that need a session).
	Authenticated bool
}

// Matches reports whether a cookie name matches.
func (c Cookie) Matches(name string) bool {
	if ok, err := path.Match(c.Name, name); err == nil && ok {
		return true
	}
	return c.Name == name
}

// Request describes a kind of request by method, path and parameters.
type Request struct {
	// Methods the request uses; empty means any.
	Methods []string
	// Path is an exact path, or a prefix ending in "/".
	Path string
	// Params must all be present in the query or the form body; a
	// non-empty value must match exactly.
	Params map[string]string
}

// Login is a login request.
type Login struct {
	Request
	// UserField and PasswordField name the form fields.
	UserField, PasswordField string
	// SuccessCookie is the cookie (name or glob) the CMS sets when the
	// login succeeded.
	SuccessCookie string
	// SuccessJSONField is set for API logins that answer with a JSON
	// token object: a 2xx response holding this field is a success.
	SuccessJSONField string
}

// PasswordForm is a request that sets a new password.
type PasswordForm struct {
	Request
	// NewField holds the new password; ConfirmField its repetition.
	NewField, ConfirmField string
	// UserField holds the account name, when the form carries one.
	UserField string
	// SessionUserCookie names the session cookie (name or glob) whose
	// value begins with the logged-in user's name, ended by
	// SessionUserSep: the user whose password a form without UserField
	// changes (Movable Type's mt_user "<user>::<session>::<flag>").
	SessionUserCookie, SessionUserSep string
}

// MatchesPath reports whether p (an already-normalised URL path) is the
// request's path or under its prefix.
func (q Request) MatchesPath(p string) bool {
	return PathMatches(q.Path, p)
}

// MatchesMethod reports whether the method is one the request uses.
func (q Request) MatchesMethod(m string) bool {
	if len(q.Methods) == 0 {
		return true
	}
	for _, x := range q.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// MatchesParams reports whether every required parameter is in params.
func (q Request) MatchesParams(params url.Values) bool {
	for name, want := range q.Params {
		got, ok := params[name]
		if !ok {
			return false
		}
		if want != "" && (len(got) == 0 || got[0] != want) {
			return false
		}
	}
	return true
}

// PathMatches reports whether p is pattern, or under pattern when pattern
// ends in "/".
func PathMatches(pattern, p string) bool {
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(p, pattern) || p+"/" == pattern
	}
	return p == pattern
}

// CleanPath resolves dot segments and repeated slashes, keeping a
// trailing slash, so that /cgi-bin/mt//./mt.cgi is still the admin script
// and a path cannot dodge a prefix match.
func CleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// AnyPathMatches reports whether p matches one of the patterns.
func AnyPathMatches(patterns []string, p string) bool {
	for _, pat := range patterns {
		if PathMatches(pat, p) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether p is one of the profile's admin paths.
func (p *Profile) IsAdmin(urlPath string) bool {
	return AnyPathMatches(p.AdminPaths, urlPath)
}

// Cookie returns the profile's rule for a cookie name.
func (p *Profile) Cookie(name string) (Cookie, bool) {
	for _, c := range p.Cookies {
		if c.Matches(name) {
			return c, true
		}
	}
	return Cookie{}, false
}

// IsLogout reports whether r is one of the profile's logout requests;
// params are the request's query and form parameters.
func (p *Profile) IsLogout(r *http.Request, urlPath string, params url.Values) bool {
	for _, q := range p.Logouts {
		if q.MatchesMethod(r.Method) && q.MatchesPath(urlPath) && q.MatchesParams(params) {
			return true
		}
	}
	return false
}

type builder func(Options) *Profile

var builtins = map[string]builder{
	"movabletype": movableType,
	"wordpress":   wordPress,
}

// Names lists the built-in profiles.
func Names() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the built-in profile name, adapted to o.
func Get(name string, o Options) (*Profile, error) {
	b, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	for _, p := range []string{o.AdminPath, o.StaticPath} {
		if p != "" && !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("profile %s: path %q must start with /", name, p)
		}
	}
	return b(o), nil
}

// dir makes p a directory prefix ("/cgi-bin/mt" → "/cgi-bin/mt/").
func dir(p, def string) string {
	if p == "" {
		p = def
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// movableType is Movable Type (MT 6 to 9): scripts under CGIPath, static
// files and uploads under StaticWebPath.
func movableType(o Options) *Profile {
	cgi := dir(o.AdminPath, "/cgi-bin/mt/")
	static := dir(o.StaticPath, "/mt-static/")
	admin := cgi + "mt.cgi"
	dataAPI := cgi + "mt-data-api.cgi/"
	return &Profile{
		Name:           "movabletype",
		Root:           cgi,
		Static:         static,
		AdminPaths:     []string{admin},
		InstallerPaths: []string{cgi + "mt-upgrade.cgi", cgi + "mt-wizard.cgi"},
		DeniedPaths: []string{
			cgi + "mt-config.cgi", cgi + "mt-config.cgi-original", cgi + "mt-check.cgi",
		},
		UploadPaths: []string{static + "support/uploads/"},
		Cookies: []Cookie{
			{Name: "mt_user", Seal: true, Authenticated: true},
			{Name: "mt_commenter", Seal: true},
			{Name: "mt_data_api_user_*", Seal: true, Authenticated: true},
			{Name: "mt_blog_user", ScriptReadable: true},
			{Name: "mt_blog*_user", ScriptReadable: true},
			{Name: "commenter_name", ScriptReadable: true},
			{Name: "commenter_id", ScriptReadable: true},
		},
		Logins: []Login{
			{
				Request:   Request{Methods: []string{http.MethodPost}, Path: admin, Params: map[string]string{"username": "", "password": ""}},
				UserField: "username", PasswordField: "password", SuccessCookie: "mt_user",
			},
			{
				Request:   Request{Methods: []string{http.MethodPost}, Path: dataAPI, Params: map[string]string{"username": "", "password": ""}},
				UserField: "username", PasswordField: "password", SuccessJSONField: "accessToken",
			},
		},
		Logouts: []Request{
			{Path: admin, Params: map[string]string{"__mode": "logout"}},
		},
		PasswordForms: []PasswordForm{
			{
				Request:  Request{Methods: []string{http.MethodPost}, Path: admin, Params: map[string]string{"__mode": "save", "_type": "author", "pass": ""}},
				NewField: "pass", ConfirmField: "pass_verify", UserField: "name",
				SessionUserCookie: "mt_user", SessionUserSep: "::",
			},
			{
				Request:  Request{Methods: []string{http.MethodPost}, Path: admin, Params: map[string]string{"__mode": "new_pw", "password": ""}},
				NewField: "password", ConfirmField: "password_again",
			},
		},
		SecretFields: []string{"password", "pass", "pass_verify", "old_pass", "password_again", "magic_token", "token", "accessToken", "sessionId"},
		HTMLFields: []string{"text", "text_more", "excerpt", "keywords", "title", "tags",
			"block_editor_data", "data", "items", "return_args", "content-field-*", "prefs_json",
			"entry", "page", "template", "content_data", "category", "folder", "asset"},
		RuleFile: "profiles/movabletype.conf",
	}
}

// wordPress is WordPress: admin under wp-admin/, login at wp-login.php.
func wordPress(o Options) *Profile {
	root := dir(o.AdminPath, "/")
	login := root + "wp-login.php"
	return &Profile{
		Name:           "wordpress",
		Root:           root,
		AdminPaths:     []string{root + "wp-admin/", login},
		InstallerPaths: []string{root + "wp-admin/install.php", root + "wp-admin/setup-config.php"},
		DeniedPaths:    []string{root + "wp-config.php", root + "wp-config-sample.php", root + "readme.html", root + "license.txt"},
		UploadPaths:    []string{root + "wp-content/uploads/"},
		Cookies: []Cookie{
			{Name: "wordpress_logged_in_*", Seal: true, Authenticated: true},
			{Name: "wordpress_sec_*", Seal: true, Authenticated: true},
			{Name: "wordpress_[0-9a-f]*", Seal: true, Authenticated: true},
			{Name: "wp-settings-*", ScriptReadable: true},
			{Name: "comment_author_*", ScriptReadable: true},
		},
		Logins: []Login{{
			Request:   Request{Methods: []string{http.MethodPost}, Path: login, Params: map[string]string{"log": "", "pwd": ""}},
			UserField: "log", PasswordField: "pwd", SuccessCookie: "wordpress_logged_in_*",
		}},
		Logouts: []Request{{Path: login, Params: map[string]string{"action": "logout"}}},
		PasswordForms: []PasswordForm{
			{Request: Request{Methods: []string{http.MethodPost}, Path: root + "wp-admin/", Params: map[string]string{"pass1": ""}}, NewField: "pass1", ConfirmField: "pass2", UserField: "user_login",
				SessionUserCookie: "wordpress_logged_in_*", SessionUserSep: "|"},
			{Request: Request{Methods: []string{http.MethodPost}, Path: login, Params: map[string]string{"pass1": ""}}, NewField: "pass1", ConfirmField: "pass2", UserField: "user_login"},
		},
		SecretFields: []string{"pwd", "pass1", "pass2", "pass1-text", "_wpnonce", "post_password", "key"},
		HTMLFields: []string{"content", "excerpt", "comment", "post_title", "newcontent",
			"customized", "customize_changeset_data", "changes[caption]", "changes[description]",
			"caption", "description", "menu-item-title[*]", "menu-item-description[*]", "nav-menu-data",
			"_purchase_note", "variable_description[*]", "instance.raw.content", "actions",
			"ihaf_insert_header", "ihaf_insert_body", "ihaf_insert_footer", "meta.footnotes",
			"styles.css", "form_data", "short_description", "note", "wpcf7-form", "wpcf7-mail[*]",
			"woocommerce_*_additional_content"},
		RuleFile: "profiles/wordpress.conf",

		// Themes and plugins post visitors' AJAX and forms here.
		PublicAdminPaths: []string{root + "wp-admin/admin-ajax.php", root + "wp-admin/admin-post.php"},
	}
}
