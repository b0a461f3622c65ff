package e2e

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// limitsConfig sets small limits so that each boundary is cheap to reach.
const limitsConfig = `mode block
		limits {
			uri_length 200
			header_count 20
			header_bytes 2KiB
			body 1KiB
			upload 4KiB
			args 10
			arg_name 16
			arg_value 64
			json_depth 4
			at /echo/admin/ {
				body 8KiB
			}
		}`

// TestRequestLimits (V1): for each limit, a request at the limit reaches
// the upstream whole, and one a byte (or an item) over gets the limit's
// status and an event from mamori, and never reaches the upstream.
func TestRequestLimits(t *testing.T) {
	s := startPerimeterSite(t, limitsConfig)
	host := hostPort(s)

	type sent struct {
		status int
		header http.Header
		body   string
	}
	do := func(t *testing.T, method, target, ct string, body io.Reader, chunked bool) sent {
		t.Helper()
		if chunked && body != nil {
			body = io.MultiReader(body) // unknown length: sent chunked
		}
		req, err := http.NewRequest(method, s.URL+target, body)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return sent{resp.StatusCode, resp.Header, string(b)}
	}
	pad := func(target string, n int) string { // target padded to n bytes, values under 64
		for i := 0; len(target) < n; i++ {
			v := min(50, n-len(target)-4)
			target += fmt.Sprintf("&p%d=", i%10) + strings.Repeat("a", max(v, 0))
		}
		if len(target) != n {
			t.Fatalf("padded target is %d bytes, want %d", len(target), n)
		}
		return target
	}
	// jsonOf is a JSON string of n bytes: a type CRS accepts (920420
	// refuses text/plain) that nests nothing.
	jsonOf := func(n int) io.Reader { return strings.NewReader(`"` + strings.Repeat("b", n-2) + `"`) }
	multipartOf := func(size int) (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.SetBoundary("mamoriboundary")
		fw, _ := mw.CreateFormFile("file", "photo.jpg")
		overhead := len("--mamoriboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: application/octet-stream\r\n\r\n") + len("\r\n--mamoriboundary--\r\n")
		_, _ = fw.Write(bytes.Repeat([]byte("x"), size-overhead))
		_ = mw.Close()
		if b.Len() != size {
			t.Fatalf("multipart body %d bytes, want %d", b.Len(), size)
		}
		return mw.FormDataContentType(), b.Bytes()
	}

	tests := []struct {
		name   string
		send   func(t *testing.T, marker string) sent
		status int    // 200: passes
		rule   string // the refusing limit
	}{
		{"uri_at_limit_passes", func(t *testing.T, mk string) sent { return do(t, "GET", pad("/echo?mk="+mk, 200), "", nil, false) }, 200, ""},
		{"uri_one_over_is_414", func(t *testing.T, mk string) sent { return do(t, "GET", pad("/echo?mk="+mk, 201), "", nil, false) }, 414, "uri-length"},
		{"header_count_at_limit_passes", func(t *testing.T, mk string) sent { return rawHeaders(t, s, host, mk, 18, 0) }, 200, ""},
		{"header_count_one_over_is_431", func(t *testing.T, mk string) sent { return rawHeaders(t, s, host, mk, 19, 0) }, 431, "header-count"},
		{"header_bytes_at_limit_passes", func(t *testing.T, mk string) sent { return rawHeaders(t, s, host, mk, 0, 2048-36-len(host)) }, 200, ""},
		{"header_bytes_one_over_is_431", func(t *testing.T, mk string) sent { return rawHeaders(t, s, host, mk, 0, 2048-35-len(host)) }, 431, "header-size"},
		{"body_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", jsonOf(1024), false)
		}, 200, ""},
		{"body_one_over_is_413_by_content_length", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", jsonOf(1025), false)
		}, 413, "body-size"},
		{"chunked_body_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", jsonOf(1024), true)
		}, 200, ""},
		{"chunked_body_one_over_is_413_while_streaming", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", jsonOf(1025), true)
		}, 413, "body-size"},
		{"upload_at_limit_passes", func(t *testing.T, mk string) sent {
			ct, b := multipartOf(4096)
			return do(t, "POST", "/echo?mk="+mk, ct, bytes.NewReader(b), false)
		}, 200, ""},
		{"upload_one_over_is_413", func(t *testing.T, mk string) sent {
			ct, b := multipartOf(4097)
			return do(t, "POST", "/echo?mk="+mk, ct, bytes.NewReader(b), false)
		}, 413, "body-size"},
		{"override_body_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo/admin/save?mk="+mk, "application/json", jsonOf(8192), false)
		}, 200, ""},
		{"override_body_one_over_is_413", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo/admin/save?mk="+mk, "application/json", jsonOf(8193), false)
		}, 413, "body-size"},
		{"args_at_limit_pass", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", "", nil, false)
		}, 200, ""},
		{"args_one_over_is_400", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10", "", nil, false)
		}, 400, "arg-count"},
		{"arg_name_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&"+strings.Repeat("n", 16)+"=1", "", nil, false)
		}, 200, ""},
		{"arg_name_one_over_is_400", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&"+strings.Repeat("n", 17)+"=1", "", nil, false)
		}, 400, "arg-name-length"},
		{"arg_value_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&v="+strings.Repeat("v", 64), "", nil, false)
		}, 200, ""},
		{"arg_value_one_over_is_400", func(t *testing.T, mk string) sent {
			return do(t, "GET", "/echo?mk="+mk+"&v="+strings.Repeat("v", 65), "", nil, false)
		}, 400, "arg-value-length"},
		{"form_body_value_one_over_is_400_while_streaming", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/x-www-form-urlencoded", strings.NewReader("title=a&text="+strings.Repeat("t", 65)), false)
		}, 400, "arg-value-length"},
		{"json_depth_at_limit_passes", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", strings.NewReader(`{"a":{"b":[{"c":1}]}}`), false)
		}, 200, ""},
		{"json_depth_one_over_is_400", func(t *testing.T, mk string) sent {
			return do(t, "POST", "/echo?mk="+mk, "application/json", strings.NewReader(`{"a":{"b":[{"c":[1]}]}}`), false)
		}, 400, "json-depth"},
		{"propfind_is_405", func(t *testing.T, mk string) sent { return do(t, "PROPFIND", "/echo?mk="+mk, "", nil, false) }, 405, "method"},
		{"trace_is_405", func(t *testing.T, mk string) sent { return do(t, "TRACE", "/echo?mk="+mk, "", nil, false) }, 405, "method"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marker := fmt.Sprintf("lim%02dx", i)
			got := tc.send(t, marker)
			if tc.status == 200 {
				if got.status != 200 {
					t.Fatalf("status %d, want 200; body %.300s", got.status, got.body)
				}
				if n := upstreamSaw(t, s, marker); n != 1 {
					t.Errorf("upstream saw %d requests, want 1", n)
				}
				return
			}
			if got.status != tc.status {
				t.Fatalf("status %d, want %d; body %.300s", got.status, tc.status, got.body)
			}
			expectRefusal(t, s, got.status, got.header, "limits", tc.rule, marker)
			if tc.status == 405 && got.header.Get("Allow") != "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" {
				t.Errorf("Allow %q", got.header.Get("Allow"))
			}
		})
	}

	// Go's own header limit (Caddy's default max_header_size, 1 MiB) is
	// enforced before any handler: 431 without an event. mamori's limit
	// (here 2 KiB, by default 64 KiB) decides everything below it.
	t.Run("headers_over_go_s_own_limit_get_431_from_go", func(t *testing.T) {
		got := rawHeaders(t, s, host, "limgo", 0, 1<<20+8192)
		if got.status != 431 || got.header.Get("X-Request-Id") != "" {
			t.Fatalf("status %d, X-Request-Id %q; want 431 from Go, before mamori", got.status, got.header.Get("X-Request-Id"))
		}
		if n := upstreamSaw(t, s, "limgo"); n != 0 {
			t.Errorf("upstream saw %d", n)
		}
	})
}

// rawHeaders sends GET /echo?mk=marker with Host, Connection and extra
// X-H-n headers, or one X-Pad header of padLen bytes.
func rawHeaders(t *testing.T, s *site, host, marker string, extra, padLen int) struct {
	status int
	header http.Header
	body   string
} {
	var b strings.Builder
	fmt.Fprintf(&b, "GET /echo?mk=%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", marker, host)
	for i := range extra {
		fmt.Fprintf(&b, "X-H-%d: v\r\n", i%10)
	}
	if padLen > 0 {
		fmt.Fprintf(&b, "X-Pad: %s\r\n", strings.Repeat("p", padLen))
	}
	b.WriteString("\r\n")
	r := sendRaw(t, s, b.String())
	return struct {
		status int
		header http.Header
		body   string
	}{r.Status, r.Header, r.Body}
}
