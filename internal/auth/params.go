package auth

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/mamori-waf/mamori/internal/form"
	"github.com/mamori-waf/mamori/internal/profile"
)

// Limits of the parameter scan.
const (
	// maxKey is the longest (encoded) parameter name looked at; the names
	// that matter are short.
	maxKey = 256
	// MaxValue is how much of a wanted parameter's value is kept.
	MaxValue = 4096
	// spoolInMemory is how much of a scanned body stays in memory; the
	// rest goes to a temporary file until the request ends.
	spoolInMemory = 128 << 10
)

// Fields is the set of parameter names the profile's login and logout
// requests are recognised by (the only ones Params keeps).
func Fields(p *profile.Profile) map[string]bool {
	want := map[string]bool{}
	for _, l := range p.Logins {
		for k := range l.Params {
			want[k] = true
		}
		want[l.UserField] = true
	}
	for _, q := range p.Logouts {
		for k := range q.Params {
			want[k] = true
		}
	}
	delete(want, "")
	return want
}

// ErrBodyTooLarge is returned when the body is larger than the limit;
// the WAF refuses such a request (413) before it reaches the CMS.
var ErrBodyTooLarge = errors.New("request body larger than the limit")

// Params returns the wanted parameters of the query and of the body, read
// the way the CMS reads them: Movable Type (Perl CGI) and PHP split pairs on
// "&" and ";", decode percent-escapes in names too, and accept multipart
// forms; a body of any other type is scanned as urlencoded, so that no
// encoding trick hides a login from the audit and the throttle. The whole
// body (up to limit) is read, so padding cannot push a field out of sight;
// it is kept in memory up to 128 KiB, then in a temporary file, and given
// back to the handlers that follow. Hand-written because net/url and
// net/http parse strictly (they drop ";" pairs) and hold everything in memory.
func Params(r *http.Request, want map[string]bool, limit int64) (url.Values, error) {
	params := url.Values{}
	if r.Body == nil || r.Body == http.NoBody {
		_ = scanURLEncoded(strings.NewReader(r.URL.RawQuery), want, params)
		return params, nil
	}
	sp := &spool{}
	src := io.TeeReader(io.LimitReader(r.Body, limit+1), sp)
	err := scanBody(src, r.Header.Get("Content-Type"), want, params)
	// Keep the rest of the body too, whatever the scan stopped at.
	_, cerr := io.Copy(io.Discard, src)
	err = errors.Join(err, cerr)
	if sp.n > limit {
		err = errors.Join(err, ErrBodyTooLarge)
	}
	body, serr := sp.reader()
	if serr != nil {
		return params, serr
	}
	r.Body = &spooledBody{Reader: io.MultiReader(body, r.Body), orig: r.Body, sp: sp}
	// Query after the body, as Movable Type merges them.
	_ = scanURLEncoded(strings.NewReader(r.URL.RawQuery), want, params)
	return params, err
}

// ParamsFromBody is Params for a body someone else has already read and
// kept (the WAF's buffered copy): the request's own body is not touched,
// so no byte of it is read twice.
func ParamsFromBody(body io.Reader, contentType, rawQuery string, want map[string]bool) (url.Values, error) {
	params := url.Values{}
	err := scanBody(body, contentType, want, params)
	_ = scanURLEncoded(strings.NewReader(rawQuery), want, params)
	return params, err
}

// scanBody reads a form body of the content type: multipart, or anything
// else as urlencoded.
func scanBody(body io.Reader, contentType string, want map[string]bool, out url.Values) error {
	ct, ctParams, _ := mime.ParseMediaType(contentType)
	if ct == "multipart/form-data" && ctParams["boundary"] != "" {
		return scanMultipart(body, ctParams["boundary"], want, out)
	}
	return scanURLEncoded(body, want, out)
}

// scanURLEncoded keeps the (decoded) values of wanted names, read as the
// CMS reads them (see package form).
func scanURLEncoded(rd io.Reader, want map[string]bool, out url.Values) error {
	return form.ScanURLEncoded(rd, func(k string) bool { return want[k] }, maxKey, MaxValue, out)
}

// scanMultipart keeps the wanted form fields of a multipart body.
func scanMultipart(rd io.Reader, boundary string, want map[string]bool, out url.Values) error {
	mr := multipart.NewReader(rd, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if name := part.FormName(); part.FileName() == "" && want[name] {
			b, err := io.ReadAll(io.LimitReader(part, MaxValue))
			if err != nil {
				return err
			}
			out.Add(name, string(b))
		}
		_ = part.Close()
	}
}

// spool keeps what was read of a body: in memory, then in a temporary file.
type spool struct {
	mem  bytes.Buffer
	file *os.File
	n    int64
	err  error
}

func (s *spool) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.file == nil && s.mem.Len()+len(p) <= spoolInMemory {
		return s.mem.Write(p)
	}
	if s.file == nil && s.err == nil {
		s.file, s.err = os.CreateTemp("", "mamori-body-*")
	}
	if s.err != nil {
		return 0, s.err
	}
	if _, err := s.file.Write(p); err != nil {
		s.err = err
		return 0, err
	}
	return len(p), nil
}

func (s *spool) reader() (io.Reader, error) {
	if s.err != nil {
		s.close()
		return nil, s.err
	}
	if s.file == nil {
		return &s.mem, nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		s.close()
		return nil, err
	}
	return io.MultiReader(&s.mem, s.file), nil
}

func (s *spool) close() {
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name())
		s.file = nil
	}
}

// spooledBody replays the spooled bytes, then the rest of the original
// body; Close removes the temporary file.
type spooledBody struct {
	io.Reader
	orig io.Closer
	sp   *spool
}

func (b *spooledBody) Close() error {
	b.sp.close()
	return b.orig.Close()
}
