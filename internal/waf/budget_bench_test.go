//go:build unix

package waf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
	"time"

	"github.com/mamori-waf/mamori/internal/detect"
)

// The worst-case shapes of issue 10 (row 6): bodies that cost the most
// CPU per byte the default limits admit.
//
//	go test ./internal/waf -run '^$' -bench WorstCase -benchtime 4x
//	MAMORI_BENCH_FULL=1 go test ./internal/waf -run '^$' -bench WorstCase -benchtime 4x
//
// cpu-ns/op is the process CPU per request with the default detection
// layers, crs-cpu-ns/op with CRS alone, measured around the request only
// (building a body is not counted); x-crs is the first over the second;
// status and crs-status are what the request got (413: refused by the
// work budget). ns/op counts both requests. Without
// MAMORI_BENCH_FULL the Base64 multipart shapes are scaled down (48 and
// 10 fields instead of 480 and 100). The shapes after the 3900 arguments
// are the most of each kind of text the budget admits (1088 KiB, symbols
// counting SymbolWeight): prose in multipart fields and url-encoded
// values; JSON documents escaped inside JSON strings (the shape of the
// largest benign request of the corpora, a browser's telemetry beacon);
// and text at random — words of letters and digits, then with JSON
// punctuation, then printable ASCII, which no prefilter skips
// (docs/perimeter.md) — then
// the random ASCII the budget refuses, and last 60 KB of random ASCII in
// cookies (headers are bounded by the limits, not the budget). Random bodies are new at every
// request: RE2 builds its DFA states lazily and keeps them, so the same
// random body sent again costs about half.

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
	// fresh, when set, makes the body of request i (body is fresh(0)).
	fresh func(i int) []byte
	// cookies, when set, makes the Cookie header of request i.
	cookies func(i int) string
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
		return worstShape{fmt.Sprintf("multipart-%dx64KiB-b64x4", fields), w.FormDataContentType(), b.Bytes(), nil, nil}
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
	for i := range 16 {
		_ = pw.WriteField("f"+strconv.Itoa(i), strings.Repeat(prose, 64<<10/len(prose)))
	}
	pw.Close()
	one := url.Values{"text": {strings.Repeat(prose, 540<<10/len(prose))}, "more": {strings.Repeat(prose, 540<<10/len(prose))}}
	// Bytes at random from a set, two values of size bytes, new at every
	// request (fresh): every byte and pair of bytes of the set the
	// prefilters look for is there, so nearly every expression that can
	// match the set runs (prose lets most be skipped).
	random := func(set string, size int) func(int) []byte {
		return func(i int) []byte {
			rnd := rand.New(rand.NewPCG(1, uint64(2+i)))
			noise := func() string {
				b := make([]byte, size)
				for i := range b {
					b[i] = set[rnd.IntN(len(set))]
				}
				return string(b)
			}
			return []byte(url.Values{"text": {noise()}, "more": {noise()}}.Encode())
		}
	}
	var printable []byte
	for c := byte(' '); c <= '~'; c++ {
		printable = append(printable, c)
	}
	// Letters, digits, spaces and the punctuation of JSON and paths,
	// which weigh one byte each.
	jsonish := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      \"\\:,.{}[]/-_"
	// The most of each the budget admits: 2 × 540 KiB of JSON
	// punctuation; of printable ASCII (a fifth of it symbols, which count
	// SymbolWeight) 2 × 185 KiB. 2 × 600 KiB is refused.
	rJSON, rASCII, rOver := random(jsonish, 540<<10), random(string(printable), 185<<10), random(string(printable), 600<<10)
	// Words at random (letters, digits, spaces): no punctuation for the
	// prefilters to find, yet CRS refuses it (random words read as
	// commands), like the other random shapes.
	rWords := random("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      ", 540<<10)
	// A Cookie header of random printable ASCII (no ; or space, which
	// split it), the most the header limit admits (64 KiB of headers):
	// the budget does not count headers, the limits bound them.
	var cookieSet []byte
	for c := byte('!'); c <= '~'; c++ {
		if c != ';' && c != ',' {
			cookieSet = append(cookieSet, c)
		}
	}
	cookies := func(i int) string {
		rnd := rand.New(rand.NewPCG(3, uint64(i)))
		var b strings.Builder
		for n := range 30 {
			fmt.Fprintf(&b, "c%d=", n)
			for range 2000 {
				b.WriteByte(cookieSet[rnd.IntN(len(cookieSet))])
			}
			b.WriteString("; ")
		}
		return b.String()
	}
	return []worstShape{
		multi(big),
		multi(mid),
		{"urlencoded-3900-b64-args", "application/x-www-form-urlencoded", []byte(args.Encode()), nil, nil},
		{"urlencoded-3900-plain-args", "application/x-www-form-urlencoded", []byte(plain.Encode()), nil, nil},
		{"multipart-16x64KiB-prose", pw.FormDataContentType(), pb.Bytes(), nil, nil},
		{"urlencoded-2x540KiB-prose", "application/x-www-form-urlencoded", []byte(one.Encode()), nil, nil},
		{"json-escaped-json-1.1MB", "application/json", escapedJSON(1080 << 10), nil, nil},
		{"urlencoded-2x540KiB-random-words", "application/x-www-form-urlencoded", rWords(0), rWords, nil},
		{"urlencoded-2x540KiB-random-json-punct", "application/x-www-form-urlencoded", rJSON(0), rJSON, nil},
		{"urlencoded-2x185KiB-random-ascii", "application/x-www-form-urlencoded", rASCII(0), rASCII, nil},
		{"urlencoded-2x600KiB-random-ascii", "application/x-www-form-urlencoded", rOver(0), rOver, nil},
		{"cookie-60KB-random-ascii", "application/x-www-form-urlencoded", []byte("a=b"), nil, cookies},
	}
}

// escapedJSON is a JSON body of about size bytes whose string values are
// JSON strings of JSON documents: a log beacon's shape (arrays of form
// field descriptions); each argument holds an escaped quote (\") every
// few bytes.
func escapedJSON(size int) []byte {
	field := func(i int) string {
		return fmt.Sprintf(`{"name":"field%d","type":"input","isMultiple":true,"relationField":["certificateType","contactType"],"relationChange":"resetValue"}`, i)
	}
	var msgs []string
	n := 0
	for i := 0; n < size; i++ {
		var doc strings.Builder
		doc.WriteString(`[{"title":"subject","fields":[`)
		for j := range 40 {
			if j > 0 {
				doc.WriteByte(',')
			}
			doc.WriteString(field(i*40 + j))
		}
		doc.WriteString(`]}]`)
		once, _ := json.Marshal(doc.String())
		inner, _ := json.Marshal(string(once)) // the argument holds \" after decoding
		msgs = append(msgs, string(inner))
		n += len(inner)
	}
	return []byte(`{"level":"2","msg":[` + strings.Join(msgs, ",") + `]}`)
}

// worstRequest runs one request of shape s through e's request phases
// and returns the status it gets (200: let through).
func worstRequest(b *testing.B, e *Engine, s worstShape, cookie string) int {
	r := httptest.NewRequest("POST", "/cgi-bin/mt/mt-comments.cgi", bytes.NewReader(s.body))
	r.Host = "localhost"
	r.RemoteAddr = "192.0.2.1:40000"
	r.Header.Set("Content-Type", s.contentType)
	r.Header.Set("Content-Length", strconv.Itoa(len(s.body)))
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
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
	// CRS alone and the default layers run in one loop, each request with
	// a body of its own and the order alternating: compiled expressions
	// are shared by every engine of the process (Coraza's memoizer) and
	// RE2 keeps the DFA states it builds, so an engine measured after the
	// other would find them built and cost less.
	crs := benchEngine(b, Config{Detection: detect.Options{Off: true}, RequestBodyLimit: 33 << 20})
	layers := benchEngine(b, Config{RequestBodyLimit: 33 << 20})
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			var cpu [2]time.Duration // CRS alone, layers
			var status [2]int
			i, n := 0, 0
			measure := func(which int, e *Engine) {
				shape := s
				cookie := ""
				b.StopTimer()
				if s.fresh != nil && i > 0 {
					shape.body = s.fresh(i)
				}
				if s.cookies != nil {
					cookie = s.cookies(i)
				}
				i++
				b.StartTimer()
				cpu0 := processCPU()
				status[which] = worstRequest(b, e, shape, cookie)
				cpu[which] += processCPU() - cpu0
			}
			for b.Loop() {
				if n%2 == 0 {
					measure(0, crs)
					measure(1, layers)
				} else {
					measure(1, layers)
					measure(0, crs)
				}
				n++
			}
			n = max(n, 1)
			b.ReportMetric(float64(cpu[1])/float64(n), "cpu-ns/op")
			b.ReportMetric(float64(cpu[0])/float64(n), "crs-cpu-ns/op")
			b.ReportMetric(float64(cpu[1])/float64(max(cpu[0], 1)), "x-crs")
			b.ReportMetric(float64(len(s.body)), "body-bytes")
			b.ReportMetric(float64(status[1]), "status")
			b.ReportMetric(float64(status[0]), "crs-status")
		})
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
