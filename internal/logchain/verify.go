package logchain

import (
	"fmt"
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
	// "restarted".
	Kind string
	// Detail says it in words.
	Detail string
}

func (p Problem) String() string {
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
	return r, nil
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
