package waf

import (
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/detect"
	"github.com/mamori-waf/mamori/internal/request"
	testharness "github.com/mamori-waf/mamori/tests/harness"
)

// policyCase is one request against one engine, with the rules that must
// and must not match and whether it reaches the upstream.
type policyCase struct {
	name, method, target, ct, body string
	header                         map[string]string
	want, notWant                  []int
	pass                           bool
}

func runPolicyCases(t *testing.T, e *Engine, cases []policyCase) {
	t.Helper()
	up := newEchoUpstream()
	h := newHarness(t, e, up)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req := newRequest(t, c.method, h.srv.URL+c.target, body)
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, _ := h.do(t, req)
			v := h.verdict(t)
			ids := matchedIDs(v)
			if pass := resp.StatusCode == http.StatusOK; pass != c.pass {
				t.Errorf("status %d (matched %v), want pass=%v", resp.StatusCode, ids, c.pass)
			}
			if c.pass && c.body != "" {
				if got := up.body(t); string(got) != c.body {
					t.Errorf("upstream got %q, want %q", got, c.body)
				}
			} else if c.pass {
				up.body(t)
			}
			for _, id := range c.want {
				if !slices.Contains(ids, id) {
					t.Errorf("rule %d did not match (matched %v)", id, ids)
				}
			}
			for _, id := range c.notWant {
				if slices.Contains(ids, id) {
					t.Errorf("rule %d matched (matched %v)", id, ids)
				}
			}
			h.noRequestErrors(t)
		})
	}
}

// The allowed methods (911100) are the perimeter's list: by default the
// CMSs' API methods (PUT, PATCH and DELETE for WordPress's REST API, PUT
// and DELETE for Movable Type's Data API); others stay refused; the
// operator's `methods` list (AllowedMethods) and CRS's own setvar in
// setup_directives narrow it.
func TestAllowedMethods(t *testing.T) {
	off := Config{Detection: detectOff()}
	listed := off
	listed.AllowedMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"}
	narrowed := off
	narrowed.SetupDirectives = `SecAction "id:900200,phase:1,pass,nolog,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS'"`
	json := `{"title":"Hello"}`
	for _, e := range []struct {
		name  string
		cfg   Config
		allow []string
		deny  []string
	}{
		{"default", off, []string{"GET", "POST", "PUT", "PATCH", "DELETE"}, []string{"PROPFIND", "TRACE", "FOO"}},
		{"limits_methods", listed, []string{"PUT", "DELETE", "PROPFIND"}, []string{"PATCH", "TRACE"}},
		{"crs_setvar", narrowed, []string{"GET", "POST"}, []string{"PUT", "PATCH", "DELETE"}},
	} {
		t.Run(e.name, func(t *testing.T) {
			var cases []policyCase
			for _, m := range e.allow {
				c := policyCase{name: m, method: m, target: "/wp-json/wp/v2/posts/1", ct: "application/json", body: json, notWant: []int{911100}, pass: true}
				if m == "GET" {
					c.ct, c.body = "", "" // a GET with a body is 920170's
				}
				cases = append(cases, c)
			}
			for _, m := range e.deny {
				cases = append(cases, policyCase{name: m, method: m, target: "/wp-json/wp/v2/posts/1", want: []int{911100}})
			}
			runPolicyCases(t, engineFor(t, e.cfg), cases)
		})
	}
	if err := (Config{AllowedMethods: []string{"GET'"}}).WithDefaults().Validate(); err == nil {
		t.Error("a method with a quote was accepted")
	}
}

// The body-type policy (920420) judges bodies: a request without one
// passes whatever Content-Type its script set; a body of a type off the
// list is refused. RFC 6839 +json types and the AWS JSON types are on
// mamori's list and parsed as JSON (an attack in them is still refused);
// an operator's list without |application/*+json| refuses them, as CRS.
// 920470 accepts RFC 9110's empty parameters.
func TestContentTypePolicy(t *testing.T) {
	sqliJSON := `{"q":"` + sqli + `"}`
	runPolicyCases(t, defaultEngine(t), []policyCase{
		{name: "get_typed_no_body", method: "GET", target: "/ninja/index.htm", ct: "text/javascript;charset=utf-8", notWant: []int{920420}, pass: true},
		{name: "get_typed_empty_param_no_body", method: "GET", target: "/ysc?t=1", ct: "text/plain;charset=utf-8;", notWant: []int{920420, 920470}, pass: true},
		{name: "get_unknown_type_with_body", method: "GET", target: "/", ct: "my-new-content-type", body: "test", want: []int{920420}},
		{name: "post_unknown_type", method: "POST", target: "/", ct: "image/jpeg", body: "test", want: []int{920420}},
		{name: "json_empty_param", method: "POST", target: "/api/save", ct: "application/json;", body: `{"a":1}`, notWant: []int{920470, 920420}, pass: true},
		{name: "ld_json", method: "POST", target: "/api", ct: "application/ld+json; charset=utf-8", body: `{"@id":"x"}`, notWant: []int{920420}, pass: true},
		{name: "problem_json_upper", method: "POST", target: "/api", ct: "Application/Problem+JSON", body: `{"a":1}`, notWant: []int{920420}, pass: true},
		{name: "amz_json", method: "POST", target: "/", ct: "application/x-amz-json-1.1", body: `{"a":1}`, notWant: []int{920420}, pass: true},
		{name: "amz_json_sqli", method: "POST", target: "/", ct: "application/x-amz-json-1.1", body: sqliJSON, want: []int{942100}},
		{name: "vnd_json_sqli", method: "POST", target: "/", ct: "application/vnd.api+json", body: sqliJSON, want: []int{942100}},
		{name: "not_json_suffix", method: "POST", target: "/", ct: "application/x+jsonx", body: "a", want: []int{920420}},
		// A type repeated is that type (PHP and CGI.pm read it so:
		// TestDoubledContentTypeIsOneType); a list of different types,
		// or a repeat with quotes, is CRS's to judge.
		{name: "repeated_type", method: "POST", target: "/", ct: "application/json, application/json", body: `{"a":1}`, notWant: []int{920420, 920470, 921421}, pass: true},
		{name: "repeated_type_sqli", method: "POST", target: "/", ct: "application/json,application/json", body: sqliJSON, want: []int{942100}},
		{name: "repeated_form", method: "POST", target: "/", ct: "application/x-www-form-urlencoded, application/x-www-form-urlencoded", body: "a=1&b=2", notWant: []int{920420, 920470, 921421}, pass: true},
		{name: "repeated_form_sqli", method: "POST", target: "/", ct: "application/x-www-form-urlencoded, application/x-www-form-urlencoded", body: "q=" + url.QueryEscape(sqli), want: []int{942100}},
		{name: "type_list", method: "POST", target: "/", ct: "application/json, text/plain", body: `{"a":1}`, want: []int{920470}},
		{name: "repeated_quoted", method: "POST", target: "/", ct: `text/plain; charset="a,b", text/plain; charset="a,b"`, body: `a`, want: []int{920470}},
	})
	crsList := Config{Detection: detectOff(), SetupDirectives: `SecAction "id:900006,phase:1,pass,nolog,setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |application/json|'"`}
	runPolicyCases(t, engineFor(t, crsList), []policyCase{
		{name: "operator_list_refuses_suffix", method: "POST", target: "/", ct: "application/ld+json", body: `{"a":1}`, want: []int{920420}},
		{name: "operator_list_no_body", method: "GET", target: "/", ct: "text/javascript", notWant: []int{920420}, pass: true},
		{name: "operator_list_json", method: "POST", target: "/", ct: "application/json", body: `{"a":1}`, notWant: []int{920420}, pass: true},
	})
}

// A body without a Content-Type is read as the CMS reads it: as a form
// where CGI.pm (POST, PUT, PATCH) or WordPress's REST API (PUT, PATCH,
// DELETE, a POST naming another method) parses it, refused as CRS does
// (920340, 920640) and its attacks found; elsewhere as raw bytes, which
// pass. Without a profile, a form wherever either CMS would read one.
func TestUntypedBody(t *testing.T) {
	binary := "6\x8f\xe1D\n\x05\x04v\x01\x18\x00\x03\x00X\x0b@ \x1a\x00\x8e\x01\x18\r\n"
	form := "q=" + strings.ReplaceAll(sqli, " ", "+")
	formRead := []int{920340, 920640}
	cgi := Config{Dialect: request.CGI}
	php := Config{Dialect: request.PHP}
	for _, e := range []struct {
		name  string
		cfg   Config
		cases []policyCase
	}{
		{"union", Config{}, []policyCase{
			{name: "post_binary", method: "POST", target: "/v2/web/pv", body: binary, want: formRead},
			{name: "post_form_sqli", method: "POST", target: "/", body: form, want: append([]int{942100}, formRead...)},
			{name: "delete_form_sqli", method: "DELETE", target: "/wp-json/wp/v2/posts/1", body: form, want: []int{942100}},
			{name: "options_binary", method: "OPTIONS", target: "/", body: binary, notWant: formRead, pass: true},
		}},
		{"movabletype", cgi, []policyCase{
			{name: "post_binary", method: "POST", target: "/cgi-bin/mt/mt.cgi", body: binary, want: formRead},
			{name: "put_form_sqli", method: "PUT", target: "/cgi-bin/mt/mt-data-api.cgi/v4/sites/1/entries/1", body: form, want: []int{942100}},
			{name: "delete_binary", method: "DELETE", target: "/cgi-bin/mt/mt-data-api.cgi/v4/authentication", body: binary, notWant: formRead, pass: true},
		}},
		{"wordpress", php, []policyCase{
			{name: "post_binary", method: "POST", target: "/v2/web/pv", body: binary, notWant: formRead, pass: true},
			{name: "post_untyped_form_not_parsed", method: "POST", target: "/wp-admin/admin-ajax.php", body: "action=x", notWant: formRead, pass: true},
			{name: "post_override_header", method: "POST", target: "/wp-json/wp/v2/posts/1", body: form, header: map[string]string{"X-HTTP-Method-Override": "PUT"}, want: []int{942100}},
			{name: "post_override_query", method: "POST", target: "/?rest_route=/wp/v2/posts/1&_method=PUT", body: form, want: []int{942100}},
			{name: "put_form_sqli", method: "PUT", target: "/wp-json/wp/v2/posts/1", body: form, want: append([]int{942100}, formRead...)},
			{name: "delete_form_sqli", method: "DELETE", target: "/wp-json/wp/v2/posts/1", body: form, want: []int{942100}},
		}},
	} {
		t.Run(e.name, func(t *testing.T) { runPolicyCases(t, engineFor(t, e.cfg), e.cases) })
	}
}

func detectOff() detect.Options { return detect.Options{Off: true} }

// The methods whose untyped body mamori reads as a form for Movable Type
// are exactly those whose body the real CGI.pm parses as a form without
// CONTENT_TYPE (Debian libcgi-pm-perl, installed by tests/setup.sh), run
// as a CGI script the way a web server runs mt.cgi.
func TestUntypedFormMethodsAreCGIpms(t *testing.T) {
	perl, err := exec.LookPath("perl")
	testharness.Require(t, err == nil && exec.Command(perl, "-MCGI", "-e1").Run() == nil,
		"perl with CGI.pm (Debian libcgi-pm-perl) is missing: install it (tests/setup.sh)")
	script := filepath.Join(t.TempDir(), "params.pl")
	if err := os.WriteFile(script, []byte("use CGI; my $q = CGI->new; print \"Content-Type: text/plain\\r\\n\\r\\n\", join(',', $q->param);\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&cgi.Handler{Path: perl, Args: []string{script}, Root: "/"})
	defer srv.Close()
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		req, err := http.NewRequest(m, srv.URL+"/mt.cgi", strings.NewReader("mamori_probe=1&b=2"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m == "HEAD" {
			continue // no body in the answer to tell; CGI.pm treats HEAD as GET
		}
		parsed := strings.Contains(string(b), "mamori_probe")
		if want := slices.Contains(untypedFormMethods(request.CGI), m); parsed != want {
			t.Errorf("%s: CGI.pm parsed the untyped body as a form: %v (%q); mamori reads it as a form: %v", m, parsed, b, want)
		}
	}
}

// PHP and CGI.pm read a body whose Content-Type repeats one type as that
// type: a repeated form type is a form to both, a repeated JSON type raw
// input. mamori judges such a body as the one type (oneContentType).
func TestDoubledContentTypeIsOneType(t *testing.T) {
	perl, err := exec.LookPath("perl")
	testharness.Require(t, err == nil && exec.Command(perl, "-MCGI", "-e1").Run() == nil,
		"perl with CGI.pm (Debian libcgi-pm-perl) is missing: install it (tests/setup.sh)")
	php, err := exec.LookPath("php")
	testharness.Require(t, err == nil, "php (Debian php-cli) is missing: install it (tests/setup.sh)")
	dir := t.TempDir()
	script := filepath.Join(dir, "params.pl")
	if err := os.WriteFile(script, []byte("use CGI; my $q = CGI->new; print \"Content-Type: text/plain\\r\\n\\r\\n\", join(',', $q->param);\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cgiSrv := httptest.NewServer(&cgi.Handler{Path: perl, Args: []string{script}, Root: "/"})
	defer cgiSrv.Close()
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(`<?php echo implode(",", array_keys($_POST));`), 0o600); err != nil {
		t.Fatal(err)
	}
	phpURL := startPHP(t, php, dir)
	for _, c := range []struct {
		ct   string
		form bool
	}{
		{"application/x-www-form-urlencoded, application/x-www-form-urlencoded", true},
		{"application/x-www-form-urlencoded,application/x-www-form-urlencoded", true},
		{"application/json, application/json", false},
	} {
		if got := oneContentType(c.ct); strings.Contains(got, ",") {
			t.Errorf("%q: mamori reads %q", c.ct, got)
		}
		for name, u := range map[string]string{"CGI.pm": cgiSrv.URL + "/mt.cgi", "PHP": phpURL} {
			req, err := http.NewRequest("POST", u, strings.NewReader("mamori_probe=1&b=2"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", c.ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if parsed := strings.Contains(string(b), "mamori_probe"); parsed != c.form {
				t.Errorf("%s read %q as a form: %v (%q), want %v", name, c.ct, parsed, b, c.form)
			}
		}
	}
}

// startPHP runs PHP's built-in web server on a free loopback port over
// dir and returns its URL, once it answers.
func startPHP(t *testing.T, php, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(php, "-S", addr, "-t", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	u := "http://" + addr + "/index.php"
	for i := 0; i < 600; i++ { // up to a minute on a loaded machine
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			return u
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("PHP's server on %s did not answer", addr)
	return ""
}
