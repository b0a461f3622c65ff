// Package syslog ships log lines to a syslog collector as RFC 5424
// messages over TCP or TLS with octet-counting framing (RFC 6587 3.4.1,
// RFC 5425), without ever blocking the writer: lines wait in a bounded
// in-memory queue while the collector is down or slow, the oldest are
// dropped (and counted) when it is full, and the rest are sent when the
// collector is back. The log file stays the system of record.
//
// Written by hand because log/syslog (frozen) frames with newlines, has no
// TLS and blocks the caller on a slow collector, and Caddy's net writer
// writes synchronously from the request's goroutine.
package syslog

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Severities (RFC 5424 6.2.1) for zap's levels.
var severities = map[string]int{
	"debug": 7, "info": 6, "warn": 4, "error": 3, "dpanic": 2, "panic": 2, "fatal": 0,
}

// DefaultFacility is mamori's facility when none is configured: local0.
const DefaultFacility = 16

// Config is a collector and how to reach it.
type Config struct {
	// Network is "tcp" or "tls".
	Network string
	// Address is the collector's host:port.
	Address string
	// TLS is the client configuration for "tls" (server name, roots).
	TLS *tls.Config
	// Facility is the syslog facility, 0-23, as given: 0 is kern (callers
	// wanting mamori's default pass DefaultFacility).
	Facility int
	// AppName is the APP-NAME field (default "mamori").
	AppName string
	// Hostname is the HOSTNAME field (default the machine's name).
	Hostname string
	// QueueSize is how many messages wait for the collector (default 10000).
	QueueSize int
	// DialTimeout bounds a connection attempt (default 5s).
	DialTimeout time.Duration
	// WriteTimeout bounds one write to the collector (default 10s).
	WriteTimeout time.Duration
	// OnDrop is called with the number of messages dropped (queue full).
	OnDrop func(n int)
}

// Shipper sends lines to a collector from its own goroutine.
type Shipper struct {
	cfg      Config
	hostname string

	mu    sync.Mutex
	queue [][]byte // ring buffer of framed messages
	head  int      // index of the oldest
	count int
	// The first inflight messages of the queue were written on the
	// current connection and are not confirmed yet; marks says when,
	// batch by batch (see confirm).
	inflight int
	marks    []mark
	wake     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}

	dropped atomic.Uint64
	sent    atomic.Uint64
	// lastErr is the last connection error, for diagnostics.
	lastErr atomic.Value
}

// New validates cfg and starts the shipper's goroutine.
func New(cfg Config) (*Shipper, error) {
	switch cfg.Network {
	case "tcp", "tls":
	default:
		return nil, fmt.Errorf("syslog: network must be tcp or tls, not %q", cfg.Network)
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		return nil, fmt.Errorf("syslog: address %q: %v", cfg.Address, err)
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("syslog: facility %d is not 0 to 23", cfg.Facility)
	}
	if cfg.AppName == "" {
		cfg.AppName = "mamori"
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 10000
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Network == "tls" && cfg.TLS == nil {
		host, _, _ := net.SplitHostPort(cfg.Address)
		cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	s := &Shipper{cfg: cfg, hostname: headerField(cfg.Hostname, 255),
		queue: make([][]byte, cfg.QueueSize), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if s.hostname == "-" {
		h, _ := os.Hostname()
		s.hostname = headerField(h, 255)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Write queues each line of p as one message and returns at once.
func (s *Shipper) Write(p []byte) (int, error) {
	now := time.Now()
	for rest := p; len(rest) > 0; {
		line, tail, _ := bytes.Cut(rest, []byte{'\n'})
		rest = tail
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s.enqueue(Frame(Format(s.cfg.Facility, s.hostname, s.cfg.AppName, now, line)))
	}
	return len(p), nil
}

func (s *Shipper) enqueue(msg []byte) {
	s.mu.Lock()
	dropped := 0
	switch {
	case s.count == len(s.queue) && s.inflight > 0:
		// Full, and the oldest went out already: it is taken as
		// delivered without waiting for its confirmation.
		s.popLocked(1)
	case s.count == len(s.queue):
		// Full: the oldest goes; the file still has it.
		s.queue[s.head] = nil
		s.head = (s.head + 1) % len(s.queue)
		s.count--
		dropped = 1
	}
	s.queue[(s.head+s.count)%len(s.queue)] = msg
	s.count++
	s.mu.Unlock()
	if dropped > 0 {
		s.dropped.Add(uint64(dropped))
		if s.cfg.OnDrop != nil {
			s.cfg.OnDrop(dropped)
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// mark is a batch written on the current connection.
type mark struct {
	n  int
	at time.Time
}

// ConfirmAfter is how long a written message stays unconfirmed: TCP
// syslog has no acknowledgement, and a collector that stops loses what
// sat unread in its socket while the write had succeeded. A message
// counts as delivered once the connection is seen alive this long after
// the write; when the connection is found closed first, every unconfirmed
// message is sent again on the next one (at least once: the collector may
// get some twice). Ten seconds cover a collector that stops reading while
// it shuts down (rsyslog can take seconds before it closes, and init
// systems wait about that long before killing it).
const ConfirmAfter = 10 * time.Second

// peek returns up to max messages that were not written on the current
// connection (oldest first), without removing them.
func (s *Shipper) peek(max int) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(s.count-s.inflight, max)
	out := make([][]byte, n)
	for i := range out {
		out[i] = s.queue[(s.head+s.inflight+i)%len(s.queue)]
	}
	return out
}

// written records a batch written on the current connection, minus
// the messages dropped as oldest while it was being written.
func (s *Shipper) written(batch [][]byte, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range batch {
		if s.inflight == s.count || &s.queue[(s.head+s.inflight)%len(s.queue)][0] != &m[0] {
			continue // dropped as oldest while being sent
		}
		s.inflight++
		n++
	}
	if n > 0 {
		s.marks = append(s.marks, mark{n: n, at: at})
	}
}

// confirm removes the messages written before the cutoff: the connection
// was alive long enough after them.
func (s *Shipper) confirm(cutoff time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.marks) > 0 && !s.marks[0].at.After(cutoff) {
		s.popLocked(s.marks[0].n)
	}
}

// popLocked removes the n oldest messages, which are in flight, as
// delivered. The caller holds s.mu.
func (s *Shipper) popLocked(n int) {
	for range n {
		s.queue[s.head] = nil
		s.head = (s.head + 1) % len(s.queue)
		s.count--
		s.inflight--
		s.marks[0].n--
		if s.marks[0].n == 0 {
			s.marks = s.marks[1:]
		}
		s.sent.Add(1)
	}
}

// resend makes every unconfirmed message due again: its connection is
// gone.
func (s *Shipper) resend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight, s.marks = 0, nil
}

func (s *Shipper) unconfirmed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// Queued is how many messages wait for the collector: not sent yet, or
// sent and not confirmed.
func (s *Shipper) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Dropped is how many messages were dropped because the queue was full.
func (s *Shipper) Dropped() uint64 { return s.dropped.Load() }

// Sent is how many messages were delivered (confirmed, see ConfirmAfter).
func (s *Shipper) Sent() uint64 { return s.sent.Load() }

// Close stops the shipper after trying, for up to wait, to send what is
// queued. Lines sent and not yet confirmed are not waited for (nor sent
// again): the log file has them.
func (s *Shipper) Close() error {
	return s.CloseWithin(2 * time.Second)
}

// CloseWithin is Close with a chosen wait.
func (s *Shipper) CloseWithin(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for s.Queued()-s.unconfirmed() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.cancel()
	<-s.done
	return nil
}

const maxBatch = 256

func (s *Shipper) run() {
	defer close(s.done)
	var conn net.Conn
	backoff := 100 * time.Millisecond
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	// check drops a connection the collector closed (its unconfirmed
	// messages go again) and confirms what an open one got long enough ago.
	check := func() {
		if conn == nil {
			return
		}
		if peerClosed(conn) {
			conn.Close()
			conn = nil
			s.resend()
			return
		}
		s.confirm(time.Now().Add(-ConfirmAfter))
	}
	for {
		batch := s.peek(maxBatch)
		if len(batch) == 0 {
			var poll <-chan time.Time
			if s.unconfirmed() > 0 {
				poll = time.After(ConfirmAfter / 4)
			}
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
			case <-poll:
			}
			check()
			continue
		}
		check()
		if conn == nil {
			c, err := s.dial()
			if err != nil {
				s.lastErr.Store(err.Error())
				select {
				case <-s.ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			conn, backoff = c, 100*time.Millisecond
			continue // peek again: a closed connection's messages are due again
		}
		var buf bytes.Buffer
		for _, m := range batch {
			buf.Write(m)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := conn.Write(buf.Bytes()); err != nil {
			s.lastErr.Store(err.Error())
			conn.Close()
			conn = nil
			s.resend()
			continue
		}
		s.written(batch, time.Now())
	}
}

func (s *Shipper) dial() (net.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.DialTimeout)
	defer cancel()
	if s.cfg.Network == "tls" {
		td := &tls.Dialer{NetDialer: d, Config: s.cfg.TLS}
		return td.DialContext(ctx, "tcp", s.cfg.Address)
	}
	return d.DialContext(ctx, "tcp", s.cfg.Address)
}

// peerClosed reports whether the collector hung up. A syslog collector
// never sends anything, so a read that does not time out means the
// connection is gone; checking before each batch keeps a restarted
// collector from swallowing a batch into a dead socket.
func peerClosed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil || errors.Is(err, io.EOF)
}

// Format renders one RFC 5424 message for a zap JSON line: PRI from the
// facility and the line's "level", MSGID from its "logger", the line
// itself as MSG.
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
func Format(facility int, hostname, app string, t time.Time, line []byte) []byte {
	sev, ok := severities[jsonString(line, "level")]
	if !ok {
		sev = 6
	}
	var b bytes.Buffer
	b.Grow(len(line) + 96)
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(facility*8 + sev))
	b.WriteString(">1 ")
	b.WriteString(t.UTC().Format("2006-01-02T15:04:05.000000Z"))
	b.WriteByte(' ')
	b.WriteString(headerField(hostname, 255))
	b.WriteByte(' ')
	b.WriteString(headerField(app, 48))
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(os.Getpid()))
	b.WriteByte(' ')
	b.WriteString(headerField(jsonString(line, "logger"), 32))
	b.WriteString(" - ")
	b.Write(line)
	return b.Bytes()
}

// Frame prefixes a message with its length (octet counting).
func Frame(msg []byte) []byte {
	n := strconv.Itoa(len(msg))
	out := make([]byte, 0, len(n)+1+len(msg))
	out = append(out, n...)
	out = append(out, ' ')
	return append(out, msg...)
}

// headerField makes s a valid header field: printable US-ASCII without
// spaces, at most max characters, "-" when empty.
func headerField(s string, max int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// jsonString finds a top-level "key":"value" written by zap (no escapes in
// levels and logger names); "" when absent. A full JSON parse per line
// is not needed for two well-known fields.
func jsonString(line []byte, key string) string {
	i := bytes.Index(line, []byte(`"`+key+`":"`))
	if i < 0 {
		return ""
	}
	rest := line[i+len(key)+4:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
