// Package logchain makes log files tamper-evident (S6): every line carries
// a sequence number and an HMAC-SHA256 over its content chained to the
// previous line's HMAC, so editing, deleting or reordering a line, or
// dropping a whole rotated file, breaks the chain where it happened. The
// chain survives rotation: it lives in the writer, not in a file, and a
// restarted process resumes it from the last line of the newest file.
//
// Format of a sealed line (one JSON object per line, as zap writes them):
//
//	{...original fields...,"chain":{"seq":N,"prev":"P","hmac":"H"}}
//
// N is 1 for the first line a key ever sealed and grows by one per line;
// P is the previous line's H ("" for N = 1); H is the lower-case hex of
//
//	HMAC-SHA256(key, "mamori-chain-v1\n" + N + "\n" + P + "\n" + body)
//
// where N is in decimal and body is the line as it was before sealing:
// the sealed line with `,"chain":{...}` removed (the closing "}" kept) and
// no newline. A line that is not a JSON object is sealed by appending a
// tab and {"chain":{...}}; its body is the text before the tab. Anyone
// with the key can verify a copy (a SIEM's) with these rules.
package logchain

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync"
)

// Version is the MAC's domain-separation prefix; a new format gets a new one.
const Version = "mamori-chain-v1"

// MinKeyLength is the shortest key accepted, in bytes.
const MinKeyLength = 16

// ErrShortKey is returned for a key shorter than MinKeyLength.
var ErrShortKey = fmt.Errorf("the chain key must be at least %d bytes", MinKeyLength)

// Chain seals lines in order. It is safe for concurrent use.
type Chain struct {
	mu   sync.Mutex
	key  []byte
	seq  uint64
	prev string
}

// New returns a chain that starts at sequence 1.
func New(key []byte) (*Chain, error) {
	if len(key) < MinKeyLength {
		return nil, ErrShortKey
	}
	return &Chain{key: bytes.Clone(key)}, nil
}

// Resume continues the chain after the line with sequence seq and HMAC mac.
func (c *Chain) Resume(seq uint64, mac string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq, c.prev = seq, mac
}

// Position is the sequence number and HMAC of the last sealed line.
func (c *Chain) Position() (uint64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq, c.prev
}

// MAC computes a line's HMAC from its sequence, previous HMAC and body.
func MAC(key []byte, seq uint64, prev string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(Version + "\n" + strconv.FormatUint(seq, 10) + "\n" + prev + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// seal appends the chain field to one line (without its newline) and
// returns the sealed line with a newline. The caller holds c.mu.
func (c *Chain) seal(dst, body []byte) []byte {
	c.seq++
	mac := MAC(c.key, c.seq, c.prev, body)
	field := `"chain":{"seq":` + strconv.FormatUint(c.seq, 10) + `,"prev":"` + c.prev + `","hmac":"` + mac + `"}`
	c.prev = mac
	if isObject(body) {
		dst = append(dst, body[:len(body)-1]...)
		dst = append(dst, ',')
		dst = append(dst, field...)
		dst = append(dst, '}', '\n')
		return dst
	}
	dst = append(dst, body...)
	dst = append(dst, '\t', '{')
	dst = append(dst, field...)
	return append(dst, '}', '\n')
}

// isObject: a JSON object with at least one field, so that a "," can be
// inserted before the closing brace.
func isObject(b []byte) bool {
	return len(b) > 2 && b[0] == '{' && b[len(b)-1] == '}' && !bytes.Equal(bytes.TrimSpace(b[1:len(b)-1]), nil)
}

// Writer seals each line written through it and writes it to W. zap
// writes one entry per Write; a Write holding several lines is sealed line
// by line, and a trailing partial line is sealed as a line of its own.
//
// With File set (the path of the live file W writes to, rotated by W),
// the Writer also makes truncation evident: checkpoint records and a head
// record (see checkpoint.go).
type Writer struct {
	Chain *Chain
	W     io.Writer
	// File is the live file W appends to; "" for no checkpoints and no
	// head record (W is not a file).
	File string

	state fileState
}

// Write seals p's lines and writes them with one Write on W, under the
// chain's lock, so lines reach the file in sequence order. The chain
// advances only when W took the lines: a failed write leaves no gap.
func (w *Writer) Write(p []byte) (int, error) {
	w.Chain.mu.Lock()
	defer w.Chain.mu.Unlock()
	if w.File != "" && !w.state.started {
		// Before the first line: the open checkpoint (not at open time,
		// so that `mamori validate` writes nothing into the log).
		if err := w.write([][]byte{w.open()}); err != nil {
			w.state.started = false
			return 0, err
		}
	}
	var lines [][]byte
	for rest := p; len(rest) > 0; {
		line, tail, _ := bytes.Cut(rest, []byte{'\n'})
		rest = tail
		line = bytes.TrimRight(line, "\r")
		if len(line) > 0 {
			lines = append(lines, line)
		}
	}
	if err := w.write(lines); err != nil {
		return 0, err
	}
	return len(p), nil
}

// write seals lines and writes them with one Write; on error the chain
// is put back where it was. The caller holds the lock.
func (w *Writer) write(lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	seq, prev := w.Chain.seq, w.Chain.prev
	size := 0
	for _, l := range lines {
		size += len(l) + 160
	}
	out := make([]byte, 0, size)
	for _, l := range lines {
		out = w.Chain.seal(out, l)
	}
	if _, err := w.W.Write(out); err != nil {
		w.Chain.seq, w.Chain.prev = seq, prev
		return err
	}
	if w.File != "" {
		w.afterWrite(seq + 1)
	}
	return nil
}

// Close writes the close checkpoint (if anything was written), stops the
// anchors and closes W if it is a Closer.
func (w *Writer) Close() error {
	w.Chain.mu.Lock()
	stop, done := w.state.stop, w.state.done
	w.state.stop = nil
	w.Chain.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	w.Chain.mu.Lock()
	defer w.Chain.mu.Unlock()
	var errs []error
	if w.File != "" && !w.state.closed {
		errs = append(errs, w.checkpoint(ReasonClose))
		w.state.closed = true
		if w.state.head != nil {
			errs = append(errs, w.state.head.Close())
			w.state.head = nil
		}
	}
	if c, ok := w.W.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Link is a parsed chain field.
type Link struct {
	Seq  uint64
	Prev string
	HMAC string
	// Body is the line as it was before sealing.
	Body []byte
}

var linkSuffix = regexp.MustCompile(`(,|\t\{)"chain":\{"seq":([0-9]{1,20}),"prev":"([0-9a-f]{0,64})","hmac":"([0-9a-f]{64})"\}\}$`)

// ErrUnsealed is returned by Parse for a line without a chain field.
var ErrUnsealed = errors.New("line has no chain field")

// Parse splits a sealed line (without its newline) into its link and body.
func Parse(line []byte) (Link, error) {
	m := linkSuffix.FindSubmatchIndex(line)
	if m == nil {
		return Link{}, ErrUnsealed
	}
	seq, err := strconv.ParseUint(string(line[m[4]:m[5]]), 10, 64)
	if err != nil {
		return Link{}, ErrUnsealed
	}
	l := Link{Seq: seq, Prev: string(line[m[6]:m[7]]), HMAC: string(line[m[8]:m[9]])}
	if line[m[2]] == ',' {
		l.Body = append(bytes.Clone(line[:m[0]]), '}')
	} else {
		l.Body = bytes.Clone(line[:m[0]])
	}
	return l, nil
}

// Valid reports whether the link's HMAC matches its content under key.
func (l Link) Valid(key []byte) bool {
	return hmac.Equal([]byte(MAC(key, l.Seq, l.Prev, l.Body)), []byte(l.HMAC))
}
