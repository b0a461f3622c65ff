package logchain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rotating is a file writer that rolls like Caddy's (rename the live file
// to a timestamped name, start a new one) every max lines.
type rotating struct {
	path  string
	max   int
	n     int
	rolls int
	f     *os.File
}

func (r *rotating) Write(p []byte) (int, error) {
	if r.f != nil && r.max > 0 && r.n >= r.max {
		r.f.Close()
		rolled, _ := filepath.Glob(strings.TrimSuffix(r.path, ".log") + "-*.log")
		r.rolls = len(rolled) + 1
		os.Rename(r.path, strings.TrimSuffix(r.path, ".log")+fmt.Sprintf("-2026-01-01T00-00-%02d.000-size.log", r.rolls))
		r.f, r.n = nil, 0
	}
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, err
		}
		r.f = f
	}
	r.n += strings.Count(string(p), "\n")
	return r.f.Write(p)
}

func (r *rotating) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

// openWriter opens a checkpointing writer on dir/access.log, resuming the
// chain as caddymodule does.
func openWriter(t *testing.T, dir string, maxLines int) *Writer {
	t.Helper()
	path := filepath.Join(dir, "access.log")
	c, err := New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	seq, mac, ok, err := ResumeFrom(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		c.Resume(seq, mac)
	}
	return &Writer{Chain: c, W: &rotating{path: path, max: maxLines}, File: path}
}

func writeLines(t *testing.T, w *Writer, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := fmt.Fprintf(w, `{"msg":"request %d"}`+"\n", i); err != nil {
			t.Fatal(err)
		}
	}
}

func verifyDir(t *testing.T, dir string) *Report {
	t.Helper()
	groups, err := Group(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Verify(groups["access.log"], testKey)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// editLines rewrites a file with edit applied to its lines.
func editLines(t *testing.T, path string, edit func([]string) []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(edit(lines), "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncated(r *Report, file, detail string) bool {
	for _, p := range r.Problems {
		if p.Kind == "truncated" && p.File == file && strings.Contains(p.Detail, detail) {
			return true
		}
	}
	return false
}

// TestTruncationIsEvident (S6, issue 10 item 5): lines removed at the end
// of a live chained log, or at the start of a never-rotated file, are
// reported; the untouched log is intact, running and after shutdown.
func TestTruncationIsEvident(t *testing.T) {
	for _, tc := range []struct {
		name   string
		closed bool // mamori was stopped (close checkpoint written)
		tamper func(t *testing.T, dir string)
		file   string
		detail string
	}{
		{"untouched, running", false, nil, "", ""},
		{"untouched, stopped", true, nil, "", ""},
		{"last 5 lines deleted, running", false, func(t *testing.T, dir string) {
			editLines(t, filepath.Join(dir, "access.log"), func(l []string) []string { return l[:len(l)-5] })
		}, "access.log", "5 line(s) removed at the end"},
		{"last 5 lines deleted, stopped", true, func(t *testing.T, dir string) {
			editLines(t, filepath.Join(dir, "access.log"), func(l []string) []string { return l[:len(l)-5] })
		}, "access.log", "5 line(s) removed at the end"},
		{"first 20 lines deleted", false, func(t *testing.T, dir string) {
			editLines(t, filepath.Join(dir, "access.log"), func(l []string) []string { return l[20:] })
		}, "access.log", "20 line(s) removed at the start"},
		{"last line deleted, head removed too", false, func(t *testing.T, dir string) {
			editLines(t, filepath.Join(dir, "access.log"), func(l []string) []string { return l[:len(l)-1] })
			os.Remove(filepath.Join(dir, "access.log.head"))
		}, "access.log", "head record access.log.head is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openWriter(t, dir, 0)
			writeLines(t, w, 1, 40)
			if tc.closed {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				defer w.Close()
			}
			if tc.tamper != nil {
				tc.tamper(t, dir)
			}
			r := verifyDir(t, dir)
			if tc.tamper == nil {
				if !r.Intact() || !r.Chained || r.FirstSeq != 1 || r.Head == nil || r.Checkpoints == 0 {
					t.Fatalf("untouched log: %+v", r)
				}
				return
			}
			if !truncated(r, tc.file, tc.detail) {
				t.Fatalf("want a truncation of %s (%q), got %v", tc.file, tc.detail, r.Problems)
			}
		})
	}
}

// TestTruncationAcrossRotation: retention removing whole rolled files is
// not tampering; lines removed at the start of the oldest remaining
// rolled file are, and a restart continues the checkpoints.
func TestTruncationAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	w := openWriter(t, dir, 10)
	writeLines(t, w, 1, 45)
	w.Close()
	w = openWriter(t, dir, 10)
	writeLines(t, w, 46, 12)
	defer w.Close()
	rolled, _ := filepath.Glob(filepath.Join(dir, "access-*.log"))
	if len(rolled) < 4 {
		t.Fatalf("rolled files %v", rolled)
	}
	if r := verifyDir(t, dir); !r.Intact() {
		t.Fatalf("rotated log: %v", r.Problems)
	}
	// Retention removes the oldest file: still intact.
	os.Remove(rolled[0])
	if r := verifyDir(t, dir); !r.Intact() || r.FirstSeq <= 1 {
		t.Fatalf("after retention: %+v", r)
	}
	// Someone removes the first 3 lines of the oldest remaining file.
	editLines(t, rolled[1], func(l []string) []string { return l[3:] })
	r := verifyDir(t, dir)
	if !truncated(r, filepath.Base(rolled[1]), "removed at the start") && !truncated(r, filepath.Base(rolled[1]), "no checkpoint record") {
		t.Fatalf("start of a rolled file: %v", r.Problems)
	}
}

// TestTruncatedWhileStopped: lines removed at the end while mamori was
// stopped show as a gap after the restart (the writer continues from
// the head record); with the head removed too, the restart says so.
func TestTruncatedWhileStopped(t *testing.T) {
	for _, removeHead := range []bool{false, true} {
		t.Run(fmt.Sprint("head removed ", removeHead), func(t *testing.T) {
			dir := t.TempDir()
			w := openWriter(t, dir, 0)
			writeLines(t, w, 1, 20)
			w.Close()
			editLines(t, filepath.Join(dir, "access.log"), func(l []string) []string { return l[:len(l)-4] })
			if removeHead {
				os.Remove(filepath.Join(dir, "access.log.head"))
			}
			w = openWriter(t, dir, 0)
			writeLines(t, w, 21, 3)
			defer w.Close()
			r := verifyDir(t, dir)
			if r.Intact() {
				t.Fatal("truncation while stopped not detected")
			}
			kind := "missing"
			if removeHead {
				kind = "truncated"
			}
			found := false
			for _, p := range r.Problems {
				found = found || p.Kind == kind
			}
			if !found {
				t.Fatalf("want %s: %v", kind, r.Problems)
			}
		})
	}
}

// failing fails its first Write.
type failing struct {
	failed bool
	lines  []string
}

func (f *failing) Write(p []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("disk full")
	}
	f.lines = append(f.lines, strings.Split(strings.TrimSuffix(string(p), "\n"), "\n")...)
	return len(p), nil
}

// TestFailedWriteLeavesNoGap (issue 15): the chain advances only when the
// line was written.
func TestFailedWriteLeavesNoGap(t *testing.T) {
	c, _ := New(testKey)
	f := &failing{}
	w := &Writer{Chain: c, W: f}
	if _, err := w.Write([]byte(`{"msg":"lost"}` + "\n")); err == nil {
		t.Fatal("the failed write returned no error")
	}
	for i := range 3 {
		fmt.Fprintf(w, `{"msg":"line %d"}`+"\n", i)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.log"), f.lines, false)
	r, err := Verify([]string{filepath.Join(dir, "a.log")}, testKey)
	if err != nil || !r.Intact() || r.FirstSeq != 1 || r.LastSeq != 3 {
		t.Fatalf("%+v %v", r, err)
	}
}

// TestUnchainedLog: a log without any chain field is "not chained", not a
// list of unsealed lines.
func TestUnchainedLog(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.log"), []string{`{"msg":"a"}`, `{"msg":"b"}`}, false)
	r, err := Verify([]string{filepath.Join(dir, "a.log")}, testKey)
	if err != nil || r.Chained {
		t.Fatalf("%+v %v", r, err)
	}
}

// TestAnchors: a periodic anchor checkpoint is written while lines are
// written, and the log stays intact.
func TestAnchors(t *testing.T) {
	dir := t.TempDir()
	w := openWriter(t, dir, 0)
	w.StartAnchors(5 * time.Millisecond)
	defer w.Close()
	deadline := time.Now().Add(30 * time.Second)
	anchors := 0
	for i := 0; anchors == 0 && time.Now().Before(deadline); i++ {
		writeLines(t, w, i, 1)
		time.Sleep(10 * time.Millisecond)
		anchors = 0
		_ = Lines(filepath.Join(dir, "access.log"), func(_ int, line []byte) bool {
			if l, err := Parse(line); err == nil {
				if cp, ok := ParseCheckpoint(l.Body); ok && cp.Reason == ReasonAnchor {
					anchors++
				}
			}
			return true
		})
	}
	if anchors == 0 {
		t.Fatal("no anchor written")
	}
	w.Chain.mu.Lock()
	r := verifyDir(t, dir)
	w.Chain.mu.Unlock()
	if !r.Intact() {
		t.Fatalf("%v", r.Problems)
	}
}
