package logchain

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef-test-key")

// sealed returns n sealed JSON lines.
func sealed(t *testing.T, n int) []string {
	t.Helper()
	c, err := New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &Writer{Chain: c, W: &buf}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, `{"msg":"line %d","n":%d}`+"\n", i, i)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func writeFile(t *testing.T, path string, lines []string, gz bool) {
	t.Helper()
	data := []byte(strings.Join(lines, "\n") + "\n")
	if gz {
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		z.Write(data)
		z.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSealedLineIsJSONAndParses(t *testing.T) {
	lines := sealed(t, 2)
	want := `{"msg":"line 1","n":1,"chain":{"seq":1,"prev":"","hmac":"`
	if !strings.HasPrefix(lines[0], want) {
		t.Fatalf("first line = %s", lines[0])
	}
	l, err := Parse([]byte(lines[1]))
	if err != nil {
		t.Fatal(err)
	}
	if l.Seq != 2 || string(l.Body) != `{"msg":"line 2","n":2}` || !l.Valid(testKey) || l.Valid([]byte("another-key-0123456")) {
		t.Errorf("parsed %+v (valid=%v)", l, l.Valid(testKey))
	}
	// The documented formula, computed independently.
	first, _ := Parse([]byte(lines[0]))
	if l.Prev != first.HMAC || MAC(testKey, 2, first.HMAC, []byte(`{"msg":"line 2","n":2}`)) != l.HMAC {
		t.Error("HMAC does not follow the documented formula")
	}
}

func TestNonJSONLineIsSealedToo(t *testing.T) {
	c, _ := New(testKey)
	var buf bytes.Buffer
	(&Writer{Chain: c, W: &buf}).Write([]byte("plain text line\n"))
	l, err := Parse(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if err != nil || string(l.Body) != "plain text line" || !l.Valid(testKey) {
		t.Fatalf("%q: %+v %v", buf.String(), l, err)
	}
}

func TestShortKeyRefused(t *testing.T) {
	if _, err := New([]byte("short")); err != ErrShortKey {
		t.Fatalf("err = %v", err)
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines []string) []string
		kind   string
		line   int // in the live file
	}{
		{"intact", func(l []string) []string { return l }, "", 0},
		{"edited line", func(l []string) []string {
			l[3] = strings.Replace(l[3], "line 10", "line X", 1)
			return l
		}, "modified", 4},
		{"deleted line", func(l []string) []string { return append(l[:2:2], l[3:]...) }, "missing", 3},
		{"swapped lines", func(l []string) []string { l[2], l[3] = l[3], l[2]; return l }, "reordered", 3},
		{"chain field removed", func(l []string) []string {
			p, _ := Parse([]byte(l[1]))
			l[1] = string(p.Body)
			return l
		}, "unsealed", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			lines := sealed(t, 12)
			// Two rolled files (one compressed) and the live file.
			writeFile(t, filepath.Join(dir, "access-2026-01-01T00-00-00.000.log.gz"), lines[:3], true)
			writeFile(t, filepath.Join(dir, "access-2026-01-02T00-00-00.000-size.log"), lines[3:6], false)
			live := tc.tamper(append([]string(nil), lines[6:]...))
			writeFile(t, filepath.Join(dir, "access.log"), live, false)
			groups, err := Group(dir)
			if err != nil || len(groups["access.log"]) != 3 {
				t.Fatalf("groups %v %v", groups, err)
			}
			r, err := Verify(groups["access.log"], testKey)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if !r.Intact() || r.FirstSeq != 1 || r.LastSeq != 12 || r.Lines != 12 {
					t.Fatalf("report %+v", r)
				}
				return
			}
			if r.Intact() {
				t.Fatal("tampering not detected")
			}
			p := r.Problems[0]
			if p.Kind != tc.kind || p.File != "access.log" || p.Line != tc.line {
				t.Errorf("first problem %+v, want %s at access.log:%d", p, tc.kind, tc.line)
			}
		})
	}
}

func TestVerifyAfterRetentionAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	lines := sealed(t, 9)
	// The oldest file was removed by retention: the chain starts at 4.
	writeFile(t, filepath.Join(dir, "a-2026-01-02T00-00-00.000.log"), lines[3:6], false)
	writeFile(t, filepath.Join(dir, "a.log"), lines[6:], false)
	groups, _ := Group(dir)
	r, err := Verify(groups["a.log"], testKey)
	if err != nil || !r.Intact() || r.FirstSeq != 4 {
		t.Fatalf("%+v %v", r, err)
	}
	// A rolled file deleted from the middle is a gap.
	os.Remove(filepath.Join(dir, "a-2026-01-02T00-00-00.000.log"))
	writeFile(t, filepath.Join(dir, "a-2026-01-01T00-00-00.000.log"), lines[:3], false)
	groups, _ = Group(dir)
	r, _ = Verify(groups["a.log"], testKey)
	if r.Intact() || r.Problems[0].Kind != "missing" || r.Problems[0].File != "a.log" {
		t.Fatalf("%+v", r)
	}
}

func TestResumeFrom(t *testing.T) {
	dir := t.TempDir()
	lines := sealed(t, 5)
	live := filepath.Join(dir, "access.log")
	if _, _, ok, _ := ResumeFrom(live); ok {
		t.Fatal("resumed from nothing")
	}
	writeFile(t, filepath.Join(dir, "access-2026-01-01T00-00-00.000.log.gz"), lines[:3], true)
	// Just rolled: the live file is empty, the newest rolled file counts.
	os.WriteFile(live, nil, 0o600)
	seq, mac, ok, err := ResumeFrom(live)
	want, _ := Parse([]byte(lines[2]))
	if err != nil || !ok || seq != 3 || mac != want.HMAC {
		t.Fatalf("seq %d ok %v err %v", seq, ok, err)
	}
	writeFile(t, live, lines[3:], false)
	seq, _, _, _ = ResumeFrom(live)
	if seq != 5 {
		t.Fatalf("seq %d", seq)
	}
	// A restarted writer continues the same chain.
	c, _ := New(testKey)
	c.Resume(ResumeFrom2(t, live))
	f, _ := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(&Writer{Chain: c, W: f}, `{"msg":"after restart"}`)
	f.Close()
	groups, _ := Group(dir)
	r, _ := Verify(groups["access.log"], testKey)
	if !r.Intact() || r.LastSeq != 6 {
		t.Fatalf("%+v", r)
	}
}

func ResumeFrom2(t *testing.T, path string) (uint64, string) {
	seq, mac, _, err := ResumeFrom(path)
	if err != nil {
		t.Fatal(err)
	}
	return seq, mac
}

func FuzzParse(f *testing.F) {
	for _, l := range sealed(&testing.T{}, 2) {
		f.Add(l)
	}
	f.Add(`{"a":1,"chain":{"seq":99999999999999999999,"prev":"","hmac":"` + strings.Repeat("0", 64) + `"}}`)
	f.Add("x\t{\"chain\":{}}")
	f.Fuzz(func(t *testing.T, line string) {
		l, err := Parse([]byte(line))
		if err == nil && l.Valid(testKey) && !strings.Contains(line, l.HMAC) {
			t.Fatal("valid link whose HMAC is not in the line")
		}
	})
}

func BenchmarkWriterSeal(b *testing.B) {
	c, _ := New(testKey)
	w := &Writer{Chain: c, W: discard{}}
	line := []byte(`{"level":"info","ts":1764170000.1,"logger":"mamori.access","msg":"handled request","transaction.id":"abcdefghijklmnopqrstuvwx","http.response.status_code":200}` + "\n")
	for b.Loop() {
		w.Write(line)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
