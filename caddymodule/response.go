package caddymodule

// mamori's one response writer (issue 10), built on Caddy's
// ResponseWriterWrapper as Caddy's encode and reverse_proxy handlers
// build theirs. It has two faces over one state:
//
//   - response itself is the writer mamori's own answers go to (block
//     pages, notices, redirects, the CSP endpoint's 204): the header
//     policy (headers.Compiled.Respond) runs just before their status
//     goes out.
//   - response.upstream() is the writer the next handler (reverse_proxy)
//     writes to. Its headers stay in a map of their own until they are
//     sent; the response checks (pipeline.ResponseCheck: the directory
//     listing check, the WAF's response phases) see the final status and
//     headers, and the body for as long as one of them keeps it; nothing
//     goes out before every check has released the response, and nothing
//     of a response a check refuses. When the response goes out, the
//     header hooks run in order (the session guard seals Set-Cookie),
//     then the header policy, which may refuse it (502: unsafe headers,
//     an open redirect).
//
// The writer records what the client got (status and body bytes, for
// the access log) and keeps the first bytes of the upstream's body a
// login's outcome needs. The decisions are the packages': this file only
// holds, sends and records.

import (
	"bytes"
	"io"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// response is mamori's response writer; see the file comment.
type response struct {
	*caddyhttp.ResponseWriterWrapper

	// policy completes (or refuses) the headers of every final response;
	// nil sends them as they are.
	policy func(status int, h http.Header) error
	// refuse answers instead of an upstream response whose headers the
	// policy refused; it writes to the response, with the upstream's
	// headers already removed, and bypasses the policy.
	refuse func(w http.ResponseWriter, err error)

	// What the client got (the access log).
	status int   // final status sent, 0 before
	bytes  int64 // body bytes sent
	bypass bool  // writing the refusal page: no policy

	up *upstreamState // nil until upstream() is called
}

// upstreamState is the upstream face's state.
type upstreamState struct {
	header  http.Header // the upstream's headers until they are sent
	checks  []pipeline.ResponseCheck
	active  []bool                            // checks that still keep the response
	hooks   []func(status int, h http.Header) // run when the headers go out
	capture []byte                            // the first body bytes sent, up to capMax
	capMax  int

	status      int  // the final status the upstream wrote
	wroteHeader bool // the upstream wrote its final status
	sniff       bool // status written without a Content-Type: the first bytes decide
	holding     bool // a check keeps the response
	held        *bytes.Buffer
	sent        bool                   // status and headers went to the client
	refusedBy   pipeline.ResponseCheck // the check that refused it
	headerErr   error                  // the policy refused its headers
}

func newResponse(w http.ResponseWriter) *response {
	return &response{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
}

// WriteHeader sends one of mamori's own answers' status, the policy
// applied to its headers.
func (rw *response) WriteHeader(status int) {
	if rw.status != 0 {
		return
	}
	final := status < 100 || status > 199 || status == http.StatusSwitchingProtocols
	if rw.policy != nil && !rw.bypass {
		if err := rw.policy(status, rw.Header()); err != nil {
			rw.refuseHeaders(err)
			return
		}
	}
	if final {
		rw.status = status
	}
	rw.ResponseWriterWrapper.WriteHeader(status)
}

// Write sends a body of mamori's own answer.
func (rw *response) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.up != nil && rw.up.headerErr != nil && !rw.bypass {
		return len(p), nil // the refusal page is written; nothing else goes
	}
	n, err := rw.ResponseWriterWrapper.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// ReadFrom copies through Write, so that nothing bypasses the policy.
func (rw *response) ReadFrom(r io.Reader) (int64, error) {
	return copyThrough(writerOnly{rw}, r)
}

// refuseHeaders answers instead of a response whose headers the policy
// refused: every header goes but the request ID, then the refusal page.
func (rw *response) refuseHeaders(err error) {
	if rw.up == nil {
		rw.up = &upstreamState{}
	}
	rw.up.headerErr = err
	h := rw.Header()
	for name := range h {
		if name != RequestIDHeader {
			delete(h, name)
		}
	}
	rw.bypass = true
	rw.refuse(rw, err)
	rw.bypass = false
}

// failed applies the policy to the headers of the answer to a handler
// error when nothing was sent: Caddy writes that status (a 502 from a
// dead upstream) after the handler returns, with the same header map.
func (rw *response) failed(err error, apply func(http.Header)) {
	if err == nil || rw.status != 0 || (rw.up != nil && rw.up.headerErr != nil) {
		return
	}
	apply(rw.Header())
}

// upstream returns the face the next handler writes to: checks judge the
// response in order before it goes out, hooks see its headers just
// before they are sent, and the first capture bytes of its body are kept
// (captured).
func (rw *response) upstream(checks []pipeline.ResponseCheck, hooks []func(int, http.Header), capture int) http.ResponseWriter {
	rw.up = &upstreamState{header: make(http.Header), checks: checks, active: make([]bool, len(checks)),
		hooks: hooks, capMax: capture}
	for i := range rw.up.active {
		rw.up.active[i] = true
	}
	return upstreamWriter{rw}
}

// upstreamStatus is the final status the upstream's response went out
// with (0: none went out).
func (rw *response) upstreamStatus() int {
	if rw.up == nil || !rw.up.sent {
		return 0
	}
	return rw.up.status
}

// captured is the start of the upstream's body the client got.
func (rw *response) captured() []byte {
	if rw.up == nil {
		return nil
	}
	return rw.up.capture
}

// end is called once the next handler has returned: the checks that
// still keep the response decide on the whole body, and a released
// response goes out. It returns the check that refused the response,
// if one did; the handler then answers instead.
func (rw *response) end() pipeline.ResponseCheck {
	u := rw.up
	if u == nil || u.refusedBy != nil || u.headerErr != nil {
		return u.refusedByOrNil()
	}
	if !u.wroteHeader {
		return nil // nothing written: Caddy answers the error, if any
	}
	if u.sniff {
		rw.head()
	}
	for i, c := range u.checks {
		if u.refusedBy != nil {
			break
		}
		if u.active[i] && u.holding {
			u.active[i] = false
			if c.End() == pipeline.Refuse {
				rw.refuseUpstream(c)
			}
		}
	}
	if u.refusedBy == nil && u.holding {
		_ = rw.release() // the handler is done: a client gone is the access line's
	}
	return u.refusedByOrNil()
}

func (u *upstreamState) refusedByOrNil() pipeline.ResponseCheck {
	if u == nil {
		return nil
	}
	return u.refusedBy
}

// abandon drops what is held of an upstream response the next handler
// gave up on with an error: nothing of it was sent, and Caddy answers
// the error.
func (rw *response) abandon() {
	if rw.up != nil && rw.up.held != nil {
		rw.up.holding = false
		rw.dropHeld()
	}
}

// head asks the checks about the final status and headers, and sends
// them when no check keeps the response.
func (rw *response) head() {
	u := rw.up
	u.sniff, u.holding = false, false
	for i, c := range u.checks {
		switch c.Head(u.status, u.header) {
		case pipeline.Refuse:
			rw.refuseUpstream(c)
			return
		case pipeline.Keep:
			u.holding = true
		default:
			u.active[i] = false
		}
	}
	if u.holding {
		if u.held == nil {
			u.held = heldBuffers.Get().(*bytes.Buffer)
		}
		return
	}
	rw.send()
}

// refuseUpstream drops a response a check refused.
func (rw *response) refuseUpstream(c pipeline.ResponseCheck) {
	u := rw.up
	u.refusedBy, u.holding = c, false
	rw.dropHeld()
}

func (rw *response) dropHeld() {
	if u := rw.up; u.held != nil {
		u.held.Reset()
		heldBuffers.Put(u.held)
		u.held = nil
	}
}

// send sends the upstream's status and headers: the hooks, then the
// policy, which may refuse them.
func (rw *response) send() {
	u := rw.up
	u.sent = true
	h := rw.Header()
	for name, values := range u.header {
		h[name] = values
	}
	for _, hook := range u.hooks {
		hook(u.status, h)
	}
	rw.WriteHeader(u.status) // the policy: refuseHeaders answers instead
}

// release sends the held response and what the checks kept of its body;
// the error is the client's.
func (rw *response) release() error {
	u := rw.up
	u.holding = false
	if !u.sent {
		rw.send()
	}
	var err error
	if u.held != nil {
		if u.held.Len() > 0 && u.headerErr == nil {
			_, err = rw.writeBody(u.held.Bytes())
		}
		rw.dropHeld()
	}
	return err
}

// writeBody sends upstream body bytes, keeping the first ones.
func (rw *response) writeBody(p []byte) (int, error) {
	u := rw.up
	if len(u.capture) < u.capMax {
		u.capture = append(u.capture, p[:min(len(p), u.capMax-len(u.capture))]...)
	}
	return rw.Write(p)
}

// heldBuffers lend the buffers of held responses.
var heldBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// upstreamWriter is the face of response the next handler writes to.
type upstreamWriter struct{ rw *response }

// Header is the upstream's header map until it is sent, then the
// client's (trailers set after the body reach it).
func (w upstreamWriter) Header() http.Header {
	if u := w.rw.up; !u.sent {
		return u.header
	}
	return w.rw.Header()
}

func (w upstreamWriter) WriteHeader(status int) {
	rw, u := w.rw, w.rw.up
	if u.wroteHeader || u.refusedBy != nil || u.headerErr != nil {
		return
	}
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		// Informational: not final, passed on as it is.
		h := rw.Header()
		for name, values := range u.header {
			h[name] = values
		}
		rw.ResponseWriterWrapper.WriteHeader(status)
		return
	}
	u.wroteHeader, u.status = true, status
	if status == http.StatusSwitchingProtocols {
		rw.send() // the connection is handed over: nothing to inspect
		return
	}
	if u.header.Get("Content-Type") == "" && status != http.StatusNoContent && status != http.StatusNotModified {
		// net/http will sniff the type from the first bytes; the checks
		// must know it too, or an untyped HTML page (an error page
		// leaking data, a listing) would escape them.
		u.sniff = true
		return
	}
	rw.head()
}

func (w upstreamWriter) Write(p []byte) (int, error) {
	rw, u := w.rw, w.rw.up
	if !u.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if u.sniff && len(p) > 0 {
		u.header.Set("Content-Type", http.DetectContentType(p))
		rw.head()
	}
	switch {
	case u.refusedBy != nil || u.headerErr != nil:
		return len(p), nil // swallowed: the client gets mamori's answer
	case u.sniff:
		return len(p), nil // an empty write
	case !u.holding:
		return rw.writeBody(p)
	}
	u.held.Write(p)
	keep := false
	for i, c := range u.checks {
		if !u.active[i] {
			continue
		}
		switch c.Body(p) {
		case pipeline.Refuse:
			rw.refuseUpstream(c)
			return len(p), nil
		case pipeline.Keep:
			keep = true
		default:
			u.active[i] = false
		}
	}
	if !keep {
		if err := rw.release(); err != nil {
			return 0, err // the client is gone: the proxy stops
		}
	}
	return len(p), nil
}

// ReadFrom streams straight through once the response is released
// (Caddy's file server and proxy use it), else copies through Write.
func (w upstreamWriter) ReadFrom(r io.Reader) (int64, error) {
	u := w.rw.up
	if u.sent && !u.holding && u.refusedBy == nil && u.headerErr == nil && len(u.capture) >= u.capMax {
		n, err := w.rw.ResponseWriterWrapper.ReadFrom(r)
		w.rw.bytes += n
		return n, err
	}
	return copyThrough(writerOnly{w}, r)
}

// FlushError flushes once the response is released. While a check keeps
// it, or its type is still unknown, a flush is held back: a proxy that
// flushes every write (flush_interval -1) would otherwise send the
// response before the checks decide.
func (w upstreamWriter) FlushError() error {
	u := w.rw.up
	if !u.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if u.sniff || u.holding || u.refusedBy != nil || u.headerErr != nil {
		return nil
	}
	return http.NewResponseController(w.rw.ResponseWriterWrapper).Flush()
}

// Flush is FlushError for callers that test for http.Flusher.
func (w upstreamWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the client's writer
// (Hijack for WebSocket, deadlines).
func (w upstreamWriter) Unwrap() http.ResponseWriter {
	return w.rw.ResponseWriterWrapper.ResponseWriter
}

// writerOnly hides ReadFrom, so that io.Copy goes through Write.
type writerOnly struct{ io.Writer }

func copyThrough(w io.Writer, r io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(w, r, *buf)
}

// copyBuffers lend io.Copy's 32 KiB buffer.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.ResponseWriter = upstreamWriter{}
	_ io.ReaderFrom       = upstreamWriter{}
)
