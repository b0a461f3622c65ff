package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// A fake CMS with real sessions, for the session, CSRF and login tests: it
// issues its own session cookies the way Movable Type and WordPress do and
// checks them on every request, so a test can see exactly which cookie the
// upstream received and whether it accepted it.
//
//	/cgi-bin/mt/mt.cgi                  Movable Type's admin script
//	    POST username=&password=        login: mt_user=<user>::<sid>::0 (HttpOnly, path /cgi-bin/mt/), 302
//	    ?__mode=logout                  ends the session, expires the cookie, 302
//	    anything else                   JSON CMSView: 200 with the user when the
//	                                    session is valid, 401 with the login form's marker otherwise
//	/cgi-bin/mt/mt-data-api.cgi/v6/authentication
//	    POST username=&password=        JSON {accessToken, sessionId, expiresIn} or 401
//	/wp-login.php                       WordPress: POST log=&pwd= sets
//	                                    wordpress_logged_in_<hash> and wordpress_sec_<hash>, 302;
//	                                    ?action=logout ends the session
//	/wp-admin/...                       CMSView, 200 with a valid session, else 302 to wp-login.php
//
// Accounts: melody / "Nelson-1999!" and admin / "correct-Horse-42".

var cmsAccounts = map[string]string{"melody": "Nelson-1999!", "admin": "correct-Horse-42"}

// wpHash stands for WordPress's COOKIEHASH (md5 of the site URL).
const wpHash = "5d41402abc4b2a76b9719d911017c592"

type cmsSessions struct {
	mu    sync.Mutex
	users map[string]string // session id → user
}

var sessions = &cmsSessions{users: map[string]string{}}

func (s *cmsSessions) start(user string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	sid := hex.EncodeToString(b)
	s.mu.Lock()
	s.users[sid] = user
	s.mu.Unlock()
	return sid
}

func (s *cmsSessions) user(sid string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[sid]
	return u, ok
}

func (s *cmsSessions) end(sid string) {
	s.mu.Lock()
	delete(s.users, sid)
	s.mu.Unlock()
}

// CMSView is what the fake CMS answers for a page: who it thinks the user
// is, and the cookies and form it received.
type CMSView struct {
	User    string            `json:"user"`
	Valid   bool              `json:"valid"`
	Cookies map[string]string `json:"cookies"`
	Form    map[string]string `json:"form"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
}

func cmsView(w http.ResponseWriter, r *http.Request, user string, valid bool) {
	v := CMSView{User: user, Valid: valid, Cookies: map[string]string{}, Form: map[string]string{},
		Method: r.Method, Path: r.URL.Path}
	for _, c := range r.Cookies() {
		v.Cookies[c.Name] = c.Value
	}
	for k, vs := range r.Form {
		v.Form[k] = strings.Join(vs, ",")
	}
	w.Header().Set("Content-Type", "application/json")
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
	}
	_ = json.NewEncoder(w).Encode(v)
}

func registerCMS(mux *http.ServeMux) {
	mux.HandleFunc("/cgi-bin/mt/mt.cgi", movableType)
	mux.HandleFunc("/cgi-bin/mt/mt-data-api.cgi/", dataAPI)
	mux.HandleFunc("/wp-login.php", wordPressLogin)
	mux.HandleFunc("/wp-admin/", wordPressAdmin)
}

func movableType(w http.ResponseWriter, r *http.Request) {
	parse := r.ParseForm
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// MT's profile form posts multipart (it can carry a userpic).
		parse = func() error { return r.ParseMultipartForm(8 << 20) }
	}
	if err := parse(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sid, user, valid := "", "", false
	if c, err := r.Cookie("mt_user"); err == nil {
		// mt_user = <username>::<40-hex session id>::<remember flag>
		if parts := strings.Split(c.Value, "::"); len(parts) == 3 {
			sid = parts[1]
			u, ok := sessions.user(sid)
			user, valid = u, ok && u == parts[0]
		}
	}
	switch {
	case r.Method == http.MethodPost && r.Form.Has("username") && r.Form.Has("password"):
		name := r.PostForm.Get("username")
		if pw, ok := cmsAccounts[name]; !ok || pw != r.PostForm.Get("password") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><body><p class="error">Invalid login.</p><form method="post"><input name="username"><input type="password" name="password"></form></body></html>`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "mt_user", Value: name + "::" + sessions.start(name) + "::0",
			Path: "/cgi-bin/mt/", HttpOnly: true})
		http.Redirect(w, r, "/cgi-bin/mt/mt.cgi?__mode=dashboard", http.StatusFound)
	case r.Form.Get("__mode") == "logout":
		if sid != "" {
			sessions.end(sid)
		}
		http.SetCookie(w, &http.Cookie{Name: "mt_user", Value: "", Path: "/cgi-bin/mt/", MaxAge: -1, HttpOnly: true})
		http.Redirect(w, r, "/cgi-bin/mt/mt.cgi", http.StatusFound)
	default:
		cmsView(w, r, user, valid)
	}
}

func dataAPI(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/authentication") || r.Method != http.MethodPost {
		cmsView(w, r, "", false)
		return
	}
	_ = r.ParseForm()
	name := r.PostForm.Get("username")
	w.Header().Set("Content-Type", "application/json")
	if pw, ok := cmsAccounts[name]; !ok || pw != r.PostForm.Get("password") {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"message":"Invalid login"}}`)
		return
	}
	sid := sessions.start(name)
	_ = json.NewEncoder(w).Encode(map[string]any{"accessToken": "tok" + sid[:20], "sessionId": sid, "expiresIn": 3600})
}

func wordPressLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Form.Get("action") == "logout" {
		if c, err := r.Cookie("wordpress_logged_in_" + wpHash); err == nil {
			if _, sid, ok := strings.Cut(c.Value, "|"); ok {
				sessions.end(sid)
			}
		}
		for _, name := range []string{"wordpress_logged_in_" + wpHash, "wordpress_sec_" + wpHash} {
			http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
		}
		http.Redirect(w, r, "/wp-login.php?loggedout=true", http.StatusFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><form method="post" action="/wp-login.php"><input name="log"><input type="password" name="pwd"></form></body></html>`)
		return
	}
	name := r.PostForm.Get("log")
	if pw, ok := cmsAccounts[name]; !ok || pw != r.PostForm.Get("pwd") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><div id="login_error">The password you entered is incorrect.</div></body></html>`)
		return
	}
	sid := sessions.start(name)
	http.SetCookie(w, &http.Cookie{Name: "wordpress_sec_" + wpHash, Value: name + "|" + sid, Path: "/wp-admin", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: "wordpress_logged_in_" + wpHash, Value: name + "|" + sid, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/wp-admin/", http.StatusFound)
}

func wordPressAdmin(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if c, err := r.Cookie("wordpress_logged_in_" + wpHash); err == nil {
		if name, sid, ok := strings.Cut(c.Value, "|"); ok {
			if u, ok := sessions.user(sid); ok && u == name {
				cmsView(w, r, u, true)
				return
			}
		}
	}
	http.Redirect(w, r, "/wp-login.php", http.StatusFound)
}
