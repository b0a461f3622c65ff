package paths

import "strings"

// Normalize turns a request path, as sent (percent-encoded), into the
// path the guards match, so that no spelling reaches a file under another
// name: percent-encoding is decoded (up to three times, for double and
// triple encoding; malformed escapes are kept as they are), backslashes
// become slashes (IIS and some CGI runtimes treat them alike), a NUL ends
// the path (C runtimes stop there), ";parameters" are cut from every
// segment ("/mt-config.cgi;.css" is "/mt-config.cgi" to Tomcat-style
// servers), empty and "." segments are dropped and ".." removes the
// segment before it. A trailing slash is kept. With fold, the result is
// lower-cased, for upstreams whose file systems ignore case.
//
// Hand-written rather than url.PathUnescape + path.Clean: those refuse
// malformed escapes and keep ";" and "\", and each difference is a way
// past a deny list.
func Normalize(escaped string, fold bool) string {
	p := escaped
	for range 3 {
		if strings.IndexByte(p, '%') < 0 {
			break
		}
		d := unescape(p)
		if d == p {
			break
		}
		p = d
	}
	if i := strings.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	p = strings.ReplaceAll(p, `\`, "/")
	trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") || p == "." || p == ".."
	segs := make([]string, 0, 8)
	for s := range strings.SplitSeq(p, "/") {
		if i := strings.IndexByte(s, ';'); i >= 0 {
			s = s[:i]
		}
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	var b strings.Builder
	b.Grow(len(p) + 1)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if b.Len() == 0 || trailing {
		b.WriteByte('/')
	}
	out := b.String()
	if fold {
		out = strings.ToLower(out)
	}
	return out
}

// unescape decodes every valid %XX escape and keeps the rest as sent.
func unescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			if b == nil {
				b = make([]byte, 0, len(s))
				b = append(b, s[:i]...)
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
