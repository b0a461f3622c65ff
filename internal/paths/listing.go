package paths

import (
	"net/http"
	"regexp"
	"strings"
)

// ListingPrefix is how much of an HTML body is held back to look for a
// directory index: Apache, nginx, lighttpd, IIS and Python's http.server
// all name the directory in the first few hundred bytes.
const ListingPrefix = 2048

// listingPattern matches the titles and headings of the directory indexes
// of Apache (mod_autoindex), nginx (autoindex), lighttpd (mod_dirlisting),
// Python's http.server ("Directory listing for /") and IIS's
// "[To Parent Directory]" link.
var listingPattern = regexp.MustCompile(`(?i)<(?:title|h1)>\s*(?:index of|directory listing for) /|\[to parent directory\]`)

// IsListing reports whether the start of an HTML body is a directory index.
func IsListing(prefix []byte) bool {
	return listingPattern.Match(prefix)
}

// ListingWriter holds back the status, headers and first ListingPrefix
// bytes of a 200 HTML response, and hands a directory index to Refuse
// instead of sending it (V6). Other responses pass on unchanged, and
// nothing more than the prefix is ever held.
type ListingWriter struct {
	http.ResponseWriter
	// Refuse answers instead of a directory index; it gets the wrapped
	// writer, with none of the upstream's headers.
	Refuse func(w http.ResponseWriter)
	// Observe, when set, is told of a directory index that is then sent
	// unchanged (detection-only mode); Refuse is not called.
	Observe func()

	header  http.Header
	status  int
	pending bool // holding the response until the prefix is seen
	done    bool // headers sent or refused
	refused bool
	buf     []byte
}

// Header is the upstream's header map, kept apart until the response is
// known not to be a listing.
func (w *ListingWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *ListingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Refused reports whether a directory index was refused.
func (w *ListingWriter) Refused() bool { return w.refused }

func (w *ListingWriter) WriteHeader(status int) {
	if w.done || w.pending {
		return
	}
	if status >= 100 && status <= 199 {
		copyHeader(w.ResponseWriter.Header(), w.header)
		w.ResponseWriter.WriteHeader(status)
		if status == http.StatusSwitchingProtocols {
			w.done = true
		}
		return
	}
	w.status = status
	ct := w.Header().Get("Content-Type")
	if status == http.StatusOK && (ct == "" || strings.HasPrefix(strings.ToLower(ct), "text/html")) {
		w.pending = true
		return
	}
	w.send()
}

func (w *ListingWriter) send() {
	w.pending, w.done = false, true
	copyHeader(w.ResponseWriter.Header(), w.header)
	w.ResponseWriter.WriteHeader(w.status)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (w *ListingWriter) Write(b []byte) (int, error) {
	if !w.done && !w.pending {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(b), nil
	}
	if !w.pending {
		return w.ResponseWriter.Write(b)
	}
	room := ListingPrefix - len(w.buf)
	if len(b) < room {
		w.buf = append(w.buf, b...)
		return len(b), nil
	}
	w.buf = append(w.buf, b[:room]...)
	if err := w.decide(); err != nil || w.refused {
		return len(b), err
	}
	n, err := w.ResponseWriter.Write(b[room:])
	return room + n, err
}

// decide sends or refuses what is held.
func (w *ListingWriter) decide() error {
	if !w.pending {
		return nil
	}
	if IsListing(w.buf) && w.Observe != nil {
		w.Observe()
	} else if IsListing(w.buf) {
		w.pending, w.done, w.refused = false, true, true
		w.buf = nil
		w.Refuse(w.ResponseWriter)
		return nil
	}
	w.send()
	buf := w.buf
	w.buf = nil
	if len(buf) == 0 {
		return nil
	}
	_, err := w.ResponseWriter.Write(buf)
	return err
}

// Flush passes through once the response is decided. While the prefix
// is still being held, a flush is held back too (as the WAF holds those
// of bodies it inspects): a proxy that flushes every write (Caddy's
// flush_interval -1) would otherwise decide on a few bytes. At most
// ListingPrefix bytes wait for the rest.
func (w *ListingWriter) Flush() {
	if !w.done && !w.pending {
		w.WriteHeader(http.StatusOK)
	}
	if w.pending || w.refused {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Finish decides a response shorter than the prefix; call it once the
// next handler has returned.
func (w *ListingWriter) Finish() error {
	return w.decide()
}
