//go:build unix

package waf

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The benchmarks below drive whole transactions (request phases, a trivial
// upstream writing through Transaction.ResponseWriter, response phases,
// Verdict, Close) for the scenarios of the load benchmark in tests/bench:
//
//	go test ./internal/waf -run '^$' -bench . -benchtime 2s
//	go test ./internal/waf -run '^$' -bench 'Transaction/form' -cpuprofile cpu.out
//	go tool pprof -top -cum internal/waf.test cpu.out
//
// Each reports cpu-ns/op, the process CPU time per transaction (GC
// included; steadier than ns/op on a shared machine and what run.sh reports
// as cpu ms/req), and matched-rules/op, the number of logged matches in the
// verdict (with Host 127.0.0.1, CRS 920350 and 980170 match every request).

// benchPageSize is the size of the /page body of tests/bench/upstream.
const benchPageSize = 8 * 1024

var (
	benchOnce     sync.Once
	benchPage     []byte // 8 KiB benign text/html, like tests/bench/upstream
	benchFormBody []byte // 2 KiB benign urlencoded form, tests/bench/form-body.txt
	benchOK       = []byte("<!DOCTYPE html>\n<html><head><title>ok</title></head><body><p>ok</p></body></html>\n")

	benchEnginesMu sync.Mutex
	benchEngines   = map[string]*Engine{}
)

// benchQuery is the 20-parameter query of tests/bench/run.sh.
const benchQuery = "/?p1=alpha&p2=bravo&p3=charlie&p4=delta&p5=echo&p6=foxtrot&p7=golf&p8=hotel&p9=india&p10=juliett" +
	"&p11=kilo&p12=lima&p13=mike&p14=november&p15=oscar&p16=papa&p17=quebec&p18=romeo&p19=sierra&p20=tango"

func benchData() {
	benchOnce.Do(func() {
		benchPage = buildBenchPage()
		if b, err := os.ReadFile("../../tests/bench/form-body.txt"); err == nil && len(b) > 0 {
			benchFormBody = b
			return
		}
		var b strings.Builder
		b.WriteString("title=Spring+planting+meeting+notes&author=Maria+Lopez&email=maria.lopez%40example.org&category=garden&text=")
		words := strings.Fields("the garden club met on a sunny afternoon to plan the spring planting we talked about which seeds to order and where the new bench should go")
		for i := 0; b.Len() < 2048; i++ {
			if i > 0 {
				b.WriteByte('+')
			}
			b.WriteString(words[i%len(words)])
		}
		benchFormBody = []byte(b.String()[:2048])
	})
}

// buildBenchPage is tests/bench/upstream's page: ordinary prose in HTML,
// exactly benchPageSize bytes.
func buildBenchPage() []byte {
	paragraphs := []string{
		"The community garden opens every Saturday morning from early spring until the first frost. Volunteers water the raised beds, turn the compost and share seedlings with new members.",
		"This season we planted tomatoes, beans, squash and a long row of sunflowers along the fence. The children's corner has strawberries, mint and a small herb spiral.",
		"Tools are kept in the green shed next to the gate. Please clean the spades and rakes after use and hang them back on their hooks so the next person can find them.",
		"Our monthly potluck takes place on the last Sunday of the month under the old walnut tree. Bring a dish to share, a blanket to sit on and a friend who likes good food.",
		"Rainwater from the roof of the shed is collected in two large barrels. During dry weeks we rely on this water, so remember to close the tap when you are done.",
		"Workshops this autumn cover seed saving, pruning fruit trees, building a simple cold frame and making leaf mould. Everyone is welcome and no experience is needed.",
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>Riverside Community Garden - News</title>\n")
	b.WriteString("<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n")
	b.WriteString("<header><h1>Riverside Community Garden</h1>\n<nav><ul>")
	for _, item := range []string{"Home", "News", "Events", "Members", "Contact"} {
		fmt.Fprintf(&b, "<li><a href=\"/%s\">%s</a></li>", strings.ToLower(item), item)
	}
	b.WriteString("</ul></nav></header>\n<main>\n")
	const tail = "</main>\n<footer><p>Riverside Community Garden, 12 Mill Lane. See you in the beds!</p></footer>\n</body>\n</html>\n"
	for i := 0; ; i++ {
		p := fmt.Sprintf("<article id=\"news-%d\"><h2>Garden note %d</h2><p>%s</p></article>\n", i+1, i+1, paragraphs[i%len(paragraphs)])
		if b.Len()+len(p)+len(tail) > benchPageSize {
			break
		}
		b.WriteString(p)
	}
	switch pad := benchPageSize - b.Len() - len(tail); {
	case pad >= 8:
		b.WriteString("<!--" + strings.Repeat(" ", pad-8) + "-->\n")
	case pad > 0:
		b.WriteString(strings.Repeat("\n", pad))
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// benchEngine compiles cfg once per test binary.
func benchEngine(b *testing.B, cfg Config) *Engine {
	b.Helper()
	c, err := Compile(cfg)
	if err != nil {
		b.Fatalf("Compile: %v", err)
	}
	benchEnginesMu.Lock()
	defer benchEnginesMu.Unlock()
	if e, ok := benchEngines[c.Fingerprint]; ok {
		return e
	}
	e, err := New(c)
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	benchEngines[c.Fingerprint] = e
	return e
}

type benchScenario struct {
	name   string
	method string
	target string
	form   bool
}

var benchScenarios = []benchScenario{
	{name: "page", method: http.MethodGet, target: "/page"},
	{name: "form", method: http.MethodPost, target: "/form", form: true},
	{name: "query20", method: http.MethodGet, target: benchQuery},
}

// benchUpstream answers like tests/bench/upstream: /page is the 8 KiB
// page, anything else (after reading the body) a small page.
var benchUpstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body := benchOK
	if r.URL.Path == "/page" {
		body = benchPage
	} else if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
})

// newBenchRequest builds the request wrk sends: Host and, for the form,
// Content-Type and Content-Length; nothing else.
func newBenchRequest(s benchScenario, host string) *http.Request {
	var body io.Reader
	if s.form {
		body = bytes.NewReader(benchFormBody)
	}
	r := httptest.NewRequest(s.method, s.target, body)
	r.Host = host
	r.RemoteAddr = "127.0.0.1:40000"
	if s.form {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Content-Length", strconv.Itoa(len(benchFormBody)))
	}
	return r
}

// benchStage is how far a benchmarked transaction goes.
type benchStage int

const (
	stageRequest  benchStage = iota // ProcessRequest, Close
	stageResponse                   // + upstream through ResponseWriter, FinishResponse
	stageVerdict                    // + Verdict (runs phase 5)
	stageEvent                      // + the event the Caddy module emits for a match
)

// runBenchTransaction is one request through e, as caddymodule's ServeHTTP
// drives it. It returns the number of logged matches.
func runBenchTransaction(b *testing.B, e *Engine, s benchScenario, host string, stage benchStage, log *zap.Logger) int {
	r := newBenchRequest(s, host)
	w := httptest.NewRecorder()
	tx := e.NewTransaction("bench")
	defer func() {
		if err := tx.Close(); err != nil {
			b.Fatal(err)
		}
	}()
	it, err := tx.ProcessRequest(r, "127.0.0.1", 40000)
	if err != nil || it != nil {
		b.Fatalf("%s: ProcessRequest: interruption %+v, error %v", s.name, it, err)
	}
	if stage == stageRequest {
		return 0
	}
	benchUpstream.ServeHTTP(tx.ResponseWriter(w, r), r)
	if it, err := tx.FinishResponse(); err != nil || it != nil {
		b.Fatalf("%s: FinishResponse: interruption %+v, error %v", s.name, it, err)
	}
	if w.Code != http.StatusOK || (s.name == "page" && w.Body.Len() != benchPageSize) {
		b.Fatalf("%s: got %d with %d bytes", s.name, w.Code, w.Body.Len())
	}
	if stage == stageResponse {
		return 0
	}
	v := tx.Verdict()
	if v.Interruption != nil || v.WouldInterrupt {
		b.Fatalf("%s: benign request blocked: %+v", s.name, v)
	}
	if stage == stageEvent && len(v.Matches) > 0 {
		benchEmit(log, r, v)
	}
	return len(v.Matches)
}

// benchEmit builds and writes the event as caddymodule does for a
// flagged request.
func benchEmit(log *zap.Logger, r *http.Request, v Verdict) {
	if e := v.Event(r, "bench", "127.0.0.1", http.StatusOK); e != nil {
		e.Emit(log)
	}
}

// benchLogger is a JSON logger at info level writing to io.Discard, as an
// events log would be (Caddy's default log writes JSON too).
func benchLogger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.InfoLevel))
}

func benchTransactions(b *testing.B, e *Engine, s benchScenario, host string, stage benchStage) {
	benchData()
	log := benchLogger()
	b.ReportAllocs()
	matches := runBenchTransaction(b, e, s, host, stage, log) // warm caches
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		runBenchTransaction(b, e, s, host, stage, log)
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(matches), "matched-rules/op")
}

// processCPU is the CPU time (user and system, all threads, GC included)
// the test process has used. On a shared machine it is a steadier measure
// than ns/op, and it is what tests/bench/run.sh reports (cpu ms/req).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per iteration since cpu0.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkTransaction is the full path (through Verdict) of each
// scenario, with the Host a browser sends (localhost) and a numeric Host
// (127.0.0.1, as the load benchmark sends: CRS 920350 matches).
func BenchmarkTransaction(b *testing.B) {
	e := benchEngine(b, Config{})
	for _, s := range benchScenarios {
		for _, host := range []string{"localhost", "127.0.0.1"} {
			b.Run(s.name+"/host="+host, func(b *testing.B) {
				benchTransactions(b, e, s, host, stageVerdict)
			})
		}
	}
}

// BenchmarkStages splits the cost of the default engine's transaction: the
// request phases alone, with the response phases, with Verdict (phase 5),
// and with the event the module emits.
func BenchmarkStages(b *testing.B) {
	e := benchEngine(b, Config{})
	stages := []struct {
		name  string
		stage benchStage
	}{
		{"1-request", stageRequest},
		{"2-response", stageResponse},
		{"3-verdict", stageVerdict},
		{"4-event", stageEvent},
	}
	for _, s := range benchScenarios {
		for _, st := range stages {
			b.Run(s.name+"/"+st.name, func(b *testing.B) {
				benchTransactions(b, e, s, "127.0.0.1", st.stage)
			})
		}
	}
}

// BenchmarkConfigs compares engine settings on the full path, Host
// 127.0.0.1.
func BenchmarkConfigs(b *testing.B) {
	configs := []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"no-response-body", Config{InspectResponseBody: ptr(false)}},
		{"no-rx-prefilter", Config{RegexPrefilter: ptr(false)}},
		{"no-response-rules", Config{Exclusions: []Exclusion{{Rules: "950000-959999"}}}},
		{"no-980170", Config{Exclusions: []Exclusion{{Rules: "980170"}}}},
	}
	for _, c := range configs {
		e := benchEngine(b, c.cfg)
		for _, s := range benchScenarios {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				benchTransactions(b, e, s, "127.0.0.1", stageVerdict)
			})
		}
	}
}

// BenchmarkVerdict runs the query20 transaction and reports, as
// verdict-ns/op, the time of Verdict alone: phase 5 (CRS 980170 among its
// rules) and the collection of matches, for a request without matches
// (localhost) and one with 920350 (127.0.0.1). (StopTimer would cost more
// than Verdict: with ReportAllocs it reads the memory statistics.)
func BenchmarkVerdict(b *testing.B) {
	benchData()
	e := benchEngine(b, Config{})
	s := benchScenarios[2] // query20: no response body to buffer
	for _, host := range []string{"localhost", "127.0.0.1"} {
		b.Run("host="+host, func(b *testing.B) {
			var inVerdict time.Duration
			for b.Loop() {
				r := newBenchRequest(s, host)
				w := httptest.NewRecorder()
				tx := e.NewTransaction("bench")
				if it, err := tx.ProcessRequest(r, "127.0.0.1", 40000); it != nil || err != nil {
					b.Fatalf("ProcessRequest: %+v %v", it, err)
				}
				benchUpstream.ServeHTTP(tx.ResponseWriter(w, r), r)
				if it, err := tx.FinishResponse(); it != nil || err != nil {
					b.Fatalf("FinishResponse: %+v %v", it, err)
				}
				start := time.Now()
				tx.Verdict()
				inVerdict += time.Since(start)
				_ = tx.Close()
			}
			b.ReportMetric(float64(inVerdict)/float64(b.N), "verdict-ns/op")
		})
	}
}

// BenchmarkEvent times building and writing the event of a flagged
// request (920350 and 980170 matched), as the Caddy module does, to a JSON
// logger at info level (written) and at warn level (dropped: flagged
// events are info).
func BenchmarkEvent(b *testing.B) {
	benchData()
	e := benchEngine(b, Config{})
	s := benchScenarios[2]
	r := newBenchRequest(s, "127.0.0.1")
	tx := e.NewTransaction("bench")
	if it, err := tx.ProcessRequest(r, "127.0.0.1", 40000); it != nil || err != nil {
		b.Fatalf("ProcessRequest: %+v %v", it, err)
	}
	benchUpstream.ServeHTTP(tx.ResponseWriter(httptest.NewRecorder(), r), r)
	if _, err := tx.FinishResponse(); err != nil {
		b.Fatal(err)
	}
	v := tx.Verdict()
	_ = tx.Close()
	if len(v.Matches) == 0 {
		b.Fatal("no matches to report")
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, level := range []zapcore.Level{zapcore.InfoLevel, zapcore.WarnLevel} {
		log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), level))
		b.Run("level="+level.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchEmit(log, r, v)
			}
		})
	}
}
