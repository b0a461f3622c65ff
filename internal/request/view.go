// Package request builds one view of a request as the CMS behind mamori
// will read it, once per request, for every guard to decide on (issue 10):
// the script a path runs and its PATH_INFO (Apache and PHP-FPM
// semantics), and the query, body and cookie parameters as Perl's CGI.pm
// and CGI::Cookie read them (Movable Type) and as PHP reads them
// (WordPress). A profile picks the dialect; without one, the view holds
// every dialect's reading and a guard matches if any reading matches.
//
// Plain net/http, no Caddy: the parsers are checked against the real
// CGI.pm and PHP in differential tests.
package request

import (
	"context"
	"io"
	"net/http"
	"net/url"
)

// Dialect is the parser family of the CMS behind mamori.
type Dialect int

const (
	// Union: no profile; every dialect's reading counts.
	Union Dialect = iota
	// CGI is Perl's CGI.pm and CGI::Cookie (Movable Type).
	CGI
	// PHP is PHP's request parsing (WordPress).
	PHP
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case CGI:
		return "cgi"
	case PHP:
		return "php"
	}
	return "union"
}

// DialectOf is the dialect of a CMS profile name.
func DialectOf(profile string) Dialect {
	switch profile {
	case "movabletype":
		return CGI
	case "wordpress":
		return PHP
	}
	return Union
}

// Field is one parameter or cookie as a dialect reads it.
type Field struct {
	// Name is the name the CMS reads: CGI.pm's unescaped name, or PHP's
	// top-level key after its name mangling.
	Name string
	// Keys are PHP's array keys below Name ("a[x][]" is Name "a", Keys
	// "x" and ""); nil for a plain variable.
	Keys []string
	// Value is the value (body fields cut at MaxValue; "" for files).
	Value string
	// File marks a multipart part the CMS reads as an uploaded file.
	File bool
	// FileName is the uploaded file's name.
	FileName string
}

// Reading is what one dialect reads from the request.
type Reading struct {
	// Dialect is the reading's parser.
	Dialect Dialect
	// Query are the query string's parameters, in order.
	Query []Field
	// Body are the form body's fields and files, once the body is read.
	Body []Field
	// Cookies are the Cookie header's cookies, in order (first wins).
	Cookies []Field
}

// View is a request as the CMS will read it.
type View struct {
	// Dialect picked the readings.
	Dialect Dialect
	// Path is the decoded, normalised path (see Normalize).
	Path string
	// Script is the script the path runs (see SplitScript): Path itself
	// when no segment names a script.
	Script string
	// PathInfo follows Script in Path ("" when none).
	PathInfo string
	// Cookie is the Cookie header split into raw pairs, as sent.
	Cookie []Pair
	// Parts are the multipart body's parts, as each reading classifies
	// them, once the body is read.
	Parts []Part
	// Ambiguous, when set, says why the body is read differently by the
	// WAF and by the CMS (a part the CMS reads as a field is a file to
	// the WAF, which would not inspect it).
	Ambiguous string
	// BodyRead is set once ReadBody has run; BodyErr is its error.
	BodyRead bool
	BodyErr  error

	readings []*Reading
}

// New builds the view of r for the dialect: path, query and cookies. The
// body is read later (ReadBody), from the WAF's buffer.
func New(r *http.Request, d Dialect) *View {
	v := &View{Dialect: d, Path: Normalize(r.URL.EscapedPath())}
	v.Script, v.PathInfo = SplitScript(v.Path)
	if d == Union || d == CGI {
		v.readings = append(v.readings, &Reading{Dialect: CGI})
	}
	if d == Union || d == PHP {
		v.readings = append(v.readings, &Reading{Dialect: PHP})
	}
	for _, rd := range v.readings {
		if rd.Dialect == PHP {
			rd.Query = parsePHP(r.URL.RawQuery)
		} else {
			rd.Query = parseCGI(r.URL.RawQuery)
		}
	}
	v.RereadCookies(r.Header)
	return v
}

// Readings are the view's readings: one per dialect (two for Union).
func (v *View) Readings() []*Reading { return v.readings }

// Paths are the paths a path guard must judge: the normalised path and,
// when it differs, the script it runs.
func (v *View) Paths() []string {
	if v.Script != v.Path {
		return []string{v.Path, v.Script}
	}
	return []string{v.Path}
}

// ReadBody reads the form body once (from the WAF's buffered copy, or
// any reader that replays it) for every reading; later calls do nothing.
// The error says the body could not be read whole (too large, not a
// well-formed form); what was read stays in the view.
func (v *View) ReadBody(method, contentType string, body io.Reader, limit int64) error {
	if v.BodyRead {
		return v.BodyErr
	}
	v.BodyRead = true
	if body != nil {
		v.BodyErr = v.readBody(method, contentType, body, limit)
	}
	return v.BodyErr
}

// Values are the plain (non-array, non-file) parameters of every
// reading, body first, then query, as url.Values: what a guard that
// looks parameters up by name (login, logout, password forms) reads.
func (v *View) Values() url.Values {
	out := url.Values{}
	for _, rd := range v.readings {
		for _, fs := range [][]Field{rd.Body, rd.Query} {
			for _, f := range fs {
				if f.Keys == nil && !f.File {
					if rd.Dialect == PHP && len(out[f.Name]) > 0 {
						// PHP: the last occurrence wins.
						out[f.Name] = append([]string{f.Value}, out[f.Name]...)
						continue
					}
					out[f.Name] = append(out[f.Name], f.Value)
				}
			}
		}
	}
	return out
}

// Names calls f for every parameter and cookie name of every reading,
// with where ("parameter", "cookie") and its value, until f returns true.
func (v *View) Names(f func(name, value, where string) bool) bool {
	for _, rd := range v.readings {
		for _, fs := range [][]Field{rd.Query, rd.Body} {
			for _, x := range fs {
				if f(x.Name, x.Value, "parameter") {
					return true
				}
			}
		}
		for _, x := range rd.Cookies {
			if f(x.Name, x.Value, "cookie") {
				return true
			}
		}
	}
	return false
}

type ctxKey struct{}

// WithView stores v in ctx.
func WithView(ctx context.Context, v *View) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// From returns the view stored in ctx, or nil.
func From(ctx context.Context) *View {
	v, _ := ctx.Value(ctxKey{}).(*View)
	return v
}
