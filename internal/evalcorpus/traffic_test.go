package evalcorpus

import (
	"testing"
)

// The split rule is fixed: these names stay in their parts (changing the
// rule would void the held-out figures).
func TestTuningPartIsFixed(t *testing.T) {
	tune, held := 0, 0
	for _, n := range []string{"a.white", "b.white", "c.black", "d.white", "e.white", "f.black", "0.white", "1.white"} {
		if TuningPart(n) {
			tune++
		} else {
			held++
		}
		if TuningPart(n) != TuningPart(n) {
			t.Fatal("not deterministic")
		}
	}
	if tune == 0 || held == 0 {
		t.Errorf("tune %d held-out %d: the split puts everything on one side", tune, held)
	}
}

func TestPrepareRaw(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no body", "GET /a?b=c HTTP/1.1\r\nHost: x.example\r\nConnection: keep-alive\r\n\r\n",
			"GET /a?b=c HTTP/1.1\r\nHost: x.example\r\nConnection: close\r\n\r\n"},
		{"length recomputed", "POST /a HTTP/1.1\r\nHost: x.example\r\nContent-Length: 99\r\n\r\nabc",
			"POST /a HTTP/1.1\r\nHost: x.example\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"},
		{"empty body kept empty", "POST /a HTTP/1.1\r\nHost: x.example\r\ncontent-length: 0\r\n\r\n",
			"POST /a HTTP/1.1\r\nHost: x.example\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{"no blank line", "GET / HTTP/1.1\r\nHost: x.example",
			"GET / HTTP/1.1\r\nHost: x.example\r\nConnection: close\r\n\r\n"},
	} {
		if got := string(PrepareRaw([]byte(tc.in))); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
