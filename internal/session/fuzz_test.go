package session

import (
	"bytes"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary cookie values to the envelope decoder: it must
// never panic, and never accept anything it did not seal.
func FuzzOpen(f *testing.F) {
	s, _ := NewSealer([][]byte{bytes.Repeat([]byte{3}, KeySize)})
	valid := s.Seal("mt_user", &Envelope{Value: "melody::abc::0", Issued: time.Unix(1, 0), Seen: time.Unix(2, 0), User: "melody", Path: "/"})
	for _, seed := range []string{"", "m1.", "m1.AAAA", valid, valid[:len(valid)-1], "m1.!!!!", "melody::abc::0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		// (valid is sealed anew in each fuzz worker, with a fresh nonce:
		// compare what opens, not the string.)
		e, err := s.Open("mt_user", v)
		if err == nil && (e.Value != "melody::abc::0" || e.User != "melody") {
			t.Fatalf("accepted a value it never sealed: %q → %+v", v, e)
		}
	})
}

// FuzzDecodeEnvelope feeds arbitrary plaintexts to the decoder behind the
// AEAD (a sealed value from an older format, or a bug): no panic, and what
// decodes re-encodes to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(&Envelope{Value: "v", Issued: time.UnixMilli(5), Seen: time.UnixMilli(6), User: "u", Path: "/p", Domain: "d"}))
	f.Add([]byte{})
	f.Add(make([]byte, fixedLength+1))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if again, err := decodeEnvelope(encodeEnvelope(e)); err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip changed %+v into %+v (%v)", e, again, err)
		}
	})
}

// FuzzCookieHeader: the parser never panics, and formatting what it
// parsed parses back to the same pairs.
func FuzzCookieHeader(f *testing.F) {
	for _, seed := range []string{"a=1; b=2", "mt_user=m1.x; theme=dark", ";;=;", "a", "a=\"b c\"", "=", " a = b ;"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs := ParseCookieHeader([]string{s})
		again := ParseCookieHeader([]string{FormatCookieHeader(pairs)})
		if len(pairs) != len(again) {
			t.Fatalf("%q: %d pairs, then %d", s, len(pairs), len(again))
		}
		for i := range pairs {
			if pairs[i] != again[i] {
				t.Fatalf("%q: pair %d %+v became %+v", s, i, pairs[i], again[i])
			}
		}
		// And the guard's inbound pass over such a header never panics.
		g, _ := New(Config{Cookies: []CookieRule{{Name: "*"}}}, Options{Keys: [][]byte{bytes.Repeat([]byte{3}, KeySize)}})
		g.Inbound(t.Context(), http.Header{"Cookie": {s}}, Client{IP: "192.0.2.1"})
	})
}
