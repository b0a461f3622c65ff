// Package corpus loads the request corpora of mamori's profile tests
// (tests/testdata/profiles/<profile>/{benign,attack}.yaml): one request per
// entry, each with a name, so a failure names the request that failed.
package corpus

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mamori-waf/mamori/internal/evalcorpus"
)

// Entry is one request of a corpus.
type Entry struct {
	// Name identifies the request in test output.
	Name string `yaml:"name"`
	// Method is the HTTP method; default GET, or POST when there is a body.
	Method string `yaml:"method"`
	// Path is the path and query string, as sent (already encoded).
	Path string `yaml:"path"`
	// Session marks a request of a logged-in user: it carries the
	// session the test established (cookies and headers).
	Session bool `yaml:"session"`
	// Form is sent as an application/x-www-form-urlencoded body.
	Form map[string]string `yaml:"form"`
	// JSON is sent as an application/json body.
	JSON string `yaml:"json"`
	// XML is sent as a text/xml body.
	XML string `yaml:"xml"`
	// Body is sent as is, with ContentType.
	Body        string `yaml:"body"`
	ContentType string `yaml:"content_type"`
	// Headers are added to the request; an empty value removes a
	// default header (Accept, User-Agent, ...).
	Headers map[string]string `yaml:"headers"`
	// Rule, for attacks, is a rule ID or CVE tag the block must name
	// ("9923001", "CVE-2021-20837"); empty means any rule.
	Rule string `yaml:"rule"`
	// KeptCRS, for a benign entry, is the CRS PL1 rule ID that refuses it
	// and that mamori keeps on purpose: public input where the same text
	// is a probe ("/etc/hosts" in a search, 930120). Such an entry must be
	// refused by that rule (a test that it stays refused: a layer never
	// removes CRS PL1 detection) and counts as a refused benign request.
	KeptCRS string `yaml:"kept_crs"`
	// Guard, for an attack, names the mamori guard outside the WAF that
	// refuses it ("uploads": a script under the profile's upload paths is
	// never run). The in-process WAF tests (rules/) skip such entries; the
	// tests through the built binary hold them like any other attack.
	Guard string `yaml:"guard"`
}

// Tune reports whether the entry is in its corpus's tuning part, decided
// from its name alone by the evaluation suite's rule (sha256(name)[0] <
// 0x80, evalcorpus.TuningPart), fixed before any tuning (issue 11): the
// part looked at when choosing exclusions and rules. The rest is held out:
// measured and reported, never used to choose a fix.
func (e Entry) Tune() bool { return evalcorpus.TuningPart(e.Name) }

// Part names the entry's part in reports ("tune" or "held-out").
func (e Entry) Part() string {
	if e.Tune() {
		return "tune"
	}
	return "held-out"
}

// BrowserUserAgent is the User-Agent of the corpora's requests. Log in
// with it too: sealed session cookies are bound to the browser family.
const BrowserUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

// Session is what a logged-in request carries.
type Session struct {
	Cookies []*http.Cookie
	Headers map[string]string
}

// Load reads a corpus file and checks that every entry is usable and
// every name unique.
func Load(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	if err := yaml.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		switch {
		case e.Name == "":
			return nil, fmt.Errorf("%s: entry %d has no name", path, i+1)
		case seen[e.Name]:
			return nil, fmt.Errorf("%s: name %q used twice", path, e.Name)
		case e.KeptCRS != "" && e.Rule != "":
			return nil, fmt.Errorf("%s: %s: kept_crs (benign) and rule (attack) together", path, e.Name)
		case e.KeptCRS != "" && e.Guard != "":
			return nil, fmt.Errorf("%s: %s: kept_crs (benign) and guard (attack) together", path, e.Name)
		case !strings.HasPrefix(e.Path, "/"):
			return nil, fmt.Errorf("%s: %s: path %q must start with /", path, e.Name, e.Path)
		}
		bodies := 0
		for _, set := range []bool{len(e.Form) > 0, e.JSON != "", e.XML != "", e.Body != ""} {
			if set {
				bodies++
			}
		}
		if bodies > 1 {
			return nil, fmt.Errorf("%s: %s: more than one of form, json, xml, body", path, e.Name)
		}
		seen[e.Name] = true
	}
	return entries, nil
}

// Request builds the entry's request against base ("http://127.0.0.1:8080"
// or "" for a server-side request), with s when the entry has a session.
func (e Entry) Request(base string, s Session) (*http.Request, error) {
	var body io.Reader
	contentType := e.ContentType
	switch {
	case len(e.Form) > 0:
		v := url.Values{}
		keys := make([]string, 0, len(e.Form))
		for k := range e.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.Set(k, e.Form[k])
		}
		body, contentType = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case e.JSON != "":
		body, contentType = strings.NewReader(e.JSON), "application/json"
	case e.XML != "":
		body, contentType = strings.NewReader(e.XML), "text/xml"
	case e.Body != "":
		body = strings.NewReader(e.Body)
	}
	if e.ContentType != "" {
		contentType = e.ContentType
	}
	method := e.Method
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	r, err := http.NewRequest(method, base+e.Path, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	if base == "" {
		// A server-side request, as net/http's server would build it:
		// the raw target and the Content-Length header.
		r.RequestURI = e.Path
		if r.ContentLength > 0 {
			r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		}
	}
	r.Host = "cms.example.com"
	r.Header.Set("User-Agent", BrowserUserAgent)
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "ja,en-US;q=0.8")
	// The site's own pages and forms, as a browser marks them (Fetch
	// Metadata); an entry can override or remove it.
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, v := range e.Headers {
		if v == "" {
			r.Header.Del(k) // an empty value in the corpus: no such header
			continue
		}
		r.Header.Set(k, v)
	}
	if e.Session {
		for _, c := range s.Cookies {
			r.AddCookie(c)
		}
		for k, v := range s.Headers {
			if r.Header.Get(k) == "" {
				r.Header.Set(k, v)
			}
		}
	}
	return r, nil
}

// LogIn logs in to the fake CMS (tests/upstream) at base as an editor's
// browser would, through whatever is in front of it, and returns the
// session the corpora's session entries carry: Movable Type's mt_user
// cookie and a Data API token, or WordPress's logged-in cookies and a
// REST nonce. client must not follow redirects.
func LogIn(client *http.Client, base, profile string) (Session, error) {
	post := func(path string, form url.Values) (*http.Response, error) {
		req, err := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin") // the login form is the site's own
		req.Header.Set("User-Agent", BrowserUserAgent)  // the browser that then sends the corpus
		return client.Do(req)
	}
	var sess Session
	switch profile {
	case "movabletype":
		resp, err := post("/cgi-bin/mt/mt.cgi", url.Values{"username": {"melody"}, "password": {"Nelson-1999!"}})
		if err != nil {
			return sess, err
		}
		resp.Body.Close()
		sess.Cookies = resp.Cookies()
		resp, err = post("/cgi-bin/mt/mt-data-api.cgi/v6/authentication", url.Values{"username": {"melody"}, "password": {"Nelson-1999!"}, "clientId": {"mt-web"}})
		if err != nil {
			return sess, err
		}
		var token struct {
			AccessToken string `json:"accessToken"`
		}
		err = json.NewDecoder(resp.Body).Decode(&token)
		resp.Body.Close()
		if err != nil || token.AccessToken == "" {
			return sess, fmt.Errorf("data API login: status %d, %v", resp.StatusCode, err)
		}
		sess.Headers = map[string]string{"X-MT-Authorization": "MTAuth accessToken=" + token.AccessToken}
	case "wordpress":
		resp, err := post("/wp-login.php", url.Values{"log": {"admin"}, "pwd": {"correct-Horse-42"}, "rememberme": {"forever"}})
		if err != nil {
			return sess, err
		}
		resp.Body.Close()
		sess.Cookies = resp.Cookies()
		sess.Headers = map[string]string{"X-WP-Nonce": "0a1b2c3d4e"}
	default:
		return sess, fmt.Errorf("no login for profile %q", profile)
	}
	if len(sess.Cookies) == 0 {
		return sess, fmt.Errorf("%s login set no session cookie", profile)
	}
	return sess, nil
}
