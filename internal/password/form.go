package password

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/mamori-waf/mamori/internal/profile"
)

// IsForm reports whether a Content-Type is one the CMS reads as a form. An empty
// one counts: Perl's CGI.pm and PHP read a POST without Content-Type as
// URL-encoded, so a password could slip through in one.
func IsForm(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// An unparsable type counts as a form, so the policy still looks
		// at the body rather than waving it through.
		return true
	}
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// Candidate reports whether a request's method and path are those of one
// of the forms: only then is its body worth reading.
func Candidate(forms []profile.PasswordForm, method, urlPath string) bool {
	for _, f := range forms {
		if f.MatchesMethod(method) && f.MatchesPath(urlPath) {
			return true
		}
	}
	return false
}

// Submission is a password form found in a request.
type Submission struct {
	// Form is the profile's form that matched.
	Form profile.PasswordForm
	// Passwords are the new password's non-empty values (a form may
	// repeat a field; every value is checked, since CMSs differ in which
	// one they take).
	Passwords []string
	// Users are the account names the form names or, for a form without
	// one, the logged-in user.
	Users []string
}

// Find returns the password form that params (query and body merged)
// submit, if any. cookies give the logged-in user where the form's
// SessionUserCookie names one.
func Find(forms []profile.PasswordForm, method, urlPath string, params url.Values, cookies []*http.Cookie) (Submission, bool) {
	for _, f := range forms {
		if !f.MatchesMethod(method) || !f.MatchesPath(urlPath) || !f.MatchesParams(params) {
			continue
		}
		s := Submission{Form: f}
		for _, pw := range params[f.NewField] {
			// An empty field means "keep the password": MT's and
			// WordPress's profile forms always post it.
			if pw != "" {
				s.Passwords = append(s.Passwords, pw)
			}
		}
		if f.UserField != "" {
			for _, u := range params[f.UserField] {
				if u != "" {
					s.Users = append(s.Users, u)
				}
			}
		}
		// Editing someone else's account names them in the form; only a
		// form without a user (one's own profile) is about the session's.
		if len(s.Users) == 0 {
			if u := SessionUser(f, cookies); u != "" {
				s.Users = append(s.Users, u)
			}
		}
		return s, len(s.Passwords) > 0
	}
	return Submission{}, false
}

// SessionUser is the user name at the start of the form's session cookie
// (Movable Type's mt_user "<user>::<session>::<flag>", WordPress's
// wordpress_logged_in_<hash> "<user>|<expiry>|<token>|<hmac>"), or "" when
// there is none or it does not have that shape (a sealed value).
func SessionUser(f profile.PasswordForm, cookies []*http.Cookie) string {
	if f.SessionUserCookie == "" || f.SessionUserSep == "" {
		return ""
	}
	match := profile.Cookie{Name: f.SessionUserCookie}
	for _, c := range cookies {
		if !match.Matches(c.Name) {
			continue
		}
		v := c.Value
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		if user, _, ok := strings.Cut(v, f.SessionUserSep); ok && user != "" {
			return user
		}
	}
	return ""
}
