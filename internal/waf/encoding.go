package waf

// Compressed request bodies (issue 11). Telemetry scripts compress what
// they post (CompressionStream, fetch with a gzip body: protobuf and NDJSON
// batches carry `Content-Encoding: gzip`). CRS cannot read such a body and
// lists Content-Encoding among the restricted headers (920450), so every
// compressed beacon was refused. mamori decodes a body whose one content
// coding it knows (gzip, deflate, br), within the work budget, and the
// rules inspect the decoded bytes by the body's Content-Type; the upstream
// still gets the bytes the client sent. A coding mamori does not decode
// (compress, zstd, several codings stacked) stays restricted, as in CRS:
// the rules cannot see into it. A body that does not decode, or decodes to
// more than the budget allows, is refused before any rule runs.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// BodyError is a request body refused before the rules ran because it
// cannot be inspected: its content coding does not decode.
type BodyError struct {
	// Coding is the body's content coding ("gzip", "deflate", "br").
	Coding string
	// Reason says what failed.
	Reason string
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("request body (Content-Encoding: %s) cannot be decoded for inspection: %s", e.Coding, e.Reason)
}

// Status is the HTTP status of the refusal.
func (e *BodyError) Status() int { return http.StatusBadRequest }

// RuleID is the rule ID of the refusal's event.
func (e *BodyError) RuleID() string { return "body-encoding" }

// bodyCoding returns the one content coding a request body must be decoded
// with before inspection ("" when it is not encoded), and whether mamori
// can decode it. Only gzip (and its alias x-gzip), deflate and br decode;
// identity is no coding; anything else, or more than one real coding, is
// not decodable.
func bodyCoding(h http.Header) (coding string, ok bool) {
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "x-gzip":
				c = "gzip"
			case "gzip", "deflate", "br":
			default:
				return c, false
			}
			if coding != "" {
				return coding + ", " + c, false // stacked codings
			}
			coding = c
		}
	}
	return coding, true
}

// hasBody reports a request that carries (or may carry, when chunked) a body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// decompressed is a compressed body read for inspection.
type decompressed struct {
	original []byte // the bytes the client sent, for the upstream
	decoded  []byte // what the rules inspect
}

// errClientRead marks a failure to read the client's bytes (not a decoding
// failure): the request is refused as a body that could not be read.
type clientReader struct {
	r   io.Reader
	err error
}

func (c *clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// decompress reads a body encoded with coding (one of bodyCoding's) and
// decodes it: at most maxOriginal bytes of it (more gets the same 413 as
// an uncompressed body over the limit, from the caller) and at most
// maxDecoded decoded bytes (more is a budget refusal, 413). A stream that
// does not decode, or has bytes after its end, is a *BodyError.
func decompress(body io.Reader, coding string, maxOriginal, maxDecoded int64) (*decompressed, error) {
	var orig bytes.Buffer
	client := &clientReader{r: io.LimitReader(body, maxOriginal+1)}
	raw := bufio.NewReader(io.TeeReader(client, &orig))
	dec, err := decoder(coding, raw)
	if err == nil {
		var out bytes.Buffer
		_, err = out.ReadFrom(io.LimitReader(dec, maxDecoded+1))
		if err == nil && int64(out.Len()) > maxDecoded {
			return nil, &BudgetError{What: "decompressed_bytes", Used: int64(out.Len()), Limit: maxDecoded}
		}
		if err == nil {
			// The stream ended: anything after it would reach the
			// application uninspected.
			if n, _ := io.Copy(io.Discard, raw); n > 0 {
				err = fmt.Errorf("%d bytes after the end of the compressed stream", n)
			}
		}
		if err == nil {
			if int64(orig.Len()) > maxOriginal {
				return nil, errBodyTooLarge
			}
			return &decompressed{original: orig.Bytes(), decoded: out.Bytes()}, nil
		}
	}
	if client.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequestBody, client.err)
	}
	if int64(orig.Len()) > maxOriginal {
		return nil, errBodyTooLarge
	}
	return nil, &BodyError{Coding: coding, Reason: err.Error()}
}

// errBodyTooLarge is a compressed body over the request body limit: the
// caller answers 413, as Coraza does for an uncompressed one.
var errBodyTooLarge = errors.New("compressed request body over the request body limit")

// decoder returns a reader of r decoded with coding. "deflate" is the
// zlib format (RFC 9110); a raw DEFLATE stream, which some clients send
// under the same name, is accepted as browsers accept it in responses.
func decoder(coding string, r *bufio.Reader) (io.Reader, error) {
	switch coding {
	case "gzip":
		return gzip.NewReader(r)
	case "br":
		return brotli.NewReader(r), nil
	case "deflate":
		if h, err := r.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			return zlib.NewReader(r)
		}
		return flate.NewReader(r), nil
	}
	return nil, fmt.Errorf("unknown coding %q", coding)
}

// restrictedHeadersDecoded is CRS's tx.restricted_headers_basic without
// /content-encoding/: the list for a request whose body mamori decodes
// (the coding no longer hides the body from the rules). Read from CRS's
// own initialization file so that the rest of the list follows CRS; ""
// when it cannot be read, and then 920450 refuses as in CRS.
var restrictedHeadersDecoded = sync.OnceValue(func() string {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-901-INITIALIZATION.conf")
	if err != nil {
		return ""
	}
	m := restrictedBasic.FindSubmatch(b)
	if m == nil {
		return ""
	}
	list := strings.Fields(string(m[1]))
	out := list[:0]
	for _, h := range list {
		if h != "/content-encoding/" {
			out = append(out, h)
		}
	}
	return strings.Join(out, " ")
})

var restrictedBasic = regexp.MustCompile(`setvar:'tx\.restricted_headers_basic=([^']*)'`)
