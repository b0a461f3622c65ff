package request

import "strings"

// Normalize turns a request path, as sent (percent-encoded), into the
// path the guards match, so that no spelling reaches a file under another
// name: percent-encoding is decoded (up to three times, for double and
// triple encoding; malformed escapes are kept as they are), backslashes
// become slashes (IIS and some CGI runtimes treat them alike), a NUL ends
// the path (C runtimes stop there), ";parameters" are cut from every
// segment ("/mt-config.cgi;.css" is "/mt-config.cgi" to Tomcat-style
// servers), empty and "." segments are dropped and ".." removes the
// segment before it. A trailing slash is kept.
//
// Hand-written rather than url.PathUnescape + path.Clean: those refuse
// malformed escapes and keep ";" and "\", and each difference is a way
// past a deny list.
func Normalize(escaped string) string {
	p := escaped
	for range 3 {
		if strings.IndexByte(p, '%') < 0 {
			break
		}
		d := unescape(p, false, false)
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
	return b.String()
}

// scriptExtensions are run as programs by some web server or CGI runtime
// (Apache's AddHandler, PHP-FPM's security.limit_extensions, ...).
var scriptExtensions = map[string]bool{
	"php": true, "php3": true, "php4": true, "php5": true, "php7": true, "php8": true,
	"phtml": true, "pht": true, "phar": true, "phps": true, "cgi": true, "pl": true,
	"py": true, "rb": true, "sh": true, "jsp": true, "jspx": true, "asp": true,
	"aspx": true, "ashx": true, "asmx": true, "shtml": true, "fcgi": true,
}

// IsScriptName reports whether a file name has an extension some server
// runs as a program ("mt.cgi", "x.php").
func IsScriptName(name string) bool {
	i := strings.LastIndexByte(name, '.')
	return i > 0 && scriptExtensions[strings.ToLower(name[i+1:])]
}

// SplitScript splits a normalised path into the script a server runs for
// it and the PATH_INFO that follows, as Apache (CGI, mod_php) and PHP-FPM
// (fastcgi_split_path_info "^(.+?\.php)(/.*)$") do: the first segment
// that names a script ends the script path; the rest, from its slash, is
// PATH_INFO. "/cgi-bin/mt/mt.cgi/" runs "/cgi-bin/mt/mt.cgi" with
// PATH_INFO "/"; "/wp-content/uploads/evil.php/x.jpg" runs
// "/wp-content/uploads/evil.php". A path without such a segment is its own
// script path with no PATH_INFO. Every dialect splits the same way: a
// site that runs Movable Type's CGI often runs PHP too.
func SplitScript(p string) (script, pathInfo string) {
	for i := 1; i < len(p); {
		end := strings.IndexByte(p[i:], '/')
		if end < 0 {
			return p, ""
		}
		end += i
		if IsScriptName(p[i:end]) {
			return p[:end], p[end:]
		}
		i = end + 1
	}
	return p, ""
}
