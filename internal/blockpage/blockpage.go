// Package blockpage renders what a refused client sees: a short page (or a
// JSON object) saying the request was blocked, with the incident ID, in
// English or Japanese. It names no rule and echoes nothing from the request.
package blockpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Data is what a template may show.
type Data struct {
	// IncidentID is the request ID, also in the events and access log.
	IncidentID string
	// Status is the HTTP status code.
	Status int
	// StatusText is the status's reason phrase.
	StatusText string
	// Lang is "en" or "ja".
	Lang string
	// Title and Message, when set, replace the page's heading and add a
	// specific explanation (which password rule failed). Only the
	// built-in page renders them.
	Title, Message string
}

// Page renders block pages. The zero value is not usable; call New.
type Page struct {
	custom *template.Template
}

// New loads the operator's template if path is not empty. The template is
// Go html/template text and receives Data.
func New(path string) (*Page, error) {
	if path == "" {
		return &Page{}, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("block page template: %w", err)
	}
	t, err := template.New(path).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("block page template %s: %w", path, err)
	}
	// Render once now so a template that fails on execution fails at load.
	if err := t.Execute(&bytes.Buffer{}, Data{IncidentID: "x", Status: 403, StatusText: "Forbidden", Lang: "en"}); err != nil {
		return nil, fmt.Errorf("block page template %s: %w", path, err)
	}
	return &Page{custom: t}, nil
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.Japanese})

// Language picks "ja" or "en" from an Accept-Language header.
func Language(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, idx, _ := matcher.Match(tags...)
	if idx == 1 {
		return "ja"
	}
	return "en"
}

// wantsJSON reports a client that prefers JSON to HTML (API clients,
// fetch() with Accept: application/json).
func wantsJSON(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for _, part := range strings.Split(accept, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.TrimSpace(mt) {
			case "application/json", "application/problem+json":
				return true
			case "text/html", "application/xhtml+xml":
				return false
			}
		}
	}
	return false
}

// Write answers the client. Headers already set on w (the request ID) are
// kept; everything that could cache or frame the page is turned off.
func (p *Page) Write(w http.ResponseWriter, r *http.Request, status int, incidentID string) {
	d := Data{IncidentID: incidentID, Status: status, StatusText: http.StatusText(status), Lang: Language(r.Header.Get("Accept-Language"))}
	p.write(w, r, d, p.custom)
}

// WriteNotice answers like Write, with a title and a message that tell the
// user what to change (for lang, which the caller got from Language). It
// always uses the built-in page: an operator's template may not show them.
func (p *Page) WriteNotice(w http.ResponseWriter, r *http.Request, status int, incidentID, lang, title, message string) {
	d := Data{IncidentID: incidentID, Status: status, StatusText: http.StatusText(status), Lang: lang, Title: title, Message: message}
	p.write(w, r, d, nil)
}

func (p *Page) write(w http.ResponseWriter, r *http.Request, d Data, custom *template.Template) {
	status, incidentID := d.Status, d.IncidentID
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	var body []byte
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		obj := map[string]any{
			"error":       messages[d.Lang].title,
			"status":      status,
			"incident_id": incidentID,
		}
		if d.Title != "" {
			obj["error"] = d.Title
		}
		if d.Message != "" {
			obj["message"] = d.Message
		}
		body, _ = json.Marshal(obj)
		body = append(body, '\n')
	} else {
		var buf bytes.Buffer
		t := builtin
		if custom != nil {
			t = custom
		}
		if err := t.Execute(&buf, d); err != nil {
			// Checked at load; if it still fails, fall back to the built-in page.
			buf.Reset()
			_ = builtin.Execute(&buf, d)
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		body = buf.Bytes()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

type message struct{ title, explain, incident string }

var messages = map[string]message{
	"en": {"Request blocked", "This request was blocked by the site's security protection. If you believe this is a mistake, contact the site administrator and give them the incident ID below.", "Incident ID"},
	"ja": {"リクエストはブロックされました", "このリクエストはサイトのセキュリティ保護によりブロックされました。誤りと思われる場合は、下記のインシデントIDを添えてサイト管理者にお問い合わせください。", "インシデントID"},
}

var builtin = template.Must(template.New("block").Funcs(template.FuncMap{
	"msg": func(lang string) message { return messages[lang] },
}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{with .Title}}{{.}}{{else}}{{(msg $.Lang).Title}}{{end}} ({{.Status}})</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:.2em .4em}</style>
</head><body>{{if .Message}}<h1>{{.Title}}</h1><p><strong>{{.Message}}</strong></p>{{else}}<h1>{{(msg .Lang).Title}}</h1><p>{{(msg .Lang).Explain}}</p>{{end}}
<p>{{(msg .Lang).Incident}}: <code>{{.IncidentID}}</code></p><p><small>{{.Status}} {{.StatusText}}</small></p></body></html>
`))

// TryAgain is the title and message of a refusal that ends by itself
// after retry (the login throttle's 429, sent with Retry-After), in lang:
// the user learns to wait, rounded up to whole minutes, not that the
// request was "blocked".
func TryAgain(lang string, retry time.Duration) (title, message string) {
	minutes := int((retry + time.Minute - 1) / time.Minute)
	minutes = max(minutes, 1)
	if lang == "ja" {
		return "ログインの失敗が多すぎます", fmt.Sprintf("%d 分後にもう一度お試しください。", minutes)
	}
	unit := "minutes"
	if minutes == 1 {
		unit = "minute"
	}
	return "Too many failed logins", fmt.Sprintf("Try again in %d %s.", minutes, unit)
}

// Title, Explain and Incident expose message fields to templates.
func (m message) Title() string    { return m.title }
func (m message) Explain() string  { return m.explain }
func (m message) Incident() string { return m.incident }
