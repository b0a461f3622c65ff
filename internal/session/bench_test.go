package session

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

func BenchmarkSeal(b *testing.B) {
	s, _ := NewSealer([][]byte{bytes.Repeat([]byte{3}, KeySize)})
	e := &Envelope{Value: "melody::0123456789abcdef0123456789abcdef01234567::0", Issued: time.Now(), Seen: time.Now(), User: "melody", Path: "/cgi-bin/mt/"}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Seal("mt_user", e)
	}
}

func BenchmarkOpen(b *testing.B) {
	s, _ := NewSealer([][]byte{bytes.Repeat([]byte{3}, KeySize)})
	v := s.Seal("mt_user", &Envelope{Value: "melody::0123456789abcdef0123456789abcdef01234567::0", Issued: time.Now(), Seen: time.Now(), User: "melody", Path: "/cgi-bin/mt/"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open("mt_user", v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInbound is the per-request cost for a request carrying a
// sealed session and two other cookies (memory store).
func BenchmarkInbound(b *testing.B) {
	g, _ := newMTGuard(b, Config{}, nil)
	sealed, _ := login(b, g, melody)
	header := "theme=dark; mt_user=" + sealed + "; _ga=GA1.2.3"
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		h := http.Header{"Cookie": {header}}
		g.Inbound(ctx, h, melody)
	}
}
