package logchain

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// rotatedName matches the names Caddy's file writer (timberjack, a
// lumberjack fork) gives rolled files: access.log →
// access-2026-11-26T15-30-00.000-size.log[.gz|.zst] (the reason part,
// "size" or "time", is absent in lumberjack's older names).
var rotatedName = regexp.MustCompile(`^(.*)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}(?:-[A-Za-z0-9_]+)?(\.[^.]*)?(\.gz|\.zst)?$`)

// LogName is the name of the live file a file in a log directory belongs
// to: itself for a live file, the live file's name for a rolled one.
func LogName(file string) string {
	base := filepath.Base(file)
	if m := rotatedName.FindStringSubmatch(base); m != nil {
		return m[1] + m[2]
	}
	return base
}

// Group sorts the regular files of dir into logs: live file name → the
// files of that log (rolled ones and the live one), in no particular
// order. Files that are not logs (the Caddyfile, keys) are left out:
// only names ending in .log, .json or a rotated form of them count.
func Group(dir string) (map[string][]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	groups := map[string][]string{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := LogName(e.Name())
		if !strings.HasSuffix(name, ".log") && !strings.HasSuffix(name, ".json") {
			continue
		}
		groups[name] = append(groups[name], filepath.Join(dir, e.Name()))
	}
	return groups, nil
}

// open returns a reader of the file's text, decompressed.
func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasSuffix(path, ".gz"):
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{z, f}, nil
	case strings.HasSuffix(path, ".zst"):
		z, err := zstd.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{z.IOReadCloser(), f}, nil
	}
	return f, nil
}

// maxLine is the longest line read; zap lines are far shorter.
const maxLine = 4 << 20

// Lines calls fn for each non-empty line of a (possibly compressed) file,
// with its 1-based line number, until fn returns false.
func Lines(path string, fn func(n int, line []byte) bool) error {
	rc, err := open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(line) == 0 {
			continue
		}
		if !fn(n, line) {
			return nil
		}
	}
	return sc.Err()
}

// lastLine is the last non-empty line of a file ("" if none). A plain
// file is read backwards from its end, so a large live log costs little.
func lastLine(path string) ([]byte, error) {
	if strings.HasSuffix(path, ".gz") || strings.HasSuffix(path, ".zst") {
		var last []byte
		err := Lines(path, func(_ int, l []byte) bool { last = bytes.Clone(l); return true })
		return last, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var buf []byte
	for chunk := int64(64 << 10); ; chunk *= 2 {
		start := max(size-chunk, 0)
		buf = make([]byte, size-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, err
		}
		trimmed := bytes.TrimRight(buf, "\r\n")
		if i := bytes.LastIndexByte(trimmed, '\n'); i >= 0 {
			return bytes.Clone(trimmed[i+1:]), nil
		}
		if start == 0 || chunk > maxLine {
			return bytes.Clone(trimmed), nil
		}
	}
}

// ResumeFrom finds where the chain of the log whose live file is path
// stopped: the last line of the live file, or, if it is empty or missing
// (just rolled), of the newest rolled file. ok is false when there is no
// sealed line to continue from (a new log).
func ResumeFrom(path string) (seq uint64, mac string, ok bool, err error) {
	candidates := []string{path}
	if rolled, err := rolledFiles(path); err == nil {
		// Newest first: lumberjack's timestamps sort as text.
		sort.Sort(sort.Reverse(sort.StringSlice(rolled)))
		candidates = append(candidates, rolled...)
	}
	for _, c := range candidates {
		line, err := lastLine(c)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return 0, "", false, err
		}
		if len(line) == 0 {
			continue
		}
		l, err := Parse(line)
		if err != nil {
			return 0, "", false, nil // unsealed log: start a new chain
		}
		return l.Seq, l.HMAC, true, nil
	}
	return 0, "", false, nil
}

func rolledFiles(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	groups, err := Group(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range groups[base] {
		if filepath.Base(f) != base {
			out = append(out, f)
		}
	}
	return out, nil
}
