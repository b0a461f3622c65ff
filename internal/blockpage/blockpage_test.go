package blockpage

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLanguage(t *testing.T) {
	tests := []struct {
		name, accept, want string
	}{
		{"japanese_preferred", "ja,en;q=0.8", "ja"},
		{"japanese_region", "ja-JP", "ja"},
		{"japanese_by_quality", "en;q=0.5, ja;q=0.9", "ja"},
		{"us_english", "en-US", "en"},
		{"english_preferred_over_japanese", "en-US,en;q=0.9,ja;q=0.8", "en"},
		{"empty_is_english", "", "en"},
		{"unsupported_is_english", "fr", "en"},
		{"wildcard_is_english", "*", "en"},
		{"garbage_is_english", ";;;=q", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Language(tt.accept); got != tt.want {
				t.Errorf("Language(%q) = %q, want %q", tt.accept, got, tt.want)
			}
		})
	}
}

const incident = "abcdefghijklmnopqrstuvwx"

func render(t *testing.T, p *Page, method, target string, headers map[string]string, status int) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	p.Write(w, r, status, incident)
	return w
}

func TestWrite(t *testing.T) {
	p, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		method      string
		headers     map[string]string
		status      int
		contentType string
		contains    []string
	}{
		{"browser_gets_html", http.MethodGet, map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, 403,
			"text/html; charset=utf-8", []string{"<!doctype html>", `lang="en"`, "Request blocked", incident, "403 Forbidden"}},
		{"no_accept_gets_html", http.MethodGet, nil, 403, "text/html; charset=utf-8", []string{"<html", incident}},
		{"any_accept_gets_html", http.MethodGet, map[string]string{"Accept": "*/*"}, 403, "text/html; charset=utf-8", []string{"<html", incident}},
		{"japanese_browser_gets_japanese_html", http.MethodGet, map[string]string{"Accept-Language": "ja,en;q=0.8"}, 403,
			"text/html; charset=utf-8", []string{`lang="ja"`, "リクエストはブロックされました", "インシデントID", incident}},
		{"api_client_gets_json", http.MethodPost, map[string]string{"Accept": "application/json"}, 403,
			"application/json; charset=utf-8", []string{`"incident_id":"` + incident + `"`, `"status":403`, `"error":"Request blocked"`}},
		{"problem_json_client_gets_json", http.MethodGet, map[string]string{"Accept": "application/problem+json"}, 403,
			"application/json; charset=utf-8", []string{incident}},
		{"json_preferred_in_list_gets_json", http.MethodGet, map[string]string{"Accept": "application/json, text/plain, */*"}, 403,
			"application/json; charset=utf-8", []string{incident}},
		{"html_listed_first_gets_html", http.MethodGet, map[string]string{"Accept": "text/html, application/json"}, 403,
			"text/html; charset=utf-8", []string{incident}},
		{"japanese_json", http.MethodGet, map[string]string{"Accept": "application/json", "Accept-Language": "ja"}, 403,
			"application/json; charset=utf-8", []string{"リクエストはブロックされました"}},
		{"other_status_is_shown", http.MethodPost, nil, 413, "text/html; charset=utf-8", []string{"413 Request Entity Too Large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := render(t, p, tt.method, "/", tt.headers, tt.status)
			body := w.Body.String()
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body lacks %q:\n%s", c, body)
				}
			}
			if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q, body is %d bytes", cl, len(body))
			}
			if strings.HasPrefix(tt.contentType, "application/json") {
				var m map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
					t.Errorf("body is not JSON: %v", err)
				}
			}
		})
	}

	t.Run("no_store_and_hardening_headers", func(t *testing.T) {
		for _, accept := range []string{"text/html", "application/json"} {
			w := render(t, p, http.MethodGet, "/", map[string]string{"Accept": accept}, 403)
			h := w.Header()
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", accept, h.Get("Cache-Control"))
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", accept, h.Get("X-Content-Type-Options"))
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%s: Content-Security-Policy %q", accept, csp)
			}
		}
	})

	t.Run("upstream_cache_and_encoding_headers_are_replaced", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", "99999")
		w.Header().Set("X-Request-Id", incident)
		p.Write(w, r, 403, incident)
		h := w.Header()
		if h.Get("Cache-Control") != "no-store" || h.Get("Content-Encoding") != "" || h.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Errorf("headers %v", h)
		}
		if h.Get("X-Request-Id") != incident {
			t.Errorf("X-Request-Id dropped")
		}
	})

	t.Run("head_gets_no_body", func(t *testing.T) {
		w := render(t, p, http.MethodHead, "/", nil, 403)
		if w.Body.Len() != 0 {
			t.Errorf("HEAD got %d bytes of body", w.Body.Len())
		}
		if w.Code != 403 || w.Header().Get("Content-Type") == "" {
			t.Errorf("HEAD status %d Content-Type %q", w.Code, w.Header().Get("Content-Type"))
		}
	})

	t.Run("request_content_is_never_echoed", func(t *testing.T) {
		const evil = "<script>alert(1)</script>"
		for _, accept := range []string{"text/html", "application/json"} {
			r := httptest.NewRequest(http.MethodGet, "/x?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&raw=<script>alert(1)</script>", nil)
			r.Header.Set("Accept", accept)
			r.Header.Set("User-Agent", evil)
			r.Header.Set("Referer", "https://evil.test/"+evil)
			r.Header.Set("X-Evil", evil)
			r.Header.Set("Accept-Language", "ja, "+evil)
			w := httptest.NewRecorder()
			p.Write(w, r, 403, incident)
			body := w.Body.String()
			for _, bad := range []string{"<script", "alert(1)", "evil.test", "/x?q="} {
				if strings.Contains(body, bad) {
					t.Errorf("%s body contains request content %q:\n%s", accept, bad, body)
				}
			}
			if !strings.Contains(body, incident) {
				t.Errorf("%s body lacks the incident ID", accept)
			}
		}
	})

	t.Run("incident_id_is_escaped_in_html", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		p.Write(w, r, 403, "<b>id</b>")
		if strings.Contains(w.Body.String(), "<b>id</b>") {
			t.Errorf("incident ID not escaped")
		}
	})
}

func TestNewCustomTemplate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("custom_template_is_rendered", func(t *testing.T) {
		path := write("ok.html", `<html lang="{{.Lang}}"><p>Custom {{.Status}} {{.StatusText}} ref={{.IncidentID}}</p></html>`)
		p, err := New(path)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		w := render(t, p, http.MethodGet, "/", map[string]string{"Accept-Language": "ja"}, 403)
		want := `<html lang="ja"><p>Custom 403 Forbidden ref=` + incident + `</p></html>`
		if w.Body.String() != want {
			t.Errorf("body %q, want %q", w.Body.String(), want)
		}
		if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("headers %v", w.Header())
		}
	})

	t.Run("custom_template_does_not_change_json", func(t *testing.T) {
		p, err := New(write("ok2.html", `custom {{.IncidentID}}`))
		if err != nil {
			t.Fatal(err)
		}
		w := render(t, p, http.MethodGet, "/", map[string]string{"Accept": "application/json"}, 403)
		if !strings.Contains(w.Body.String(), `"incident_id":"`+incident+`"`) || strings.Contains(w.Body.String(), "custom") {
			t.Errorf("body %q", w.Body.String())
		}
	})

	tests := []struct {
		name, file, content string
	}{
		{"unparsable_template_fails", "bad.html", `<p>{{.IncidentID</p>`},
		{"unknown_function_fails", "func.html", `<p>{{nosuchfunc .IncidentID}}</p>`},
		{"unknown_field_fails_at_load", "field.html", `<p>{{.NoSuchField}}</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(tt.file, tt.content)
			p, err := New(path)
			if err == nil {
				t.Fatalf("New(%s) = %v, nil; want an error", tt.file, p)
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}

	t.Run("missing_template_fails", func(t *testing.T) {
		if _, err := New(filepath.Join(dir, "missing.html")); err == nil {
			t.Fatal("New succeeded with a missing file")
		}
	})
}

func TestWriteNotice(t *testing.T) {
	custom := filepath.Join(t.TempDir(), "custom.html")
	if err := os.WriteFile(custom, []byte("custom {{.IncidentID}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", custom} {
		p, err := New(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, accept := range []string{"text/html", "application/json"} {
			r := httptest.NewRequest("POST", "/cgi-bin/mt/mt.cgi", nil)
			r.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			p.WriteNotice(w, r, 422, "inc-1", "ja", "使用できません", "8文字以上にしてください。<b>")
			body := w.Body.String()
			if w.Code != 422 || !strings.Contains(body, "使用できません") || !strings.Contains(body, "inc-1") {
				t.Fatalf("%s %s: %d %s", path, accept, w.Code, body)
			}
			if accept == "text/html" && (!strings.Contains(body, "8文字以上にしてください。&lt;b&gt;") || strings.Contains(body, "custom")) {
				t.Fatalf("notice page: %s", body)
			}
			if accept == "application/json" && !strings.Contains(body, `"message":"8文字以上にしてください。\u003cb\u003e"`) {
				t.Fatalf("notice JSON: %s", body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Fatal("notice may be cached")
			}
		}
	}
}

// TryAgain (the login throttle's 429) says how long to wait, rounded up
// to whole minutes, in English and Japanese (issue 15).
func TestTryAgain(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		retry time.Duration
		title string
		msg   string
	}{
		{"en", 14*time.Minute + time.Second, "Too many failed logins", "Try again in 15 minutes."},
		{"en", 20 * time.Second, "Too many failed logins", "Try again in 1 minute."},
		{"en", 0, "Too many failed logins", "Try again in 1 minute."},
		{"ja", 15 * time.Minute, "ログインの失敗が多すぎます", "15 分後にもう一度お試しください。"},
	} {
		title, msg := TryAgain(tc.lang, tc.retry)
		if title != tc.title || msg != tc.msg {
			t.Errorf("TryAgain(%s, %v) = %q, %q; want %q, %q", tc.lang, tc.retry, title, msg, tc.title, tc.msg)
		}
	}
}
