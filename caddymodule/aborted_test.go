package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Issue 15: a client that reads the whole answer and closes the
// connection while the handler is still finishing cancels the request's
// context; the access line must not call that request aborted. A
// response cut short (a panic while unwinding, no answer, the proxy's
// 499, an error) still is.
func TestAbortedOnlyWhenCutShort(t *testing.T) {
	tests := []struct {
		name      string
		cancelled bool
		panicking bool
		status    int
		err       error
		want      bool
	}{
		{"whole_answer_then_client_closed", true, false, http.StatusOK, nil, false},
		{"whole_answer_client_still_there", false, false, http.StatusOK, nil, false},
		{"proxy_aborted_mid_stream", true, true, http.StatusOK, nil, true},
		{"panic_without_cancel", false, true, http.StatusOK, nil, true},
		{"client_left_before_the_answer", true, false, 0, nil, true},
		{"proxy_recorded_499", true, false, 499, nil, true},
		{"client_left_and_an_error", true, false, http.StatusBadGateway, errors.New("context canceled"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", LineEnding: "\n"})
			h := &Handler{access: zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zapcore.InfoLevel))}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
			o := &outcome{h: h, r: r, id: "abcdefghijklmnopqrstuvwx", clientIP: "192.0.2.1"}
			rec := newResponse(httptest.NewRecorder())
			rec.status, rec.bytes = tc.status, 100
			if tc.panicking {
				func() {
					defer func() { _ = recover() }() // what Caddy's server does
					err := tc.err
					defer h.logAccess(o, rec, time.Now(), &err)
					panic(http.ErrAbortHandler)
				}()
			} else {
				err := tc.err
				h.logAccess(o, rec, time.Now(), &err)
			}
			var line struct {
				Aborted bool   `json:"mamori.aborted"`
				Outcome string `json:"event.outcome"`
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if line.Aborted != tc.want || (line.Outcome == "failure") != (tc.want || tc.status >= 400) {
				t.Errorf("aborted %v outcome %s, want aborted %v", line.Aborted, line.Outcome, tc.want)
			}
		})
	}
}
