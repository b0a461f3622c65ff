package caddymodule

// The request view's glue (issue 10): the body read once, as the CMS
// reads it, from the WAF's buffer; a multipart body the WAF reads
// differently from the CMS refused; debug switches in body fields refused.

import (
	"bytes"
	"io"
	"net/http"

	"github.com/mamori-waf/mamori/internal/pipeline"
	"github.com/mamori-waf/mamori/internal/waf"
)

// readBody reads the request's form body into the view once: from the
// WAF's buffer when it holds the whole body, otherwise (the WAF did not
// keep it all) by reading and replaying the body itself, up to the WAF's
// body limit. Only bodies a reading parses as a form are read.
func (h *Handler) readBody(r *http.Request, o *outcome, tx *waf.Transaction) error {
	v := o.view
	if v.BodyRead {
		return v.BodyErr
	}
	ct := r.Header.Get("Content-Type")
	limit := h.engine.Config().RequestBodyLimit
	if buffered, ok := tx.BufferedRequestBody(); ok {
		return v.ReadBody(r.Method, ct, buffered, limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return v.ReadBody(r.Method, ct, nil, limit)
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = replayBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	if err != nil {
		v.BodyRead, v.BodyErr = true, err
		return err
	}
	return v.ReadBody(r.Method, ct, bytes.NewReader(buf), limit)
}

// checkBody reads the body into the view when the WAF buffered it and
// runs the body stages on it: a body the CMS would read differently from
// the WAF (400 "ambiguous-multipart": a part the CMS takes for a field is
// a file to the WAF, which did not inspect it as an argument), a debug
// switch in a field. It reports whether it answered.
func (h *Handler) checkBody(w http.ResponseWriter, r *http.Request, o *outcome, req *pipeline.Request, tx *waf.Transaction) bool {
	if _, ok := tx.BufferedRequestBody(); !ok {
		return false // nothing buffered: the guards that need the body read it
	}
	_ = h.readBody(r, o, tx)
	return pipeline.Run(r.Context(), req, o.apply(w), h.bodyStages...)
}
