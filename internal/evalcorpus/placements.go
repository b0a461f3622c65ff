package evalcorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// Placement is where in a request a value travels, and how the request
// carries it (the way real clients encode it there).
type Placement struct {
	// Name names the placement in reports.
	Name string
	// header is true for placements in a header value, which cannot carry
	// control characters.
	header bool
	build  func(base, v string) (*http.Request, error)
}

func (p Placement) carries(v string) bool {
	if !p.header {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Request builds the request that carries v in placement p, against the
// site at base (scheme://host[/prefix]).
// Every request carries the headers a browser sends (a User-Agent,
// Accept, Accept-Language), unless the placement sets them: a WAF scores
// requests without them as suspicious, and real visitors send them.
func (p Placement) Request(base, v string) (*http.Request, error) {
	r, err := p.build(strings.TrimSuffix(base, "/"), v)
	if err != nil {
		return nil, err
	}
	for name, value := range browserHeaders {
		if r.Header.Get(name) == "" {
			r.Header.Set(name, value)
		}
	}
	return r, nil
}

var browserHeaders = map[string]string{
	"User-Agent":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"Accept-Language": "ja,en-US;q=0.9,en;q=0.8",
}

// PlacementByName returns the named placement.
func PlacementByName(name string) (Placement, bool) {
	for _, p := range Placements {
		if p.Name == name {
			return p, true
		}
	}
	return Placement{}, false
}

func withBody(method, u, contentType string, body []byte) (*http.Request, error) {
	r, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", contentType)
	return r, nil
}

func get(u string) (*http.Request, error) { return http.NewRequest(http.MethodGet, u, nil) }

func jsonBody(base string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return withBody(http.MethodPost, base+"/api/posts", "application/json", b)
}

// graphQLString quotes v as a GraphQL string literal.
func graphQLString(v string) string {
	b, _ := json.Marshal(v) // JSON string escapes are valid GraphQL escapes
	return string(b)
}

// Placements are the request locations of the suite, in report order.
var Placements = []Placement{
	{Name: "query", build: func(base, v string) (*http.Request, error) {
		return get(base + "/search?lang=en&q=" + url.QueryEscape(v))
	}},
	{Name: "path", build: func(base, v string) (*http.Request, error) {
		return get(base + "/archives/" + url.PathEscape(v))
	}},
	{Name: "form", build: func(base, v string) (*http.Request, error) {
		f := url.Values{"author": {"Hanako"}, "email": {"hanako@example.jp"}, "comment": {v}}
		return withBody(http.MethodPost, base+"/comments", "application/x-www-form-urlencoded", []byte(f.Encode()))
	}},
	{Name: "multipart", build: func(base, v string) (*http.Request, error) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("title", "Upload")
		_ = mw.WriteField("description", v)
		fw, _ := mw.CreateFormFile("file", "notes.txt")
		_, _ = fw.Write([]byte("notes\n"))
		_ = mw.Close()
		return withBody(http.MethodPost, base+"/upload", mw.FormDataContentType(), b.Bytes())
	}},
	{Name: "json-value", build: func(base, v string) (*http.Request, error) {
		return jsonBody(base, map[string]any{"title": "Draft", "status": "draft", "content": v})
	}},
	{Name: "json-key", build: func(base, v string) (*http.Request, error) {
		return jsonBody(base, map[string]any{"title": "Draft", "meta": map[string]string{v: "1"}})
	}},
	{Name: "xml-text", build: func(base, v string) (*http.Request, error) {
		body := `<?xml version="1.0" encoding="UTF-8"?><entry><title>Draft</title><content>` + html.EscapeString(v) + `</content></entry>`
		return withBody(http.MethodPost, base+"/api/entries", "application/xml", []byte(body))
	}},
	{Name: "xml-attr", build: func(base, v string) (*http.Request, error) {
		body := `<?xml version="1.0" encoding="UTF-8"?><entry><category term="` + html.EscapeString(v) + `"/><title>Draft</title></entry>`
		return withBody(http.MethodPost, base+"/api/entries", "application/xml", []byte(body))
	}},
	{Name: "soap", build: func(base, v string) (*http.Request, error) {
		body := `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Search xmlns:m="urn:example:catalog"><m:term>` +
			html.EscapeString(v) + `</m:term></m:Search></soap:Body></soap:Envelope>`
		r, err := withBody(http.MethodPost, base+"/soap/catalog", "text/xml; charset=utf-8", []byte(body))
		if err == nil {
			r.Header.Set("SOAPAction", `"urn:example:catalog#Search"`)
		}
		return r, err
	}},
	{Name: "cookie", header: true, build: func(base, v string) (*http.Request, error) {
		r, err := get(base + "/")
		if err == nil {
			r.Header.Set("Cookie", "session=8c1f2b7e4a; theme=dark; prefs="+url.QueryEscape(v))
		}
		return r, err
	}},
	{Name: "user-agent", header: true, build: func(base, v string) (*http.Request, error) {
		r, err := get(base + "/")
		if err == nil {
			r.Header.Set("User-Agent", v)
		}
		return r, err
	}},
	{Name: "referer", header: true, build: func(base, v string) (*http.Request, error) {
		r, err := get(base + "/")
		if err == nil {
			if !strings.HasPrefix(v, "https://") {
				v = "https://www.example.com/search?q=" + url.QueryEscape(v)
			}
			r.Header.Set("Referer", v)
		}
		return r, err
	}},
	{Name: "header", header: true, build: func(base, v string) (*http.Request, error) {
		r, err := get(base + "/api/items")
		if err == nil {
			r.Header.Set("X-Filter", v)
		}
		return r, err
	}},
	{Name: "graphql", build: func(base, v string) (*http.Request, error) {
		q := fmt.Sprintf("query Search {\n  search(term: %s, first: 10) {\n    id\n    title\n  }\n}", graphQLString(v))
		b, err := json.Marshal(map[string]any{"query": q, "operationName": "Search"})
		if err != nil {
			return nil, err
		}
		return withBody(http.MethodPost, base+"/graphql", "application/json", b)
	}},
}

// upload is a file upload (benign corpus only): v is the file's content.
var upload = Placement{Name: "upload", build: func(base, v string) (*http.Request, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("title", "Attachment")
	fw, _ := mw.CreateFormFile("file", "README.txt")
	_, _ = fw.Write([]byte(v))
	_ = mw.Close()
	return withBody(http.MethodPost, base+"/upload", mw.FormDataContentType(), b.Bytes())
}}
