package logchain

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Problem is one place where a chain is broken.
type Problem struct {
	// File and Line locate the line (1-based line number in the file).
	File string
	Line int
	// Seq is the line's sequence number (0 if unreadable).
	Seq uint64
	// What happened: "modified", "missing", "reordered", "unsealed",
	// "restarted", "truncated" (lines removed at the end of the newest
	// file or at the start of a file, shown by the head record or the
	// checkpoints).
	Kind string
	// Detail says it in words.
	Detail string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Detail)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Detail)
}

// Report is the result of checking one log's files.
type Report struct {
	// Files are the files checked, oldest first.
	Files []string
	// Lines is how many lines were checked.
	Lines int
	// FirstSeq and LastSeq bound the chain found. FirstSeq above 1 means
	// older lines were removed, by retention or otherwise.
	FirstSeq, LastSeq uint64
	// Problems lists every break found, in file order.
	Problems []Problem
	// Chained is false when no line carries a chain field: the log was
	// written without a key (or every chain field was removed).
	Chained bool
	// Checkpoints is how many checkpoint records were found; Head is the
	// head record read (nil without the live file or a head record).
	Checkpoints int
	Head        *Head
}

// Intact reports whether no problem was found.
func (r *Report) Intact() bool { return len(r.Problems) == 0 }

type entry struct {
	file string
	line int
	link Link
	err  error
}

// Verify checks the files of one log (the live file and its rolled
// files, in any order) against key. Files are ordered by the sequence
// number of their first line, so renamed files are still read in chain
// order; a line that is edited, deleted, moved or unsealed is reported
// where it is.
func Verify(files []string, key []byte) (*Report, error) {
	type fileEntries struct {
		path    string
		first   uint64
		entries []entry
	}
	// The head is read before the files: lines written meanwhile only
	// make the files longer than the head says.
	live, head, headErr := "", Head{}, error(nil)
	for _, f := range files {
		if LogName(f) == filepath.Base(f) {
			live = f
			head, headErr = ReadHead(f+HeadSuffix, key)
		}
	}
	var all []fileEntries
	for _, f := range files {
		fe := fileEntries{path: f}
		err := Lines(f, func(n int, line []byte) bool {
			l, err := Parse(line)
			fe.entries = append(fe.entries, entry{file: f, line: n, link: l, err: err})
			return true
		})
		if err != nil {
			return nil, err
		}
		for _, e := range fe.entries {
			if e.err == nil {
				fe.first = e.link.Seq
				break
			}
		}
		all = append(all, fe)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].first != all[j].first {
			return all[i].first < all[j].first
		}
		// Same first line number (both empty, or a restarted chain):
		// fall back to the name; the live file (no timestamp) goes last.
		return rollOrder(all[i].path) < rollOrder(all[j].path)
	})
	r := &Report{}
	var seq []entry
	for _, fe := range all {
		r.Files = append(r.Files, fe.path)
		seq = append(seq, fe.entries...)
	}
	r.Lines = len(seq)
	var last *entry
	for i := range seq {
		e := &seq[i]
		name := filepath.Base(e.file)
		if e.err != nil {
			r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Kind: "unsealed",
				Detail: "line has no chain field (written without the chain, or its chain field was edited)"})
			continue
		}
		if !e.link.Valid(key) {
			r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: e.link.Seq, Kind: "modified",
				Detail: fmt.Sprintf("line seq %d was modified (its HMAC does not match its content, or the key is wrong)", e.link.Seq)})
		}
		if last == nil {
			r.FirstSeq = e.link.Seq
		} else {
			want := last.link.Seq + 1
			switch {
			case e.link.Seq == want && e.link.Prev != last.link.HMAC:
				r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: e.link.Seq, Kind: "modified",
					Detail: fmt.Sprintf("line seq %d does not follow the line before it (prev HMAC differs)", e.link.Seq)})
			case e.link.Seq == 1:
				r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: 1, Kind: "restarted",
					Detail: fmt.Sprintf("a new chain starts here after seq %d (the log was cut or the writer lost its place)", last.link.Seq)})
			case e.link.Seq > want && comesLater(seq[i+1:], want):
				r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: e.link.Seq, Kind: "reordered",
					Detail: fmt.Sprintf("line seq %d is out of order: seq %d comes after it", e.link.Seq, want)})
			case e.link.Seq > want:
				r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: e.link.Seq, Kind: "missing",
					Detail: fmt.Sprintf("%d line(s) missing before this one (seq %d to %d)", e.link.Seq-want, want, e.link.Seq-1)})
			case e.link.Seq < want:
				r.Problems = append(r.Problems, Problem{File: name, Line: e.line, Seq: e.link.Seq, Kind: "reordered",
					Detail: fmt.Sprintf("line seq %d is out of order: it comes after seq %d", e.link.Seq, last.link.Seq)})
			}
		}
		if last == nil || e.link.Seq > last.link.Seq || e.link.Seq == 1 {
			last = e
		}
	}
	if last != nil {
		r.LastSeq = last.link.Seq
	}
	r.Chained = last != nil
	ends := make([]fileEnds, len(all))
	for i, fe := range all {
		ends[i] = scanFile(fe.path, fe.entries, key)
	}
	checkTruncation(r, ends, seq, live, head, headErr)
	return r, nil
}

// fileEnds is what the truncation checks need of one file.
type fileEnds struct {
	name        string
	first, last uint64 // sequence numbers of its first and last sealed lines
	lastLine    int
	checkpoints []foundCheckpoint
}

type foundCheckpoint struct {
	Checkpoint
	line int
	seq  uint64
}

func scanFile(path string, entries []entry, key []byte) fileEnds {
	fe := fileEnds{name: filepath.Base(path)}
	for _, e := range entries {
		fe.lastLine = e.line
		if e.err != nil {
			continue
		}
		if fe.first == 0 {
			fe.first = e.link.Seq
		}
		fe.last = e.link.Seq
		if cp, ok := ParseCheckpoint(e.link.Body); ok && e.link.Valid(key) {
			fe.checkpoints = append(fe.checkpoints, foundCheckpoint{cp, e.line, e.link.Seq})
		}
	}
	return fe
}

// checkTruncation compares the files with the head record and with their
// checkpoints (see checkpoint.go).
func checkTruncation(r *Report, files []fileEnds, seq []entry, live string, head Head, headErr error) {
	since := uint64(0)
	seen := false
	for _, f := range files {
		r.Checkpoints += len(f.checkpoints)
		for _, cp := range f.checkpoints {
			if since == 0 {
				since = cp.seq
			}
			if cp.Reason == ReasonOpen && cp.HeadMissing && seen {
				r.Problems = append(r.Problems, Problem{File: f.name, Line: cp.line, Seq: cp.seq, Kind: "truncated",
					Detail: fmt.Sprintf("mamori started at seq %d without a valid head record although the log had checkpoints before: lines at the end may have been removed while it was stopped", cp.seq)})
			}
			seen = true
		}
	}
	liveName, liveFirst := "", uint64(0)
	if live != "" {
		liveName = filepath.Base(live)
		for _, f := range files {
			if f.name == liveName {
				liveFirst = f.first
			}
		}
	}
	startChecked := map[string]bool{}
	switch {
	case live == "" || !r.Chained:
	case headErr == nil:
		h := head
		r.Head = &h
		since = h.Since
		if h.Seq > r.LastSeq {
			r.Problems = append(r.Problems, Problem{File: liveName, Seq: h.Seq, Kind: "truncated",
				Detail: fmt.Sprintf("%d line(s) removed at the end: the head record (%s) says the chain reached seq %d, the log ends at seq %d",
					h.Seq-r.LastSeq, liveName+HeadSuffix, h.Seq, r.LastSeq)})
		} else {
			for _, e := range seq {
				if e.err == nil && e.link.Seq == h.Seq && e.link.HMAC != h.HMAC {
					r.Problems = append(r.Problems, Problem{File: filepath.Base(e.file), Line: e.line, Seq: h.Seq, Kind: "modified",
						Detail: fmt.Sprintf("line seq %d is not the line the head record (%s) names", h.Seq, liveName+HeadSuffix)})
					break
				}
			}
		}
		if liveFirst != 0 && h.FileFirstSeq != 0 && liveFirst != h.FileFirstSeq {
			startChecked[liveName] = true
			detail := fmt.Sprintf("the head record says %s begins at seq %d, its first line is seq %d", liveName, h.FileFirstSeq, liveFirst)
			if liveFirst > h.FileFirstSeq {
				detail = fmt.Sprintf("%d line(s) removed at the start: ", liveFirst-h.FileFirstSeq) + detail
			}
			r.Problems = append(r.Problems, Problem{File: liveName, Line: 1, Seq: liveFirst, Kind: "truncated", Detail: detail})
		}
	case os.IsNotExist(headErr):
		if r.Checkpoints > 0 {
			r.Problems = append(r.Problems, Problem{File: liveName, Kind: "truncated",
				Detail: fmt.Sprintf("the head record %s is missing: lines removed at the end cannot be ruled out (copy it with the log files)", liveName+HeadSuffix)})
		}
	default:
		r.Problems = append(r.Problems, Problem{File: liveName + HeadSuffix, Kind: "modified", Detail: headErr.Error()})
	}
	if since == 0 {
		return // no checkpoints: a log written before they existed
	}
	for _, f := range files {
		if f.first == 0 || f.last < since || startChecked[f.name] {
			continue
		}
		ok := false
		var other *foundCheckpoint
		for i, cp := range f.checkpoints {
			if cp.FileFirstSeq == f.first || cp.FileFirstSeq == 0 {
				ok = true
				break
			}
			if other == nil {
				other = &f.checkpoints[i]
			}
		}
		switch {
		case ok:
		case other != nil && other.FileFirstSeq < f.first:
			r.Problems = append(r.Problems, Problem{File: f.name, Line: 1, Seq: f.first, Kind: "truncated",
				Detail: fmt.Sprintf("%d line(s) removed at the start: the checkpoint at line %d says the file begins at seq %d, its first line is seq %d",
					f.first-other.FileFirstSeq, other.line, other.FileFirstSeq, f.first)})
		case other != nil:
			r.Problems = append(r.Problems, Problem{File: f.name, Line: 1, Seq: f.first, Kind: "truncated",
				Detail: fmt.Sprintf("the checkpoint at line %d says the file begins at seq %d, its first line is seq %d", other.line, other.FileFirstSeq, f.first)})
		default:
			r.Problems = append(r.Problems, Problem{File: f.name, Line: 1, Seq: f.first, Kind: "truncated",
				Detail: fmt.Sprintf("no checkpoint record names this file's first line (seq %d): lines were removed at its start, or its checkpoints with them", f.first)})
		}
	}
}

// comesLater: seq appears in the next few lines (a moved line, not a gap).
func comesLater(rest []entry, seq uint64) bool {
	for i := 0; i < len(rest) && i < 64; i++ {
		if rest[i].err == nil && rest[i].link.Seq == seq {
			return true
		}
	}
	return false
}

// rollOrder sorts rolled files by their timestamp and the live file last.
func rollOrder(path string) string {
	base := filepath.Base(path)
	if LogName(base) == base {
		return "\xff" + base
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}
