//go:build unix

package waf

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/detect"
)

// The worst-case shapes of issue 10 (row 6): bodies that cost the most
// CPU per byte the default limits admit.
//
//	go test ./internal/waf -run '^$' -bench WorstCase -benchtime 1x
//	MAMORI_BENCH_FULL=1 go test ./internal/waf -run '^$' -bench WorstCase -benchtime 1x
//
// cpu-ns/op is the process CPU per request; status is what the request
// got (413: refused by the work budget). Without MAMORI_BENCH_FULL the
// Base64 multipart shapes are scaled down (48 and 10 fields instead of
// 480 and 100). The last four shapes are what the budget admits at
// most: 3900 plain arguments, ~2 MB of prose (just under the 2 MiB of
// inspected bytes) in multipart fields or url-encoded values, and ~2 MB
// of random printable ASCII, which no prefilter skips (docs/perimeter.md).

// nestedBase64 is benign text Base64-encoded n times, cut to size bytes.
func nestedBase64(size, n int) string {
	text := strings.Repeat("The committee met on Tuesday to review the annual budget and the plans for the new library wing. ", 1+size/90)
	v := text
	for range n {
		v = base64.StdEncoding.EncodeToString([]byte(v))
	}
	if len(v) > size {
		v = v[:size-size%4]
	}
	return v
}

type worstShape struct {
	name        string
	contentType string
	body        []byte
}

func worstShapes() []worstShape {
	full := os.Getenv("MAMORI_BENCH_FULL") != ""
	multi := func(fields int) worstShape {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		v := nestedBase64(64<<10, 4)
		for i := range fields {
			_ = w.WriteField("f"+strconv.Itoa(i), v)
		}
		w.Close()
		return worstShape{fmt.Sprintf("multipart-%dx64KiB-b64x4", fields), w.FormDataContentType(), b.Bytes()}
	}
	big, mid := 48, 10
	if full {
		big, mid = 480, 100
	}
	args := url.Values{}
	v := nestedBase64(36, 1)
	for i := range 3900 {
		args.Set("a"+strconv.Itoa(i), v)
	}
	plain := url.Values{}
	for i := range 3900 {
		plain.Set("a"+strconv.Itoa(i), "november")
	}
	prose := strings.Repeat("The committee met on Tuesday to review the annual budget and the plans for the new library wing. ", 10)
	var pb bytes.Buffer
	pw := multipart.NewWriter(&pb)
	for i := range 31 {
		_ = pw.WriteField("f"+strconv.Itoa(i), strings.Repeat(prose, 64<<10/len(prose)))
	}
	pw.Close()
	one := url.Values{"text": {strings.Repeat(prose, 1000<<10/len(prose))}, "more": {strings.Repeat(prose, 1000<<10/len(prose))}}
	// Printable ASCII at random: every byte and pair of bytes the
	// prefilters look for is there, so nearly every expression runs
	// (prose lets most be skipped). 600 KiB a value: URL-encoded, the
	// body is just under the 2 MiB budget.
	rnd := rand.New(rand.NewPCG(1, 2))
	noise := func() string {
		b := make([]byte, 600<<10)
		for i := range b {
			b[i] = byte(' ' + rnd.IntN(95))
		}
		return string(b)
	}
	random := url.Values{"text": {noise()}, "more": {noise()}}
	return []worstShape{
		multi(big),
		multi(mid),
		{"urlencoded-3900-b64-args", "application/x-www-form-urlencoded", []byte(args.Encode())},
		{"urlencoded-3900-plain-args", "application/x-www-form-urlencoded", []byte(plain.Encode())},
		{"multipart-31x64KiB-prose", pw.FormDataContentType(), pb.Bytes()},
		{"urlencoded-2x1000KiB-prose", "application/x-www-form-urlencoded", []byte(one.Encode())},
		{"urlencoded-2x600KiB-random-ascii", "application/x-www-form-urlencoded", []byte(random.Encode())},
	}
}

// worstRequest runs one request of shape s through e's request phases
// and returns the status it gets (200: let through).
func worstRequest(b *testing.B, e *Engine, s worstShape) int {
	r := httptest.NewRequest("POST", "/cgi-bin/mt/mt-comments.cgi", bytes.NewReader(s.body))
	r.Host = "localhost"
	r.RemoteAddr = "192.0.2.1:40000"
	r.Header.Set("Content-Type", s.contentType)
	r.Header.Set("Content-Length", strconv.Itoa(len(s.body)))
	tx := e.NewTransaction("bench")
	defer tx.Close()
	it, err := tx.ProcessRequest(r, "192.0.2.1", 40000)
	var be *BudgetError
	if errors.As(err, &be) {
		return be.Status()
	}
	if err != nil {
		b.Fatal(err)
	}
	if it != nil {
		return it.Status
	}
	return 200
}

func BenchmarkWorstCase(b *testing.B) {
	shapes := worstShapes()
	for _, c := range []struct {
		name string
		o    detect.Options
	}{{"crs-only", detect.Options{Off: true}}, {"detection", detect.Options{}}} {
		e := benchEngine(b, Config{Detection: c.o, RequestBodyLimit: 33 << 20})
		for _, s := range shapes {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				status := 0
				cpu0 := processCPU()
				for b.Loop() {
					status = worstRequest(b, e, s)
				}
				reportCPU(b, cpu0)
				b.ReportMetric(float64(len(s.body)), "body-bytes")
				b.ReportMetric(float64(status), "status")
			})
		}
	}
}

// BenchmarkBudgetMeter is what the work budget adds to an ordinary
// request: the 20-parameter query and the 2 KiB benign form of the load
// benchmark, measured with the decode layer on.
//
//	go test ./internal/waf -run '^$' -bench BudgetMeter
func BenchmarkBudgetMeter(b *testing.B) {
	benchData()
	q := strings.TrimPrefix(benchQuery, "/?")
	b.ReportAllocs()
	for b.Loop() {
		m := newMeter(Budget{}, true)
		m.query(q)
		_ = m.body("application/x-www-form-urlencoded", bytes.NewReader(benchFormBody))
		if m.err != nil {
			b.Fatal(m.err)
		}
	}
}
