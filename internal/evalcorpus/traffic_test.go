package evalcorpus

import (
	"fmt"
	"testing"
)

// The split rule is fixed: these names stay in their parts (changing the
// rule would void the held-out figures).
func TestTuningPartIsFixed(t *testing.T) {
	// sha256("a.white") starts 0x7e, sha256("c.black") 0xc4.
	for name, tune := range map[string]bool{"a.white": true, "c.black": false} {
		if TuningPart(name) != tune {
			t.Errorf("%s: tuning part %v, want %v", name, !tune, tune)
		}
	}
	tune, held := 0, 0
	for i := range 1000 {
		if TuningPart(fmt.Sprintf("%028x.white", i)) {
			tune++
		} else {
			held++
		}
	}
	if tune < 400 || held < 400 {
		t.Errorf("tune %d held-out %d of 1000: the split is lopsided", tune, held)
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

// The evaluation suite's cases are split by the same rule, on their IDs.
func TestSuiteSplit(t *testing.T) {
	cases, err := Suite(DefaultSeed, DefaultPerCell)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[bool]map[bool]int{true: {}, false: {}}
	for _, c := range cases {
		if c.Tune() != TuningPart(c.ID) {
			t.Fatalf("%s: Tune() disagrees with TuningPart", c.ID)
		}
		parts[c.Attack][c.Tune()]++
	}
	for attack, n := range parts {
		if n[true] < n[false]/2 || n[false] < n[true]/2 {
			t.Errorf("attack=%v: tune %d held-out %d: the split is lopsided", attack, n[true], n[false])
		}
	}
}
