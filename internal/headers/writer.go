package headers

import (
	"net/http"

	"github.com/mamori-waf/mamori/internal/request"
)

// ResponseWriter applies a compiled policy to every final response written
// through it, and hands a response whose headers are unsafe to Refuse
// instead of sending it.
type ResponseWriter struct {
	http.ResponseWriter
	// Policy is applied to the final response's headers.
	Policy *Compiled
	// HTTPS says whether the client connection is TLS (for HSTS).
	HTTPS bool
	// Request is the request being answered, for the open-redirect
	// check; nil skips it.
	Request *http.Request
	// View is the request as the CMS reads it, for the open-redirect
	// check; nil reads Request as every dialect would.
	View *request.View
	// Refuse answers instead of a response whose headers failed
	// CheckResponse; it gets the underlying writer, headers untouched.
	Refuse func(w http.ResponseWriter, err error)

	wroteHeader bool
	refused     bool
}

// Unwrap lets http.ResponseController reach the real writer (Hijack).
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Refused reports whether the response was refused for unsafe headers.
func (w *ResponseWriter) Refused() bool { return w.refused }

func (w *ResponseWriter) WriteHeader(status int) {
	if w.wroteHeader || w.refused {
		return
	}
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	err := CheckResponse(w.Header())
	if err == nil {
		err = w.Policy.CheckRedirect(status, w.Header(), w.Request, w.View)
	}
	if err != nil {
		w.refused = true
		w.Refuse(w.ResponseWriter, err)
		return
	}
	w.wroteHeader = true
	w.Policy.Apply(w.Header(), w.HTTPS)
	w.ResponseWriter.WriteHeader(status)
}

// Failed applies the policy to the headers of the answer to a handler
// error (err not nil) when nothing was written yet: Caddy writes that
// status (a 502 from a dead upstream, a 400 for an unreadable body)
// after the handler returns, past this writer, with the same header map.
func (w *ResponseWriter) Failed(err error) {
	if err == nil || w.wroteHeader || w.refused {
		return
	}
	w.Policy.Apply(w.Header(), w.HTTPS)
}

func (w *ResponseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends the headers (with the policy applied) before flushing.
func (w *ResponseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.refused {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}
