package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/paths"
	"github.com/mamori-waf/mamori/internal/pipeline"
)

// keeper is a response check that keeps the body until it has seen
// `need` bytes (0: the whole body), refusing when refuse says so.
type keeper struct {
	need   int
	seen   int
	ct     string // the Content-Type Head saw
	refuse func(seen int) bool
	// refuseEnd refuses in End only.
	refuseEnd bool
}

func (k *keeper) Head(_ int, h http.Header) pipeline.Hold {
	k.ct = h.Get("Content-Type")
	return pipeline.Keep
}

func (k *keeper) Body(p []byte) pipeline.Hold {
	k.seen += len(p)
	if k.refuse != nil && k.refuse(k.seen) {
		return pipeline.Refuse
	}
	if k.need > 0 && k.seen >= k.need {
		return pipeline.Release
	}
	return pipeline.Keep
}

func (k *keeper) End() pipeline.Hold {
	if k.refuseEnd || k.refuse != nil && k.refuse(k.seen) {
		return pipeline.Refuse
	}
	return pipeline.Release
}

func testResponse(t *testing.T) (*response, *httptest.ResponseRecorder, *[]error) {
	t.Helper()
	c, err := headers.Policy{}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	rw := newResponse(rec)
	r := httptest.NewRequest("GET", "http://example.com/?next=https://evil.example/", nil)
	rw.policy = func(status int, h http.Header) error { return c.Respond(status, h, false, r, nil) }
	var refusals []error
	rw.refuse = func(w http.ResponseWriter, err error) {
		refusals = append(refusals, err)
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "refused")
	}
	return rw, rec, &refusals
}

// mamori's own answers get the header policy and are recorded.
func TestResponseOwnAnswer(t *testing.T) {
	rw, rec, _ := testResponse(t)
	rw.Header().Set("Server", "upstream/1.0")
	rw.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(rw, "blocked")
	if rec.Code != 403 || rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Server") != "" ||
		rw.status != 403 || rw.bytes != 7 {
		t.Fatalf("code %d headers %v recorded %d/%d", rec.Code, rec.Header(), rw.status, rw.bytes)
	}
}

// Nothing of the upstream's response goes out before every check has
// released it; then the hooks, the policy, the held body, the rest.
func TestResponseHoldsUntilReleased(t *testing.T) {
	rw, rec, _ := testResponse(t)
	k := &keeper{need: 10}
	var hooked int
	up := rw.upstream([]pipeline.ResponseCheck{k}, []func(int, http.Header){func(s int, h http.Header) {
		hooked = s
		h.Set("X-Sealed", "1")
	}}, 4)
	up.Header().Set("Content-Type", "text/html")
	up.Header().Set("X-Upstream", "1")
	up.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(up, "01234")
	if err := http.NewResponseController(up).Flush(); err != nil {
		t.Fatal(err)
	}
	if rec.Flushed || rec.Body.Len() != 0 || rec.Header().Get("X-Upstream") != "" || rw.status != 0 {
		t.Fatalf("sent while held: flushed %v body %q headers %v", rec.Flushed, rec.Body, rec.Header())
	}
	_, _ = io.WriteString(up, "56789abc") // the check releases here
	_, _ = io.WriteString(up, "def")
	if refused := rw.end(); refused != nil {
		t.Fatal("refused")
	}
	if rec.Code != 201 || rec.Body.String() != "0123456789abcdef" || rec.Header().Get("X-Upstream") != "1" ||
		rec.Header().Get("X-Sealed") != "1" || rec.Header().Get("X-Content-Type-Options") != "nosniff" || hooked != 201 {
		t.Fatalf("code %d body %q headers %v hooked %d", rec.Code, rec.Body, rec.Header(), hooked)
	}
	if rw.status != 201 || rw.bytes != 16 || string(rw.captured()) != "0123" || rw.upstreamStatus() != 201 || k.seen != 13 {
		t.Fatalf("recorded %d/%d captured %q upstream %d seen %d", rw.status, rw.bytes, rw.captured(), rw.upstreamStatus(), k.seen)
	}
	// After the headers went out, Header is the client's (trailers).
	up.Header().Set("X-Trailer", "t")
	if rec.Header().Get("X-Trailer") != "t" {
		t.Fatal("a header set after sending was lost")
	}
}

// A refused response sends nothing; mamori's answer replaces it.
func TestResponseRefusedByCheck(t *testing.T) {
	for _, at := range []string{"body", "end"} {
		t.Run(at, func(t *testing.T) {
			rw, rec, _ := testResponse(t)
			k := &keeper{refuseEnd: at == "end"}
			if at == "body" {
				k.refuse = func(seen int) bool { return seen > 100 }
			}
			up := rw.upstream([]pipeline.ResponseCheck{k}, nil, 0)
			up.Header().Set("Content-Type", "text/html")
			up.Header().Set("X-Upstream", "1")
			_, _ = io.WriteString(up, strings.Repeat("x", 200))
			if refused := rw.end(); refused != pipeline.ResponseCheck(k) {
				t.Fatalf("refused by %v", refused)
			}
			if rec.Body.Len() != 0 || rw.status != 0 {
				t.Fatalf("sent %q", rec.Body)
			}
			rw.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(rw, "not found")
			if rec.Code != 404 || rec.Body.String() != "not found" || rec.Header().Get("X-Upstream") != "" || rw.upstreamStatus() != 0 {
				t.Fatalf("answer %d %q %v", rec.Code, rec.Body, rec.Header())
			}
		})
	}
}

// The checks see the Content-Type net/http would sniff; a directory
// index without one is refused by the real listing check (V6).
func TestResponseSniffsForTheChecks(t *testing.T) {
	nginx, err := os.ReadFile("../internal/paths/testdata/listings/nginx-autoindex.html")
	if err != nil {
		t.Fatal(err)
	}
	rw, rec, _ := testResponse(t)
	listing := &paths.ListingCheck{}
	k := &keeper{}
	up := rw.upstream([]pipeline.ResponseCheck{listing, k}, nil, 0)
	up.WriteHeader(http.StatusOK)
	if err := http.NewResponseController(up).Flush(); err != nil { // nothing to sniff yet: held
		t.Fatal(err)
	}
	_, _ = up.Write(nginx)
	if refused := rw.end(); refused != pipeline.ResponseCheck(listing) || !listing.Found || rec.Body.Len() != 0 || rec.Flushed {
		t.Fatalf("refused by %v, found %v, sent %d bytes", refused, listing.Found, rec.Body.Len())
	}
	if !strings.HasPrefix(k.ct, "text/html") {
		t.Fatalf("the check saw Content-Type %q", k.ct)
	}
}

// Headers the policy refuses: the refusal page, without the upstream's
// headers; the rest of the upstream's body is swallowed (V10).
func TestResponseRefusedHeaders(t *testing.T) {
	rw, rec, refusals := testResponse(t)
	rw.Header().Set(RequestIDHeader, "rid")
	up := rw.upstream(nil, nil, 0)
	up.Header().Set("Location", "https://evil.example/")
	up.Header().Set("X-Upstream", "1")
	up.WriteHeader(http.StatusFound)
	_, _ = io.WriteString(up, "moved")
	if rw.end() != nil {
		t.Fatal("refused by a check")
	}
	if len(*refusals) != 1 || !errors.Is((*refusals)[0], headers.ErrOpenRedirect) || rec.Code != 502 || rec.Body.String() != "refused" ||
		rec.Header().Get("Location") != "" || rec.Header().Get("X-Upstream") != "" || rec.Header().Get(RequestIDHeader) != "rid" || rw.status != 502 {
		t.Fatalf("refusals %v code %d body %q headers %v", *refusals, rec.Code, rec.Body, rec.Header())
	}
	// Caddy's error answer after a refusal gets nothing more.
	rw.failed(errors.New("x"), func(h http.Header) { h.Set("X-Late", "1") })
	if rec.Header().Get("X-Late") != "" {
		t.Fatal("failed touched a refused response")
	}
}

// Released responses stream: flushes pass, ReadFrom goes to the client
// (and is counted); held ones copy through the checks.
func TestResponseStreamsOnceReleased(t *testing.T) {
	rw, rec, _ := testResponse(t)
	up := rw.upstream([]pipeline.ResponseCheck{&paths.ListingCheck{}}, nil, 0)
	up.Header().Set("Content-Type", "text/event-stream")
	up.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(up, "data: 1\n\n")
	if err := http.NewResponseController(up).Flush(); err != nil || !rec.Flushed || rec.Body.String() != "data: 1\n\n" {
		t.Fatalf("flush %v flushed %v body %q", err, rec.Flushed, rec.Body)
	}
	n, err := up.(io.ReaderFrom).ReadFrom(strings.NewReader("data: 2\n\n"))
	if err != nil || n != 9 || rw.bytes != 18 || rw.end() != nil {
		t.Fatalf("ReadFrom %d %v, recorded %d", n, err, rw.bytes)
	}

	rw, rec, _ = testResponse(t)
	k := &keeper{}
	up = rw.upstream([]pipeline.ResponseCheck{k}, nil, 0)
	up.Header().Set("Content-Type", "text/html")
	if _, err := up.(io.ReaderFrom).ReadFrom(strings.NewReader("<p>held</p>")); err != nil {
		t.Fatal(err)
	}
	if k.seen != 11 || rec.Body.Len() != 0 {
		t.Fatalf("ReadFrom bypassed the check: seen %d, sent %q", k.seen, rec.Body)
	}
	rw.end()
	if rec.Body.String() != "<p>held</p>" {
		t.Fatalf("body %q", rec.Body)
	}
}

// Informational responses pass as they are; 101 is final (hooks and
// policy run) and never inspected.
func TestResponseInformational(t *testing.T) {
	rw, rec, _ := testResponse(t)
	k := &keeper{}
	var hooked int
	up := rw.upstream([]pipeline.ResponseCheck{k}, []func(int, http.Header){func(s int, _ http.Header) { hooked = s }}, 0)
	up.Header().Set("Upgrade", "websocket")
	up.WriteHeader(http.StatusSwitchingProtocols)
	if rec.Code != 101 || hooked != 101 || k.ct != "" || rw.status != 101 || rw.end() != nil {
		t.Fatalf("code %d hooked %d check saw %q", rec.Code, hooked, k.ct)
	}
}

// BenchmarkResponseHeld is the writer's cost for a 64 KiB HTML page
// held by the listing check and a check that keeps the whole body (as
// the WAF does an inspected type), written in 4 KiB chunks; the client
// writer discards.
func BenchmarkResponseHeld(b *testing.B) {
	page := []byte("<!doctype html><title>Entry</title>" + strings.Repeat("<p>text</p>", 64<<10/11))
	c, _ := headers.Policy{}.Compile()
	r := httptest.NewRequest("GET", "http://example.com/", nil)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		rw := newResponse(nullClient{http.Header{}})
		rw.policy = func(status int, h http.Header) error { return c.Respond(status, h, false, r, nil) }
		up := rw.upstream([]pipeline.ResponseCheck{&paths.ListingCheck{}, &keeper{}}, nil, 0)
		up.Header().Set("Content-Type", "text/html")
		for i := 0; i < len(page); i += 4096 {
			_, _ = up.Write(page[i:min(i+4096, len(page))])
		}
		if rw.end() != nil || rw.bytes != int64(len(page)) {
			b.Fatal("not sent whole")
		}
	}
}

type nullClient struct{ h http.Header }

func (d nullClient) Header() http.Header       { return d.h }
func (nullClient) WriteHeader(int)             {}
func (nullClient) Write(p []byte) (int, error) { return len(p), nil }
