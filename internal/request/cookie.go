package request

import (
	"net/http"
	"strings"
)

// Pair is one name=value pair of a request's Cookie header, split on ";"
// and kept as sent, so that a guard can rebuild the header with only its
// own cookies changed.
type Pair struct {
	Name  string
	Value string
	// NoEquals marks a pair sent without "=" (kept verbatim).
	NoEquals bool
}

// ParseCookieHeader splits Cookie header values into pairs, in order,
// keeping pairs net/http would reject (a name with odd bytes, a value with
// quotes). Hand-written because net/http's parser drops what it does not
// like, and a guard must not silently drop the site's cookies.
func ParseCookieHeader(values []string) []Pair {
	var pairs []Pair
	for _, line := range values {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, value, ok := strings.Cut(part, "=")
			pairs = append(pairs, Pair{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value), NoEquals: !ok})
		}
	}
	return pairs
}

// FormatCookieHeader joins pairs back into one Cookie header value.
func FormatCookieHeader(pairs []Pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Name)
		if !p.NoEquals {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// cgiCookies reads a Cookie header as CGI::Cookie->parse does: pairs
// split on ";" or "," (each followed by an optional space), trimmed,
// pairs without "=" ignored, names and values unescaped ("+", %XX,
// %uXXXX), a value split into several on "&" and ";", and the first of
// several cookies of one name wins. Each cookie's values come as one
// Field each, in order.
func cgiCookies(header string) []Field {
	var out []Field
	seen := map[string]bool{}
	for _, pair := range splitCGICookie(header) {
		pair = strings.TrimSpace(pair)
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		name := unescape(k, true, true)
		if seen[name] {
			continue
		}
		seen[name] = true
		if v == "" {
			out = append(out, Field{Name: name})
			continue
		}
		for _, p := range perlSplitValues(v) {
			out = append(out, Field{Name: name, Value: unescape(p, true, true)})
		}
	}
	return out
}

// perlSplitValues is Perl's split(/[&;]/, $value.'&dmy') without the
// final "dmy": empty fields inside and at the start are kept.
func perlSplitValues(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '&' || v[i] == ';' {
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// splitCGICookie is Perl's split("[;,] ?", $raw): empty fields in the
// middle are kept, trailing ones dropped.
func splitCGICookie(raw string) []string {
	var out []string
	start := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] == ';' || raw[i] == ',' {
			out = append(out, raw[start:i])
			if i+1 < len(raw) && raw[i+1] == ' ' {
				i++
			}
			start = i + 1
		}
	}
	out = append(out, raw[start:])
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// phpCookies reads a Cookie header as PHP does: pairs split on ";" (empty
// ones skipped), leading white space dropped from names, pairs with an
// empty name ignored, names NOT url-decoded (since PHP 7.4.11), values
// raw-url-decoded (%XX, "+" stays), names mangled as every PHP variable
// (see phpName), and the first cookie of a name wins.
func phpCookies(header string) []Field {
	var out []Field
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(header, ";") {
		pair = strings.TrimLeft(pair, " \t\n\r\v\f")
		if pair == "" || pair[0] == '=' {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, keys, ok := phpName(k)
		if !ok {
			continue
		}
		if len(keys) == 0 {
			if seen[name] {
				continue
			}
			seen[name] = true
		}
		out = append(out, Field{Name: name, Keys: keys, Value: unescape(v, false, false)})
	}
	return out
}

// Disguised is a cookie the CMS reads under a name other than the one sent.
type Disguised struct {
	// Sent is the pair's name as sent; Read the name the CMS reads.
	Sent, Read string
}

// DropDisguisedCookies removes from h (and the view) every Cookie pair
// that a reading of the view takes for a cookie governed reports true
// for, under a name other than the one sent: "mt%5Fuser" (CGI::Cookie
// unescapes names), "a=1, mt_user=x" (CGI::Cookie splits on ","),
// "wordpress.logged.in" (PHP turns "." into "_"). A guard matching the
// sent names would never see them; the CMS would. It returns what it
// dropped.
func (v *View) DropDisguisedCookies(h http.Header, governed func(name string) bool) []Disguised {
	kept, dropped := v.DisguisedCookies(governed)
	if len(dropped) == 0 {
		return nil
	}
	if len(kept) == 0 {
		h.Del("Cookie")
	} else {
		h.Set("Cookie", FormatCookieHeader(kept))
	}
	v.RereadCookies(h)
	return dropped
}

// DisguisedCookies is DropDisguisedCookies without changing anything: the
// cookies it would keep and the ones it would drop, for a stage that
// returns the Cookie header the upstream should get.
func (v *View) DisguisedCookies(governed func(name string) bool) (kept []Pair, dropped []Disguised) {
	kept = v.Cookie[:0:0]
	for _, p := range v.Cookie {
		raw := p.Name
		if !p.NoEquals {
			raw += "=" + p.Value
		}
		bad := ""
		for _, rd := range v.readings {
			fs := phpCookies(raw)
			if rd.Dialect == CGI {
				fs = cgiCookies(raw)
			}
			for _, f := range fs {
				if f.Name != p.Name && governed(f.Name) {
					bad = f.Name
				}
			}
		}
		if bad != "" {
			dropped = append(dropped, Disguised{Sent: p.Name, Read: bad})
			continue
		}
		kept = append(kept, p)
	}
	return kept, dropped
}

// RereadCookies reads the Cookie header again after a guard changed what
// the upstream will get (the session guard restores the upstream's values
// of sealed cookies and drops refused ones), so that later guards see the
// cookies the CMS will see.
func (v *View) RereadCookies(h http.Header) {
	v.Cookie = ParseCookieHeader(h.Values("Cookie"))
	cookie := strings.Join(h.Values("Cookie"), "; ")
	for _, rd := range v.readings {
		if rd.Dialect == PHP {
			rd.Cookies = phpCookies(cookie)
		} else {
			rd.Cookies = cgiCookies(cookie)
		}
	}
}

// HTTPCookies are the dialect readings' plain cookies as net/http
// cookies (first of a name wins), for guards that take those.
func (v *View) HTTPCookies() []*http.Cookie {
	var out []*http.Cookie
	seen := map[string]bool{}
	for _, rd := range v.readings {
		for _, f := range rd.Cookies {
			if f.Keys == nil && !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, &http.Cookie{Name: f.Name, Value: f.Value})
			}
		}
	}
	return out
}
