package request

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"strings"
)

// MaxValue is how much of a body field's value the view keeps: enough for
// every value a guard reads (user names, passwords, flags), and a cut
// value is still judged on its start.
const MaxValue = 64 << 10

// Errors of the body readings. A guard that must read the body (the
// password policy) refuses a request whose body the view could not read.
var (
	// ErrBodyTooLarge: the body is over the limit it was read with.
	ErrBodyTooLarge = errors.New("request body larger than the limit")
	// ErrMalformed: the body is not a well-formed form of its type.
	ErrMalformed = errors.New("malformed form body")
)

// Part is one part of a multipart body, as each reading classifies it.
type Part struct {
	// Disposition is the part's Content-Disposition header as sent.
	Disposition string
	// Go is the reading of Go's mime/multipart, which the WAF (Coraza)
	// uses: a part with a non-empty filename parameter is a file, which
	// the WAF does not inspect as an argument.
	Go PartReading
	// CGI is CGI.pm's reading (set in the CGI and Union dialects).
	CGI *PartReading
	// PHP is PHP's reading (set in the PHP and Union dialects).
	PHP *PartReading
}

// PartReading is how one parser reads a multipart part.
type PartReading struct {
	// Name is the part's field name.
	Name string
	// File: the parser reads the part as an uploaded file.
	File bool
	// FileName is the file name it reads.
	FileName string
}

var (
	// CGI.pm read_multipart: the name through _mp_value_parse, a file
	// only where " filename=" follows white space.
	cgiQuotedName = regexp.MustCompile(`[\s;]name="((?:\\"|[^"])*)"`)
	cgiIsQuoted   = regexp.MustCompile(`[\s;]name="`)
	cgiPlainName  = regexp.MustCompile(`[\s;]name=([^\(\)<>@,;:\\"/\[\]\?=\{\} \r\n\t]*)`)
	cgiFileName   = regexp.MustCompile(`(?i) filename=(("[^"]*")|([a-z\d!#'\*\+,\.^_` + "`" + `\{\}\|\~]*))`)
	cgiBoundary   = regexp.MustCompile(`boundary="?([^";,]+)"?`)
)

func cgiPart(cd, contentType string) *PartReading {
	var name string
	if cgiIsQuoted.MatchString(cd) {
		if m := cgiQuotedName.FindStringSubmatch(cd); m != nil {
			name = m[1]
		}
	} else if m := cgiPlainName.FindStringSubmatch(cd); m != nil {
		name = m[1]
	}
	var file string
	if m := cgiFileName.FindStringSubmatch(cd); m != nil {
		file = m[1]
		if len(file) >= 2 && file[0] == '"' && file[len(file)-1] == '"' && !strings.Contains(file[1:len(file)-1], `"`) {
			file = file[1 : len(file)-1]
		}
	}
	mixed := strings.Contains(contentType, "multipart/mixed")
	return &PartReading{Name: name, File: file != "" || mixed, FileName: file}
}

// phpPart reads Content-Disposition as PHP's rfc1867 parser does: pairs
// split on ";" outside quotes, keys matched without regard to case, a
// part with a filename parameter (even empty) is a file.
func phpPart(cd string) *PartReading {
	var r PartReading
	cd = strings.TrimLeft(cd, " \t\r\n\v\f")
	for cd != "" {
		pair := phpGetWord(&cd, ';')
		cd = strings.TrimLeft(cd, " \t\r\n\v\f")
		if !strings.Contains(pair, "=") {
			continue
		}
		key := phpGetWord(&pair, '=')
		switch strings.ToLower(key) {
		case "name":
			r.Name = phpGetWordConf(pair)
		case "filename":
			r.FileName = phpGetWordConf(pair)
			r.File = true
		}
	}
	return &r
}

// phpGetWord is php_ap_getword: up to stop, skipping quoted runs.
func phpGetWord(line *string, stop byte) string {
	s := *line
	i := 0
	for i < len(s) && s[i] != stop {
		if q := s[i]; q == '"' || q == '\'' {
			i++
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == q {
					i += 2
				} else {
					i++
				}
			}
			if i < len(s) {
				i++
			}
		} else {
			i++
		}
	}
	word := s[:i]
	if i < len(s) {
		i++ // the stop byte
	}
	*line = s[i:]
	return word
}

// phpGetWordConf is php_ap_getword_conf: leading white space skipped, a
// quoted string up to its closing quote (backslash-quote unescaped), or
// else up to white space.
func phpGetWordConf(s string) string {
	s = strings.TrimLeft(s, " \t\r\n\v\f")
	if s == "" {
		return ""
	}
	if q := s[0]; q == '"' || q == '\'' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			if s[i] == q {
				break
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	if i := strings.IndexAny(s, " \t\r\n\v\f"); i >= 0 {
		return s[:i]
	}
	return s
}

func goPart(p *multipart.Part) PartReading {
	r := PartReading{Name: p.FormName()}
	if _, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
		r.FileName = params["filename"]
		r.File = r.FileName != ""
	}
	return r
}

// bodyKind is how a reading treats a body of a content type.
type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyURLEncoded
	bodyMultipart
)

// cgiBodyKind: CGI.pm parses a POST (PUT, PATCH) body without
// Content-Type or starting "application/x-www-form-urlencoded" as a form,
// a POST starting "multipart/form-data" as multipart (both compared with
// case), anything else as the single parameter POSTDATA.
func cgiBodyKind(method, ct string) bodyKind {
	switch {
	case method == "POST" && strings.HasPrefix(ct, "multipart/form-data"):
		return bodyMultipart
	case method != "POST" && method != "PUT" && method != "PATCH":
		return bodyNone
	case ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		return bodyURLEncoded
	}
	return bodyNone
}

// phpBodyKind: PHP fills $_POST for a POST whose media type (lower-cased,
// up to ";", "," or a space) is urlencoded or multipart.
func phpBodyKind(method, ct string) bodyKind {
	if method != "POST" {
		return bodyNone
	}
	mt := strings.ToLower(ct)
	if i := strings.IndexAny(mt, "; ,"); i >= 0 {
		mt = mt[:i]
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return bodyURLEncoded
	case "multipart/form-data":
		return bodyMultipart
	}
	return bodyNone
}

// readBody fills the readings' Body fields and the view's Parts from a
// body of at most limit bytes.
func (v *View) readBody(method, ct string, body io.Reader, limit int64) error {
	lr := &io.LimitedReader{R: body, N: limit + 1}
	kinds := map[*Reading]bodyKind{}
	needURL, needMultipart := false, false
	for _, rd := range v.readings {
		k := cgiBodyKind(method, ct)
		if rd.Dialect == PHP {
			k = phpBodyKind(method, ct)
		}
		kinds[rd] = k
		needURL = needURL || k == bodyURLEncoded
		needMultipart = needMultipart || k == bodyMultipart
	}
	switch {
	case needMultipart:
		err := v.readMultipart(ct, lr, kinds)
		if lr.N <= 0 {
			return ErrBodyTooLarge
		}
		return err
	case needURL:
		b, err := io.ReadAll(lr)
		if lr.N <= 0 {
			return ErrBodyTooLarge
		}
		if err != nil {
			return err
		}
		for rd, k := range kinds {
			if k != bodyURLEncoded {
				continue
			}
			if rd.Dialect == PHP {
				rd.Body = cut(parsePHP(string(b)))
			} else {
				rd.Body = cut(parseCGI(string(b)))
			}
		}
	}
	return nil
}

func cut(fs []Field) []Field {
	for i := range fs {
		if len(fs[i].Value) > MaxValue {
			fs[i].Value = fs[i].Value[:MaxValue]
		}
	}
	return fs
}

// readMultipart splits the body with Go's multipart reader (the WAF's
// split) and classifies each part for each reading. A boundary that a
// reading would take differently from the WAF makes the body ambiguous.
func (v *View) readMultipart(ct string, body io.Reader, kinds map[*Reading]bodyKind) error {
	_, params, err := mime.ParseMediaType(ct)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		v.Ambiguous = "multipart body without a boundary the WAF can read"
		return ErrMalformed
	}
	for rd, k := range kinds {
		if k != bodyMultipart || rd.Dialect != CGI {
			continue
		}
		if m := cgiBoundary.FindStringSubmatch(ct); m == nil || m[1] != boundary {
			v.Ambiguous = "multipart boundary read differently by CGI.pm and the WAF"
		}
	}
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.Join(ErrMalformed, err)
		}
		cd := p.Header.Get("Content-Disposition")
		part := Part{Disposition: cd, Go: goPart(p)}
		var value []byte
		for rd, k := range kinds {
			if k != bodyMultipart {
				continue
			}
			var pr *PartReading
			if rd.Dialect == PHP {
				pr = phpPart(cd)
				part.PHP = pr
			} else {
				pr = cgiPart(cd, p.Header.Get("Content-Type"))
				part.CGI = pr
			}
			if !pr.File && part.Go.File && v.Ambiguous == "" {
				v.Ambiguous = "multipart part " + quoteShort(pr.Name) + " is a field to the CMS and a file to the WAF"
			}
			if !pr.File && value == nil {
				value, err = io.ReadAll(io.LimitReader(p, MaxValue))
				if err != nil {
					return errors.Join(ErrMalformed, err)
				}
			}
		}
		for rd, k := range kinds {
			if k != bodyMultipart {
				continue
			}
			pr := part.CGI
			if rd.Dialect == PHP {
				pr = part.PHP
				if !pr.File {
					name, keys, ok := phpName(pr.Name)
					if ok {
						rd.Body = append(rd.Body, Field{Name: name, Keys: keys, Value: string(value)})
					}
					continue
				}
				name, keys, ok := phpName(pr.Name)
				if ok {
					rd.Body = append(rd.Body, Field{Name: name, Keys: keys, File: true, FileName: pr.FileName})
				}
				continue
			}
			rd.Body = append(rd.Body, Field{Name: pr.Name, Value: string(value), File: pr.File, FileName: pr.FileName})
			if pr.File {
				rd.Body[len(rd.Body)-1].Value = ""
			}
		}
		v.Parts = append(v.Parts, part)
		_ = p.Close()
	}
}

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return `"` + s + `"`
}
