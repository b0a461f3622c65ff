//go:build unix

package waf

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mamori-waf/mamori/internal/detect"
)

// BenchmarkDetectionLayers measures what each of mamori's detection layers
// (internal/detect, docs/detection.md) costs on the full path, Host
// localhost: plain CRS, all layers (the default), and all but one.
//
//	go test ./internal/waf -run '^$' -bench DetectionLayers -benchtime 2s
func BenchmarkDetectionLayers(b *testing.B) {
	off := false
	configs := []struct {
		name string
		o    detect.Options
	}{
		{"crs-only", detect.Options{Off: true}},
		{"all", detect.Options{}},
		{"no-decode", detect.Options{Decode: &off}},
		{"no-placements", detect.Options{Placements: &off}},
		{"no-signatures", detect.Options{Signatures: &off}},
		{"no-text-gate", detect.Options{TextGate: &off}},
	}
	for _, c := range configs {
		e := benchEngine(b, Config{Detection: c.o})
		for _, s := range benchScenarios {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				benchTransactions(b, e, s, "localhost", stageVerdict)
			})
		}
	}
}

// BenchmarkDecode is the decoder alone on typical values.
func BenchmarkDecode(b *testing.B) {
	for _, v := range []struct{ name, value string }{
		{"plain-word", "november"},
		{"sentence", "The quick brown fox jumps over the lazy dog near the river bank."},
		{"double-url", "%2527%2520UNION%2520SELECT%2520password%2520FROM%2520users--"},
		{"base64", "JyBVTklPTiBTRUxFQ1QgcGFzc3dvcmQgRlJPTSB1c2Vycy0t"},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				detect.Decode(v.value)
			}
		})
	}
}

// BenchmarkDetectionBrowser is the request phases of a browser's page
// view (the headers Chrome sends, a Referer with parameters, cookies),
// CRS alone and with every layer: the header gate opens on such requests
// (the User-Agent is more than a token), so this is the layers' cost on
// browser traffic.
func BenchmarkDetectionBrowser(b *testing.B) {
	for _, c := range []struct {
		name string
		o    detect.Options
	}{
		{"crs-only", detect.Options{Off: true}},
		{"all", detect.Options{}},
	} {
		e := benchEngine(b, Config{Detection: c.o})
		b.Run(c.name, func(b *testing.B) {
			run := func() {
				r := httptest.NewRequest(http.MethodGet, "/blog/2024/05/spring-planting-notes.html?utm_source=newsletter&page=2", nil)
				r.Host = "www.example.com"
				r.RemoteAddr = "127.0.0.1:40000"
				for k, v := range browserHeaders {
					r.Header.Set(k, v)
				}
				tx := e.NewTransaction("bench")
				defer tx.Close()
				if it, err := tx.ProcessRequest(r, "127.0.0.1", 40000); err != nil || it != nil {
					b.Fatalf("ProcessRequest: interruption %+v, error %v", it, err)
				}
			}
			b.ReportAllocs()
			run()
			cpu0 := processCPU()
			for b.Loop() {
				run()
			}
			reportCPU(b, cpu0)
		})
	}
}

var browserHeaders = map[string]string{
	"User-Agent":                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
	"Accept-Language":           "en-US,en;q=0.9,ja;q=0.8",
	"Accept-Encoding":           "gzip, deflate, br, zstd",
	"Referer":                   "https://www.example.com/blog/?cat=garden&paged=3",
	"Cookie":                    "_ga=GA1.1.1234567890.1700000000; theme=dark; session=Zm9vYmFyYmF6",
	"Upgrade-Insecure-Requests": "1",
	"Sec-Fetch-Dest":            "document",
	"Sec-Fetch-Mode":            "navigate",
	"Sec-Fetch-Site":            "same-origin",
	"Sec-Fetch-User":            "?1",
	"Sec-Ch-Ua":                 `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`,
	"Sec-Ch-Ua-Mobile":          "?0",
	"Sec-Ch-Ua-Platform":        `"Windows"`,
	"Priority":                  "u=0, i",
}
