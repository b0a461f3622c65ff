package caddymodule

// The log writers mamori adds to Caddy: mamori_chain (tamper-evident
// chain, internal/logchain) and mamori_syslog (RFC 5424 shipping,
// internal/syslog), with the shippers' metrics.

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-waf/mamori/internal/logchain"
	"github.com/mamori-waf/mamori/internal/syslog"
)

func init() {
	caddy.RegisterModule(ChainWriter{})
	caddy.RegisterModule(SyslogWriter{})
}

// ChainWriter is the log writer `mamori_chain`: it seals every line with
// the HMAC chain (see internal/logchain) and writes it to another writer,
// usually a file, resuming the chain from the file at start.
//
//	output mamori_chain {
//		key {env.MAMORI_LOG_KEY}
//		output file /var/log/mamori/events.log { roll_keep_for 400d }
//	}
type ChainWriter struct {
	// Key is the HMAC key (16 bytes or more); placeholders such as
	// {env.MAMORI_LOG_KEY} are replaced at load.
	Key string `json:"key"`
	// OutputRaw is the writer the sealed lines go to.
	// (JSON key "writer": "output" names this module itself.)
	OutputRaw json.RawMessage `json:"writer" caddy:"namespace=caddy.logging.writers inline_key=output"`
	// AnchorInterval writes an anchor checkpoint (the chain's position)
	// that often while lines are written to a file; default off.
	AnchorInterval caddy.Duration `json:"anchor_interval,omitempty"`

	output caddy.WriterOpener
	key    []byte
}

// CaddyModule returns the Caddy module information.
func (ChainWriter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.logging.writers.mamori_chain", New: func() caddy.Module { return new(ChainWriter) }}
}

// Provision loads the inner writer and resolves the key.
func (cw *ChainWriter) Provision(ctx caddy.Context) error {
	if cw.OutputRaw == nil {
		return errors.New("mamori_chain: an output is required")
	}
	mod, err := ctx.LoadModule(cw, "OutputRaw")
	if err != nil {
		return fmt.Errorf("mamori_chain: %w", err)
	}
	cw.output = mod.(caddy.WriterOpener)
	if cw.Key == "" {
		return errors.New("mamori_chain: key is required")
	}
	if cw.key, err = resolveKey(cw.Key); err != nil {
		return fmt.Errorf("mamori_chain: %w", err)
	}
	return nil
}

func (cw ChainWriter) String() string { return "mamori_chain:" + fmt.Sprint(cw.output) }

// WriterKey names the writer by inner writer and key, so that a reload
// with a new key gets a writer of its own from Caddy; underneath, both
// share the file's one writer and chain (sharedFiles), the new key
// continuing its sequence.
func (cw ChainWriter) WriterKey() string {
	return "mamori_chain:" + keyID(cw.key) + ":" + cw.output.WriterKey()
}

// keyID names a key without revealing it.
func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("mamori-chain-key-id\n"), key...))
	return hex.EncodeToString(sum[:6])
}

// OpenWriter opens the inner writer (shared with every other user of the
// same file, mamori's access log included) and resumes its chain.
func (cw ChainWriter) OpenWriter() (io.WriteCloser, error) {
	return openShared(cw.output, cw.key, nil, time.Duration(cw.AnchorInterval), nil)
}

// UnmarshalCaddyfile reads `mamori_chain { key <key>; output <writer> ... }`.
func (cw *ChainWriter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "key":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			cw.Key = v
		case "anchor_interval":
			v, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(v)
			if err != nil || dur <= 0 {
				return d.Errf("mamori_chain: anchor_interval %q is not a positive duration", v)
			}
			cw.AnchorInterval = caddy.Duration(dur)
		case "output":
			if !d.NextArg() {
				return d.ArgErr()
			}
			name := d.Val()
			wo, err := unmarshalWriter(d, name)
			if err != nil {
				return err
			}
			cw.OutputRaw = caddyconfig.JSONModuleObject(wo, "output", name, nil)
		default:
			return d.Errf("mamori_chain: unknown option %q", d.Val())
		}
	}
	if cw.Key == "" || cw.OutputRaw == nil {
		return d.Err("mamori_chain needs key and output")
	}
	return nil
}

// sharedFiles holds one open writer and one HMAC chain per log file (by
// the output's WriterKey), shared by every site, log (mamori_chain) and
// configuration that names it: two writers on one file would interleave
// two chains, and `mamori logs verify` would report tampering that never
// happened. Each configuration's settings (chain key, ship writers) are
// kept; the newest configuration's are in force, so a reload's changes
// take effect, and a configuration that goes away (or fails to load)
// hands back to the one before it.
var sharedFiles = caddy.NewUsagePool()

// sharedFile is one open log file.
type sharedFile struct {
	mu       sync.Mutex
	output   caddy.WriterOpener
	base     io.WriteCloser
	out      *tee             // base and the ship copies of the settings in force
	settings []*fileSettings  // in order of arrival; the last is in force
	chain    *logchain.Writer // of the settings in force; nil: not chained
	chainID  string           // keyID of chain's key and the anchor interval
}

// Destruct writes the chain's close checkpoint and closes the file.
func (f *sharedFile) Destruct() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if f.chain != nil {
		err = f.chain.Close()
	}
	return errors.Join(err, f.base.Close())
}

// fileSettings is one configuration's settings for a file.
type fileSettings struct {
	owner  any // the configuration (nil: a user of its own)
	id     string
	key    []byte
	anchor time.Duration
	copies []io.WriteCloser
	users  int
}

// settingsConflict: sites of one configuration disagree about a file.
type settingsConflict struct{ file string }

func (e *settingsConflict) Error() string {
	return fmt.Sprintf("%s is named by sites with different chain_key or ship settings: one file has one writer "+
		"and one chain, so give every site that names it the same settings", e.file)
}

// sharedHandle is one user's writer on a shared file.
type sharedHandle struct {
	f       *sharedFile
	s       *fileSettings
	poolKey string
	once    sync.Once
}

// openShared returns a writer on output (opened once per file), sealed
// under key when not nil and copied to the ships; owner groups the users
// of one configuration, which must agree on the settings.
func openShared(output caddy.WriterOpener, key []byte, ships []caddy.WriterOpener, anchor time.Duration, owner any) (io.WriteCloser, error) {
	poolKey := "file|" + output.WriterKey()
	val, _, err := sharedFiles.LoadOrNew(poolKey, func() (caddy.Destructor, error) {
		base, err := openWriter(output)
		if err != nil {
			return nil, err
		}
		return &sharedFile{output: output, base: base, out: &tee{main: base}}, nil
	})
	if err != nil {
		return nil, err
	}
	f := val.(*sharedFile)
	id := "unchained"
	if key != nil {
		id = "chained:" + keyID(key) + "|anchor:" + anchor.String()
	}
	for _, s := range ships {
		id += "|" + s.WriterKey()
	}
	h, err := f.attach(owner, id, key, anchor, ships)
	if err != nil {
		_, _ = sharedFiles.Delete(poolKey)
		return nil, err
	}
	h.poolKey = poolKey
	return h, nil
}

func (f *sharedFile) attach(owner any, id string, key []byte, anchor time.Duration, ships []caddy.WriterOpener) (*sharedHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if owner != nil {
		for _, s := range f.settings {
			if s.owner != owner {
				continue
			}
			if s.id != id {
				return nil, &settingsConflict{file: fmt.Sprint(f.output)}
			}
			s.users++
			return &sharedHandle{f: f, s: s}, nil
		}
	}
	s := &fileSettings{owner: owner, id: id, key: key, anchor: anchor, users: 1}
	for _, sh := range ships {
		w, err := openWriter(sh)
		if err != nil {
			closeAll(s.copies)
			return nil, fmt.Errorf("ship %s: %w", sh, err)
		}
		s.copies = append(s.copies, w)
	}
	if err := f.use(s); err != nil {
		closeAll(s.copies)
		return nil, err
	}
	f.settings = append(f.settings, s)
	return &sharedHandle{f: f, s: s}, nil
}

// use puts s in force: its ship copies, and its chain key continuing the
// file's chain where it stands (from the file itself when nothing sealed
// it yet in this process). A change of key or anchor interval closes the
// previous chain writer (its close checkpoint) and the new one opens with
// an open checkpoint. The caller holds f.mu.
func (f *sharedFile) use(s *fileSettings) error {
	f.out.setCopies(s.copies)
	id := ""
	if s.key != nil {
		id = keyID(s.key) + "|" + s.anchor.String()
	}
	if f.chainID == id && (f.chain != nil) == (s.key != nil) {
		return nil
	}
	var resumed bool
	var seq uint64
	var mac string
	var err error
	if f.chain != nil {
		err = f.chain.Close() // its close checkpoint; out is no Closer: the file stays open
		seq, mac = f.chain.Chain.Position()
		resumed = true
		f.chain, f.chainID = nil, ""
	}
	if s.key == nil {
		return err
	}
	c, cerr := logchain.New(s.key)
	if cerr != nil {
		return errors.Join(err, cerr)
	}
	cw := &logchain.Writer{Chain: c, W: f.out}
	if fw, ok := f.output.(*logging.FileWriter); ok {
		cw.File = fw.Filename
		if !resumed {
			seq, mac, resumed, cerr = logchain.ResumeFrom(fw.Filename)
			if cerr != nil {
				return errors.Join(err, fmt.Errorf("resuming the chain of %s: %w", fw.Filename, cerr))
			}
		}
	}
	if resumed {
		c.Resume(seq, mac)
	}
	cw.StartAnchors(s.anchor)
	f.chain, f.chainID = cw, id
	return err
}

// Write seals p (when chained) and writes it to the file, the system of
// record, then copies it to the ship writers, whose errors are theirs (a
// shipper never fails a write).
func (h *sharedHandle) Write(p []byte) (int, error) {
	f := h.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.chain == nil {
		return f.out.Write(p)
	}
	return f.chain.Write(p)
}

// Close releases the handle: the last user of a configuration's settings
// closes its ship writers, and the settings before them come back in
// force; the file's last user closes the file.
func (h *sharedHandle) Close() error {
	var err error
	h.once.Do(func() {
		f := h.f
		f.mu.Lock()
		h.s.users--
		if h.s.users == 0 {
			i := slices.Index(f.settings, h.s)
			last := i == len(f.settings)-1
			f.settings = slices.Delete(f.settings, i, i+1)
			err = closeAll(h.s.copies)
			switch {
			case last && len(f.settings) > 0:
				err = errors.Join(err, f.use(f.settings[len(f.settings)-1]))
			case len(f.settings) == 0:
				f.out.setCopies(nil)
			}
		}
		f.mu.Unlock()
		_, derr := sharedFiles.Delete(h.poolKey)
		err = errors.Join(err, derr)
	})
	return err
}

func closeAll(ws []io.WriteCloser) error {
	var err error
	for _, w := range ws {
		err = errors.Join(err, w.Close())
	}
	return err
}

// tee writes to main and copies to the others, ignoring their errors. It
// is no Closer: closing a chain writer on it leaves the file open. Its own
// lock guards the copies, which change on reload while the chain's anchor
// goroutine may be writing.
type tee struct {
	main   io.Writer
	mu     sync.Mutex
	copies []io.WriteCloser
}

func (t *tee) setCopies(copies []io.WriteCloser) {
	t.mu.Lock()
	t.copies = copies
	t.mu.Unlock()
}

func (t *tee) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.main.Write(p)
	for _, c := range t.copies {
		_, _ = c.Write(p)
	}
	return n, err
}

// SyslogWriter is the log writer `mamori_syslog`: every line goes to a
// syslog collector as an RFC 5424 message over TCP or TLS with
// octet-counting framing, from a bounded in-memory queue that never blocks
// the request (internal/syslog).
//
//	output mamori_syslog tcp://127.0.0.1:514 | tls://siem.example.com:6514 {
//		ca_file /etc/ssl/siem-ca.pem
//		server_name siem.example.com
//		facility 16
//		app_name mamori
//		queue_size 10000
//	}
type SyslogWriter struct {
	// Address is tcp://host:port or tls://host:port.
	Address string `json:"address"`
	// CAFile is a PEM bundle of the collector's CA (tls); default the
	// system roots.
	CAFile string `json:"ca_file,omitempty"`
	// ServerName is the name checked in the collector's certificate
	// (tls); default the address's host.
	ServerName string `json:"server_name,omitempty"`
	// Facility is the syslog facility number, 0 (kern) to 23; default 16
	// (local0) when absent.
	Facility *int `json:"facility,omitempty"`
	// AppName is the APP-NAME header field; default "mamori".
	AppName string `json:"app_name,omitempty"`
	// Hostname is the HOSTNAME header field; default the machine's name.
	Hostname string `json:"hostname,omitempty"`
	// QueueSize is how many lines wait while the collector is down or
	// slow; when full the oldest are dropped and counted in
	// mamori_log_shipper_dropped_total. Default 10000.
	QueueSize int `json:"queue_size,omitempty"`

	cfg syslog.Config
}

// CaddyModule returns the Caddy module information.
func (SyslogWriter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "caddy.logging.writers.mamori_syslog", New: func() caddy.Module { return new(SyslogWriter) }}
}

// Provision checks the address and loads the CA file.
func (sw *SyslogWriter) Provision(caddy.Context) error {
	u, err := url.Parse(sw.Address)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "tls") || u.Port() == "" {
		return fmt.Errorf("mamori_syslog: address %q must be tcp://host:port or tls://host:port", sw.Address)
	}
	facility := syslog.DefaultFacility
	if sw.Facility != nil {
		facility = *sw.Facility
	}
	if facility < 0 || facility > 23 {
		return fmt.Errorf("mamori_syslog: facility %d is not 0 to 23", facility)
	}
	sw.cfg = syslog.Config{Network: u.Scheme, Address: u.Host, Facility: facility, AppName: sw.AppName,
		Hostname: sw.Hostname, QueueSize: sw.QueueSize}
	if u.Scheme == "tls" {
		tc := &tls.Config{ServerName: cmpOr(sw.ServerName, u.Hostname()), MinVersion: tls.VersionTLS12}
		if sw.CAFile != "" {
			pem, err := os.ReadFile(sw.CAFile)
			if err != nil {
				return fmt.Errorf("mamori_syslog: ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return fmt.Errorf("mamori_syslog: ca_file %s holds no PEM certificate", sw.CAFile)
			}
		}
		sw.cfg.TLS = tc
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (sw SyslogWriter) String() string { return "mamori_syslog:" + sw.Address }

// WriterKey shares one shipper per collector and settings: a reload that
// changes a setting (facility, queue size, CA, ...) starts a new shipper
// with it instead of keeping the old one.
func (sw SyslogWriter) WriterKey() string {
	facility := "default"
	if sw.Facility != nil {
		facility = strconv.Itoa(*sw.Facility)
	}
	return "mamori_syslog:" + sw.Address + "|" + strings.Join([]string{sw.CAFile, sw.ServerName, facility,
		sw.AppName, sw.Hostname, strconv.Itoa(sw.QueueSize)}, "|")
}

// OpenWriter starts the shipper.
func (sw SyslogWriter) OpenWriter() (io.WriteCloser, error) {
	cfg := sw.cfg
	s, err := syslog.New(cfg)
	if err != nil {
		return nil, err
	}
	shippersMu.Lock()
	shippers[s] = sw.Address
	shippersMu.Unlock()
	return &closingShipper{Shipper: s, address: sw.Address}, nil
}

type closingShipper struct {
	*syslog.Shipper
	address string
}

func (c *closingShipper) Close() error {
	err := c.Shipper.Close()
	shippersMu.Lock()
	delete(shippers, c.Shipper)
	// Its counts stay in the collector's totals: counters never go back.
	r := retired[c.address]
	r.dropped += c.Dropped()
	r.sent += c.Sent()
	retired[c.address] = r
	shippersMu.Unlock()
	return err
}

// shippers are the open shippers and their collector address, for
// metrics: several may ship to one address (two sites with different
// settings, or the old and new shipper during a reload); the metrics add
// them up per address, with the counts of closed ones.
var (
	shippersMu sync.Mutex
	shippers   = map[*syslog.Shipper]string{}
	retired    = map[string]shipperCounts{}
)

type shipperCounts struct{ dropped, sent uint64 }

// UnmarshalCaddyfile reads `mamori_syslog <address> { ... }`.
func (sw *SyslogWriter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.Args(&sw.Address) {
		return d.Err("mamori_syslog needs an address: tcp://host:port or tls://host:port")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	if u, err := url.Parse(sw.Address); err != nil || (u.Scheme != "tcp" && u.Scheme != "tls") || u.Port() == "" {
		return d.Errf("mamori_syslog: address %q must be tcp://host:port or tls://host:port", sw.Address)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		switch option {
		case "ca_file":
			sw.CAFile = v
		case "server_name":
			sw.ServerName = v
		case "app_name":
			sw.AppName = v
		case "hostname":
			sw.Hostname = v
		case "facility", "queue_size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (option == "facility" && n > 23) || (option == "queue_size" && n < 1) {
				return d.Errf("mamori_syslog: %s %q is out of range", option, v)
			}
			if option == "facility" {
				sw.Facility = &n
			} else {
				sw.QueueSize = n
			}
		default:
			return d.Errf("mamori_syslog: unknown option %q", option)
		}
	}
	return nil
}

// shipperCollector exports the shippers' counters, which live across
// reloads, into each configuration's registry.
type shipperCollector struct{}

var (
	droppedDesc = prometheus.NewDesc("mamori_log_shipper_dropped_total",
		"Log lines a syslog shipper dropped because its queue was full (the log file still has them).", []string{"collector"}, nil)
	queuedDesc = prometheus.NewDesc("mamori_log_shipper_queued",
		"Log lines waiting for a syslog collector.", []string{"collector"}, nil)
	sentDesc = prometheus.NewDesc("mamori_log_shipper_sent_total",
		"Log lines sent to a syslog collector.", []string{"collector"}, nil)
)

func (shipperCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- droppedDesc
	ch <- queuedDesc
	ch <- sentDesc
}

func (shipperCollector) Collect(ch chan<- prometheus.Metric) {
	type totals struct {
		shipperCounts
		queued int
	}
	shippersMu.Lock()
	byAddr := map[string]*totals{}
	for addr, r := range retired {
		byAddr[addr] = &totals{shipperCounts: r}
	}
	for s, addr := range shippers {
		t := byAddr[addr]
		if t == nil {
			t = &totals{}
			byAddr[addr] = t
		}
		t.dropped += s.Dropped()
		t.sent += s.Sent()
		t.queued += s.Queued()
	}
	shippersMu.Unlock()
	for addr, t := range byAddr {
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(t.dropped), addr)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(t.queued), addr)
		ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(t.sent), addr)
	}
}

func registerShipperMetrics(reg prometheus.Registerer) error {
	err := reg.Register(shipperCollector{})
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return nil
	}
	return err
}

// Interface guards
var (
	_ caddy.Provisioner     = (*ChainWriter)(nil)
	_ caddy.WriterOpener    = (*ChainWriter)(nil)
	_ caddyfile.Unmarshaler = (*ChainWriter)(nil)
	_ caddy.Provisioner     = (*SyslogWriter)(nil)
	_ caddy.WriterOpener    = (*SyslogWriter)(nil)
	_ caddyfile.Unmarshaler = (*SyslogWriter)(nil)
)
