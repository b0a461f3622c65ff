package waf

import (
	"io"
	"net/http"
	"sync"

	"github.com/corazawaf/coraza/v3/types"
)

// responseWriter stands between the next handler and the client. The
// next handler writes its headers into a header map of our own, so nothing
// of a response the WAF then blocks ever reaches the client. Bodies of
// inspected types are held in Coraza's buffer until finish (or until the
// inspection limit, after which the rest streams); everything else, and
// every 1xx response (WebSocket's 101 among them), passes straight through.
type responseWriter struct {
	w      http.ResponseWriter
	tx     types.Transaction
	proto  string
	header http.Header

	status       int  // status the next handler wrote
	wroteHeader  bool // the next handler has written its status
	buffering    bool // body goes to Coraza's buffer, headers held back
	forwarded    bool // status and headers have been sent to w
	bodyDone     bool // the response body phase has run
	sniffPending bool // status written without a Content-Type: sniff on first write
	blocked      *types.Interruption
	err          error
}

func (rw *responseWriter) Header() http.Header { return rw.header }

// Unwrap lets http.ResponseController reach the real writer, for Hijack
// (WebSocket) and deadlines.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

func (rw *responseWriter) WriteHeader(status int) {
	if rw.wroteHeader {
		return
	}
	if status >= 100 && status <= 199 {
		// Informational and protocol switches are not inspected: the final
		// response (or the upgraded connection) follows.
		copyHeader(rw.w.Header(), rw.header)
		rw.w.WriteHeader(status)
		if status == http.StatusSwitchingProtocols {
			rw.wroteHeader, rw.forwarded, rw.status = true, true, status
		}
		return
	}
	rw.wroteHeader = true
	rw.status = status
	if rw.header.Get("Content-Type") == "" && bodyAllowed(status) {
		// net/http will sniff the type from the first bytes written; the
		// WAF must know it too, or an untyped HTML page (an error page
		// leaking data) would escape response inspection.
		rw.sniffPending = true
		return
	}
	rw.inspectHeaders()
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// inspectHeaders runs the response headers phase and decides whether the
// body is held for inspection or streams.
func (rw *responseWriter) inspectHeaders() {
	rw.sniffPending = false
	for name, values := range rw.header {
		for _, v := range values {
			rw.tx.AddResponseHeader(name, v)
		}
	}
	if it := rw.tx.ProcessResponseHeaders(rw.status, rw.proto); it != nil {
		rw.blocked = it
		return
	}
	if rw.tx.IsResponseBodyAccessible() && rw.tx.IsResponseBodyProcessable() {
		rw.buffering = true
		return
	}
	rw.forward()
}

// forward sends the held status and headers to the client.
func (rw *responseWriter) forward() {
	if rw.forwarded {
		return
	}
	rw.forwarded = true
	copyHeader(rw.w.Header(), rw.header)
	rw.w.WriteHeader(rw.status)
}

func copyHeader(dst, src http.Header) {
	for name, values := range src {
		dst[name] = values
	}
}

func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.sniffPending && len(b) > 0 {
		rw.header.Set("Content-Type", http.DetectContentType(b))
		rw.inspectHeaders()
	}
	switch {
	case rw.blocked != nil:
		// Swallowed: the client gets the block page instead.
		return len(b), nil
	case rw.err != nil:
		return 0, rw.err
	case !rw.buffering:
		return rw.w.Write(b)
	}
	it, n, err := rw.tx.WriteResponseBody(b)
	if err != nil {
		rw.err = err
		return 0, err
	}
	if it != nil {
		rw.blocked = it
		return len(b), nil
	}
	if n < len(b) {
		// The inspection limit is reached and Coraza has inspected what it
		// holds (ProcessPartial): send that, then stream the rest.
		rw.bodyDone = true
		if err := rw.release(); err != nil {
			return 0, err
		}
		m, err := rw.w.Write(b[n:])
		return n + m, err
	}
	return n, nil
}

// copyBuffers lend the 32 KiB buffer io.Copy would otherwise allocate for
// every inspected response (Coraza's body reader has no WriteTo).
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// release sends the held headers and buffered body and stops buffering.
func (rw *responseWriter) release() error {
	rw.buffering = false
	rw.forward()
	body, err := rw.tx.ResponseBodyReader()
	if err != nil {
		rw.err = err
		return err
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(rw.w, body, *buf); err != nil {
		rw.err = err
		return err
	}
	return nil
}

// Flush passes through for streamed responses. While a body is being
// inspected, or its type is not yet known, a flush is held back: the body
// is sent whole once inspected (Server-Sent Events are not an inspected
// type, so they stream).
func (rw *responseWriter) Flush() {
	if rw.buffering || rw.blocked != nil {
		return
	}
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.sniffPending {
		// Nothing to sniff yet: hold the headers until the first bytes,
		// which decide whether the body is inspected.
		return
	}
	if rw.blocked == nil && !rw.buffering {
		_ = http.NewResponseController(rw.w).Flush()
	}
}

func (rw *responseWriter) finish() (*Interruption, error) {
	if rw.sniffPending {
		rw.inspectHeaders()
	}
	if rw.blocked != nil {
		return convert(rw.blocked), nil
	}
	if !rw.buffering {
		return nil, rw.err
	}
	if !rw.bodyDone {
		rw.bodyDone = true
		it, err := rw.tx.ProcessResponseBody()
		if err != nil {
			return nil, err
		}
		if it != nil {
			rw.blocked = it
			return convert(it), nil
		}
	}
	return nil, rw.release()
}
