package waf

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// The tests and benchmarks here serve an upstream behind the WAF without
// Caddy: harnessWriter drives a ResponseCheck as mamori's response writer
// (caddymodule/response.go) does — headers kept apart until the check
// releases them, the Content-Type sniffed when missing, the kept body
// held, flushes held back while it is — with no other check or hook.
type harnessWriter struct {
	w       http.ResponseWriter
	check   *ResponseCheck
	header  http.Header
	status  int
	wrote   bool
	sniff   bool
	holding bool
	sent    bool
	refused bool
	held    bytes.Buffer
}

var harnessWriters sync.Map // *Transaction → *harnessWriter

// ResponseWriter is the writer the test's upstream writes to.
func (t *Transaction) ResponseWriter(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	hw := &harnessWriter{w: w, check: t.ResponseCheck(r), header: make(http.Header)}
	harnessWriters.Store(t, hw)
	return hw
}

// FinishResponse ends the response: the interruption that refused it,
// in which case nothing of it was sent.
func (t *Transaction) FinishResponse() (*Interruption, error) {
	v, _ := harnessWriters.Load(t)
	hw := v.(*harnessWriter)
	if hw.wrote && !hw.refused {
		if hw.sniff {
			hw.head()
		}
		if hw.holding {
			if hw.check.End() == pipeline.Refuse {
				hw.refused = true
			} else {
				hw.release()
			}
		}
	}
	if hw.refused && hw.sent {
		return hw.check.Interruption() // kept for ResponseStarted
	}
	harnessWriters.Delete(t)
	if hw.refused {
		return hw.check.Interruption()
	}
	return nil, nil
}

// ResponseStarted reports whether any of the response reached the client.
func (t *Transaction) ResponseStarted() bool {
	v, ok := harnessWriters.LoadAndDelete(t)
	return ok && v.(*harnessWriter).sent
}

func (hw *harnessWriter) Header() http.Header {
	if hw.sent {
		return hw.w.Header()
	}
	return hw.header
}

func (hw *harnessWriter) WriteHeader(status int) {
	if hw.wrote || hw.refused {
		return
	}
	if status >= 100 && status <= 199 {
		for k, v := range hw.header {
			hw.w.Header()[k] = v
		}
		hw.w.WriteHeader(status)
		if status == http.StatusSwitchingProtocols {
			hw.wrote, hw.sent, hw.status = true, true, status
		}
		return
	}
	hw.wrote, hw.status = true, status
	if hw.header.Get("Content-Type") == "" && status != http.StatusNoContent && status != http.StatusNotModified {
		hw.sniff = true
		return
	}
	hw.head()
}

func (hw *harnessWriter) head() {
	hw.sniff = false
	switch hw.check.Head(hw.status, hw.header) {
	case pipeline.Refuse:
		hw.refused = true
	case pipeline.Keep:
		hw.holding = true
	default:
		hw.send()
	}
}

func (hw *harnessWriter) send() {
	hw.sent = true
	for k, v := range hw.header {
		hw.w.Header()[k] = v
	}
	hw.w.WriteHeader(hw.status)
}

func (hw *harnessWriter) release() {
	hw.holding = false
	hw.send()
	_, _ = hw.w.Write(hw.held.Bytes())
	hw.held.Reset()
}

func (hw *harnessWriter) Write(p []byte) (int, error) {
	if !hw.wrote {
		hw.WriteHeader(http.StatusOK)
	}
	if hw.sniff && len(p) > 0 {
		hw.header.Set("Content-Type", http.DetectContentType(p))
		hw.head()
	}
	switch {
	case hw.refused || hw.sniff:
		return len(p), nil
	case !hw.holding:
		return hw.w.Write(p)
	}
	hw.held.Write(p)
	switch hw.check.Body(p) {
	case pipeline.Refuse:
		hw.refused, hw.holding = true, false
		hw.held.Reset()
	case pipeline.Release:
		hw.release()
	}
	return len(p), nil
}

func (hw *harnessWriter) Flush() {
	if !hw.wrote {
		hw.WriteHeader(http.StatusOK)
	}
	if !hw.sniff && !hw.holding && !hw.refused {
		_ = http.NewResponseController(hw.w).Flush()
	}
}

func (hw *harnessWriter) Unwrap() http.ResponseWriter { return hw.w }
