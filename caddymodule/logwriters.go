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
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/prometheus/client_golang/prometheus"

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

// WriterKey shares one chain per inner writer and key: a new key (a
// reload) opens a new writer, which resumes the file's sequence.
func (cw ChainWriter) WriterKey() string {
	return "mamori_chain:" + keyID(cw.key) + ":" + cw.output.WriterKey()
}

// keyID names a key without revealing it.
func keyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("mamori-chain-key-id\n"), key...))
	return hex.EncodeToString(sum[:6])
}

// OpenWriter opens the inner writer and resumes its chain.
func (cw ChainWriter) OpenWriter() (io.WriteCloser, error) {
	w, err := openWriter(cw.output)
	if err != nil {
		return nil, err
	}
	return chain(cw.output, w, cw.key)
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
	// Facility is the syslog facility number, 0-23; default 16 (local0).
	Facility int `json:"facility,omitempty"`
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
	sw.cfg = syslog.Config{Network: u.Scheme, Address: u.Host, Facility: sw.Facility, AppName: sw.AppName,
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
	if sw.Facility < 0 || sw.Facility > 23 {
		return fmt.Errorf("mamori_syslog: facility %d is not 0 to 23", sw.Facility)
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

// WriterKey shares one shipper per collector address.
func (sw SyslogWriter) WriterKey() string { return "mamori_syslog:" + sw.Address }

// OpenWriter starts the shipper.
func (sw SyslogWriter) OpenWriter() (io.WriteCloser, error) {
	cfg := sw.cfg
	s, err := syslog.New(cfg)
	if err != nil {
		return nil, err
	}
	shippers.Store(sw.Address, s)
	return &closingShipper{Shipper: s, address: sw.Address}, nil
}

type closingShipper struct {
	*syslog.Shipper
	address string
}

func (c *closingShipper) Close() error {
	shippers.CompareAndDelete(c.address, c.Shipper)
	return c.Shipper.Close()
}

// shippers are the open shippers by collector address, for metrics.
var shippers sync.Map

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
				sw.Facility = n
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
	shippers.Range(func(k, v any) bool {
		s := v.(*syslog.Shipper)
		addr := k.(string)
		ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.Dropped()), addr)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued()), addr)
		ch <- prometheus.MustNewConstMetric(sentDesc, prometheus.CounterValue, float64(s.Sent()), addr)
		return true
	})
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
