//go:build unix

package waf

import (
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
