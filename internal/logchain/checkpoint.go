package logchain

// Truncation evidence. The chain alone cannot show lines removed at the
// end of the newest file (what is left is a valid prefix) or at the start
// of the oldest file (it looks like retention). A Writer that knows its
// file (Writer.File) therefore also writes:
//
//   - checkpoint records, sealed lines of the chain itself, when it first
//     writes after opening ("open"), when its file was rotated ("start",
//     in the new file), periodically ("anchor", Writer.StartAnchors) and at
//     shutdown ("close"). Each names the sequence number the current file
//     began with (file_first_seq), so a file whose first lines were
//     removed contradicts its own checkpoints;
//   - a head record in <file>.head, rewritten after every write: the last
//     sequence number and HMAC written, the current file's first sequence
//     number, and the sequence number from which checkpoints exist, under
//     an HMAC of its own. Lines removed at the end of the newest file leave
//     the head ahead of the file.
//
// What remains undetectable without an off-host copy is documented in
// docs/logs.md ("What the chain cannot show").

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CheckpointLogger is the logger name of checkpoint records.
const CheckpointLogger = "mamori.chain"

// HeadSuffix is appended to a log file's name to name its head record.
const HeadSuffix = ".head"

// Checkpoint reasons.
const (
	ReasonOpen   = "open"   // first write of a writer (mamori started or reloaded)
	ReasonStart  = "start"  // the first lines of a new file (after rotation)
	ReasonAnchor = "anchor" // periodic, for a copy shipped off the host
	ReasonClose  = "close"  // the writer was closed (shutdown or reload)
)

// Checkpoint is a parsed checkpoint record.
type Checkpoint struct {
	// Reason is one of the Reason* constants.
	Reason string `json:"mamori.chain.reason"`
	// FileFirstSeq is the sequence number of the first line of the file
	// the record was written to (0: unknown, an unsealed first line).
	FileFirstSeq uint64 `json:"mamori.chain.file_first_seq"`
	// HeadMissing is set on an open record when the file held sealed
	// lines but no valid head record: lines may have been removed at its
	// end while mamori was stopped.
	HeadMissing bool `json:"mamori.chain.head_missing,omitempty"`
}

// checkpointBody is the JSON of a checkpoint record before sealing.
func checkpointBody(now time.Time, cp Checkpoint) []byte {
	b := fmt.Appendf(nil, `{"level":"info","ts":%q,"logger":%q,"msg":"chain checkpoint","mamori.chain.reason":%q,"mamori.chain.file_first_seq":%d`,
		now.UTC().Format(time.RFC3339Nano), CheckpointLogger, cp.Reason, cp.FileFirstSeq)
	if cp.HeadMissing {
		b = append(b, `,"mamori.chain.head_missing":true`...)
	}
	return append(b, '}')
}

// ParseCheckpoint returns the checkpoint a line body holds, if it is one.
func ParseCheckpoint(body []byte) (Checkpoint, bool) {
	if !bytes.Contains(body, []byte(`"logger":"`+CheckpointLogger+`"`)) || !bytes.Contains(body, []byte(`"mamori.chain.reason"`)) {
		return Checkpoint{}, false
	}
	var cp Checkpoint
	if json.Unmarshal(body, &cp) != nil || cp.Reason == "" {
		return Checkpoint{}, false
	}
	return cp, true
}

// Head is the head record of a log: where its chain stood after the last
// write.
type Head struct {
	// Seq and HMAC are the last line written.
	Seq  uint64
	HMAC string
	// FileFirstSeq is the first sequence number of the live file.
	FileFirstSeq uint64
	// Since is the first sequence number written by a writer that keeps
	// checkpoints: every file with lines from Since on holds a
	// checkpoint naming its first line.
	Since uint64
}

const headVersion = "mamori-chain-head-v1"

// headLen is the fixed length of a head record, so that it is rewritten
// in place with one write.
var headLen = len(formatHead(nil, Head{HMAC: strings.Repeat("0", 64)}))

func formatHead(key []byte, h Head) []byte {
	text := fmt.Sprintf("%s %020d %64s %020d %020d", headVersion, h.Seq, h.HMAC, h.FileFirstSeq, h.Since)
	return []byte(text + " " + headMAC(key, text) + "\n")
}

func headMAC(key []byte, text string) string {
	return MAC(key, 0, "head", []byte(text))
}

// ErrBadHead is returned for a head record that does not parse or whose
// HMAC does not match under the key.
var ErrBadHead = errors.New("the head record is damaged or was not written with this key")

// ReadHead reads and checks the head record at path.
func ReadHead(path string, key []byte) (Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Head{}, err
	}
	// A writer rewrites the record in place: a torn read is retried.
	for i := 0; i < 3 && len(b) != headLen; i++ {
		time.Sleep(10 * time.Millisecond)
		if b, err = os.ReadFile(path); err != nil {
			return Head{}, err
		}
	}
	f := strings.Fields(string(b))
	if len(f) != 6 || f[0] != headVersion {
		return Head{}, ErrBadHead
	}
	text := strings.Join(f[:5], " ")
	if !hmac.Equal([]byte(headMAC(key, text)), []byte(f[5])) {
		return Head{}, ErrBadHead
	}
	var h Head
	var errs [3]error
	h.Seq, errs[0] = strconv.ParseUint(f[1], 10, 64)
	h.HMAC = strings.TrimSpace(f[2])
	h.FileFirstSeq, errs[1] = strconv.ParseUint(f[3], 10, 64)
	h.Since, errs[2] = strconv.ParseUint(f[4], 10, 64)
	if errors.Join(errs[:]...) != nil {
		return Head{}, ErrBadHead
	}
	return h, nil
}

// firstSeq is the sequence number of the first line of a file: 0 if the
// file is empty, missing or its first line is unsealed.
func firstSeq(path string) uint64 {
	var seq uint64
	_ = Lines(path, func(_ int, line []byte) bool {
		if l, err := Parse(line); err == nil {
			seq = l.Seq
		}
		return false
	})
	return seq
}

// fileState is what a Writer with a File knows about it. The caller
// holds the chain's lock.
type fileState struct {
	started   bool
	info      os.FileInfo // the live file after the last write
	firstSeq  uint64      // its first sequence number
	since     uint64
	head      *os.File
	anchorSeq uint64 // sequence number at the last anchor
	stop      chan struct{}
	done      chan struct{}
	closed    bool
}

// open runs before a Writer's first write: it picks up the head record,
// continues the chain from it if the file ends before it (so the lines
// removed show as a gap), and returns the open checkpoint to write first.
func (w *Writer) open() []byte {
	st := &w.state
	st.started = true
	c := w.Chain
	st.info, _ = os.Stat(w.File)
	empty := st.info == nil || st.info.Size() == 0
	if !empty {
		st.firstSeq = firstSeq(w.File)
	}
	headMissing := false
	h, err := ReadHead(w.File+HeadSuffix, c.key)
	switch {
	case err == nil && h.Seq > c.seq:
		// The file ends before the head: continue from the head, so
		// that verify shows the lines removed as missing.
		c.seq, c.prev = h.Seq, h.HMAC
		st.since = h.Since
	case err == nil:
		st.since = h.Since
	default:
		headMissing = c.seq > 0
	}
	if st.since == 0 {
		st.since = c.seq + 1
	}
	if empty {
		// A new or just rolled file: the next line begins it.
		st.firstSeq = c.seq + 1
	}
	st.head, _ = os.OpenFile(w.File+HeadSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	return checkpointBody(time.Now(), Checkpoint{Reason: ReasonOpen, FileFirstSeq: st.firstSeq, HeadMissing: headMissing})
}

// afterWrite notices a rotation (the live file is another file than after
// the last write: the lines just written, from seq first, begin it),
// writes the start checkpoint into the new file, and rewrites the head.
func (w *Writer) afterWrite(first uint64) {
	st := &w.state
	info, err := os.Stat(w.File)
	if err == nil && (st.info == nil || !os.SameFile(info, st.info)) {
		st.firstSeq = first
		seq, prev := w.Chain.seq, w.Chain.prev
		out := w.Chain.seal(nil, checkpointBody(time.Now(), Checkpoint{Reason: ReasonStart, FileFirstSeq: first}))
		if _, err := w.W.Write(out); err != nil {
			w.Chain.seq, w.Chain.prev = seq, prev
		}
		info, _ = os.Stat(w.File)
	}
	if info != nil {
		st.info = info
	}
	w.writeHead()
}

func (w *Writer) writeHead() {
	st := &w.state
	if st.head == nil {
		return
	}
	_, _ = st.head.WriteAt(formatHead(w.Chain.key, Head{Seq: w.Chain.seq, HMAC: w.Chain.prev, FileFirstSeq: st.firstSeq, Since: st.since}), 0)
}

// checkpoint writes a checkpoint record now. The caller holds the lock.
func (w *Writer) checkpoint(reason string) error {
	if !w.state.started || w.state.closed {
		return nil
	}
	seq, prev := w.Chain.seq, w.Chain.prev
	out := w.Chain.seal(nil, checkpointBody(time.Now(), Checkpoint{Reason: reason, FileFirstSeq: w.state.firstSeq}))
	if _, err := w.W.Write(out); err != nil {
		w.Chain.seq, w.Chain.prev = seq, prev
		return err
	}
	w.afterWrite(seq + 1)
	return nil
}

// StartAnchors writes an anchor checkpoint every interval while lines
// were written since the last one, until Close. Shipped with the log to
// a collector, anchors let an off-host copy show where the chain stood.
func (w *Writer) StartAnchors(every time.Duration) {
	if every <= 0 || w.File == "" {
		return
	}
	w.Chain.mu.Lock()
	defer w.Chain.mu.Unlock()
	if w.state.stop != nil || w.state.closed {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	w.state.stop, w.state.done = stop, done
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				w.Chain.mu.Lock()
				if w.Chain.seq != w.state.anchorSeq {
					_ = w.checkpoint(ReasonAnchor)
					w.state.anchorSeq = w.Chain.seq
				}
				w.Chain.mu.Unlock()
			}
		}
	}()
}
