package session

import (
	"bytes"
	"net/http"
)

// HeaderHook is a response writer that calls Before once, with the final
// status and headers, just before they are sent: the place to seal
// Set-Cookie and add Cache-Control. It can also keep the first bytes of
// the body (a JSON login's answer).
type HeaderHook struct {
	http.ResponseWriter
	// Before runs once before the final status is written.
	Before func(status int, h http.Header)
	// Capture, when not nil, receives up to CaptureLimit body bytes.
	Capture      *bytes.Buffer
	CaptureLimit int

	// Status is the final status written (0 until then).
	Status int
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *HeaderHook) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteHeader runs Before for the final status.
func (w *HeaderHook) WriteHeader(status int) {
	if w.Status != 0 {
		return // superfluous: the status is already on its way
	}
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.Status = status
	if w.Before != nil {
		w.Before(status, w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *HeaderHook) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.Capture != nil && w.Capture.Len() < w.CaptureLimit {
		n := min(len(b), w.CaptureLimit-w.Capture.Len())
		w.Capture.Write(b[:n])
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends the headers (hooked) before flushing.
func (w *HeaderHook) Flush() {
	if w.Status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
