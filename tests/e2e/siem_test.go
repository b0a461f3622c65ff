package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// rsyslogConf: imtcp on two loopback ports, plain and TLS (gtls driver,
// rsyslog-gnutls), each writing what it parsed, field by field, to a file.
// The template rebuilds the RFC 5424 header from rsyslog's parsed
// properties, so a line there proves rsyslog read the message as RFC 5424.
const rsyslogConf = `global(workDirectory="DIR" maxMessageSize="64k"
  DefaultNetstreamDriverCAFile="DIR/cert.pem" DefaultNetstreamDriverCertFile="DIR/cert.pem" DefaultNetstreamDriverKeyFile="DIR/key.pem")
module(load="imtcp")
template(name="parsed" type="string" string="%protocol-version% %app-name% %procid% %msgid% %structured-data% %msg%\n")
ruleset(name="tcp") { action(type="omfile" file="DIR/tcp.log" template="parsed") }
ruleset(name="tls") { action(type="omfile" file="DIR/tls.log" template="parsed") }
input(type="imtcp" port="TCPPORT" address="127.0.0.1" ruleset="tcp")
input(type="imtcp" port="TLSPORT" address="127.0.0.1" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`

type rsyslog struct {
	dir, conf string
	tcp, tls  int
	cmd       *exec.Cmd
}

func rsyslogd(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/rsyslogd", "rsyslogd"} {
		if path, err := exec.LookPath(p); err == nil {
			if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"); err != nil {
				if matches, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(matches) == 0 {
					t.Fatal("rsyslog's TLS driver is missing: install rsyslog-gnutls (tests/setup.sh does)")
				}
			}
			return path
		}
	}
	t.Fatal("rsyslogd is not installed: run tests/setup.sh")
	return ""
}

func startRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	dir := t.TempDir()
	writeSelfSignedCert(t, dir)
	r := &rsyslog{dir: dir, tcp: harness.FreePort(t), tls: harness.FreePort(t)}
	r.conf = filepath.Join(dir, "rsyslog.conf")
	conf := strings.NewReplacer("DIR", dir, "TCPPORT", fmt.Sprint(r.tcp), "TLSPORT", fmt.Sprint(r.tls)).Replace(rsyslogConf)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *rsyslog) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(rsyslogd(t), "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	// Its complaints about the readiness probe's bare TCP connection to
	// the TLS port are noise: kept in a file, shown if the test fails.
	out, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.out"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = out, out
	t.Cleanup(func() {
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("rsyslogd output:\n%s", b)
		}
	})
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range []int{r.tcp, r.tls} {
		for {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rsyslogd did not listen on %d", port)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (r *rsyslog) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = r.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// parsedLine is one line of the collector's file.
var parsedLine = regexp.MustCompile(`^1 mamori (\d+) (mamori\.access|mamori\.events|mamori\.chain) - (\{.*\})$`)

// received reads the collector's file: transaction IDs by count, and any
// line that is not a parsed RFC 5424 message from mamori.
func (r *rsyslog) received(t *testing.T, file string) (map[string]int, []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, file))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	ids := map[string]int{}
	var bad []string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		m := parsedLine.FindStringSubmatch(strings.TrimSpace(l))
		var msg map[string]any
		if m == nil || json.Unmarshal([]byte(m[3]), &msg) != nil {
			bad = append(bad, l)
			continue
		}
		id, _ := msg["transaction.id"].(string)
		ids[id]++
	}
	return ids, bad
}

func (r *rsyslog) waitFor(t *testing.T, file string, want []string, timeout time.Duration) (map[string]int, []string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ids, bad := r.received(t, file)
		missing := 0
		for _, id := range want {
			if ids[id] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return ids, bad
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// siemCaddyfile ships access lines with the queue docs/siem.md asks for
// (ten seconds of lines: a sent line stays queued until ConfirmAfter, and
// a full queue takes its oldest sent line as delivered); the load test
// sends well over a thousand lines in ten seconds.
const siemCaddyfile = `{
	admin 127.0.0.1:{ADMIN}
	log default {
		output stderr
		level ERROR
		exclude mamori.events
	}
	log siem {
		output mamori_syslog tls://127.0.0.1:TLSPORT {
			ca_file CAFILE
		}
		include mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		access_log {
			chain_key ` + testLogKey + `
			ship mamori_syslog tcp://127.0.0.1:TCPPORT {
				queue_size 10000
			}
		}
	}
	reverse_proxy {UPSTREAM}
}
`

// TestShippingToRsyslog: access lines reach a real rsyslog over TCP and
// events over TLS, as RFC 5424 messages with octet-counting framing;
// while the collector is down requests keep being answered, and the lines
// queued meanwhile arrive once it is back.
func TestShippingToRsyslog(t *testing.T) {
	r := startRsyslog(t)
	upstream := harness.Upstream(t)
	cfg := strings.NewReplacer("TLSPORT", fmt.Sprint(r.tls), "TCPPORT", fmt.Sprint(r.tcp),
		"CAFILE", filepath.Join(r.dir, "cert.pem")).Replace(siemCaddyfile)
	m := harness.StartMamori(t, cfg, upstream)

	send := func(phase string, n int) (access, blocked []string, took []time.Duration) {
		for i := 0; i < n; i++ {
			path := fmt.Sprintf("/status/200?phase=%s&i=%d", phase, i)
			want := 200
			if i%5 == 4 {
				path = "/?q=" + url.QueryEscape("<script>alert(1)</script>")
				want = 403
			}
			req, _ := http.NewRequest("GET", m.URL+path, nil)
			req.Host = "localhost"
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: request failed: %v", phase, err)
			}
			resp.Body.Close()
			took = append(took, time.Since(start))
			if resp.StatusCode != want {
				t.Errorf("%s: %s: %d, want %d", phase, path, resp.StatusCode, want)
			}
			id := resp.Header.Get("X-Request-Id")
			access = append(access, id)
			if want == 403 {
				blocked = append(blocked, id)
			}
		}
		return access, blocked, took
	}

	access, blocked, upTook := send("up", 40)
	ids, bad := r.waitFor(t, "tcp.log", access, 15*time.Second)
	for _, id := range access {
		if ids[id] == 0 {
			t.Errorf("access line %s never reached the collector over TCP", id)
		}
	}
	events, badTLS := r.waitFor(t, "tls.log", blocked, 15*time.Second)
	for _, id := range blocked {
		if events[id] == 0 {
			t.Errorf("event %s never reached the collector over TLS", id)
		}
	}
	if len(bad)+len(badTLS) > 0 {
		t.Errorf("lines rsyslog did not parse as mamori's RFC 5424 messages:\n%s", strings.Join(append(bad, badTLS...), "\n"))
	}

	// The collector goes away; requests must not notice.
	r.stop()
	downAccess, downBlocked, downTook := send("down", 200)
	time.Sleep(time.Second) // the shipper keeps retrying meanwhile
	r.start(t)
	ids, _ = r.waitFor(t, "tcp.log", downAccess, 30*time.Second)
	events, _ = r.waitFor(t, "tls.log", downBlocked, 30*time.Second)
	lost, dups := 0, 0
	for _, id := range downAccess {
		if ids[id] == 0 {
			lost++
		}
		if ids[id] > 1 {
			dups++
		}
	}
	for _, id := range downBlocked {
		if events[id] == 0 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d lines queued while the collector was down never arrived", lost)
	}
	// The file is the system of record: every request is in it too.
	if n := len(m.ReadLines(t, "logs/access.log")); n < len(access)+len(downAccess) {
		t.Errorf("access log has %d lines, want at least %d", n, len(access)+len(downAccess))
	}
	// The shipper's metrics: everything sent, nothing dropped or waiting
	// (a line counts as sent once confirmed, 10 s after its write).
	tcp := map[string]string{"collector": fmt.Sprintf("tcp://127.0.0.1:%d", r.tcp)}
	var metrics []byte
	for deadline := time.Now().Add(40 * time.Second); ; {
		resp, err := http.Get("http://" + m.Admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if metricValue(string(metrics), "mamori_log_shipper_queued", nil) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sent := metricValue(string(metrics), "mamori_log_shipper_sent_total", tcp); sent < float64(len(access)+len(downAccess)) {
		t.Errorf("mamori_log_shipper_sent_total = %v, want at least %d", sent, len(access)+len(downAccess))
	}
	if d, q := metricValue(string(metrics), "mamori_log_shipper_dropped_total", nil), metricValue(string(metrics), "mamori_log_shipper_queued", nil); d != 0 || q != 0 {
		t.Errorf("dropped %v, queued %v; want 0 and 0", d, q)
	}
	t.Logf("latency with collector up: %s; down: %s (%d requests, %d resent twice)",
		quantiles(upTook), quantiles(downTook), len(downTook), dups)
}

func quantiles(d []time.Duration) string {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("p50 %v p90 %v max %v", q(0.5), q(0.9), q(1))
}

func writeSelfSignedCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// TestShippingSurvivesCollectorStopUnderLoad (issue 15): rsyslog is
// stopped while four clients keep sending requests, then started again;
// every access line, compared by request ID, reaches it at least once:
// lines written into the connection just before it stopped are sent again.
func TestShippingSurvivesCollectorStopUnderLoad(t *testing.T) {
	r := startRsyslog(t)
	upstream := harness.Upstream(t)
	cfg := strings.NewReplacer("TLSPORT", fmt.Sprint(r.tls), "TCPPORT", fmt.Sprint(r.tcp),
		"CAFILE", filepath.Join(r.dir, "cert.pem")).Replace(siemCaddyfile)
	m := harness.StartMamori(t, cfg, upstream)

	var mu sync.Mutex
	var ids []string
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/status/200?w=%d&i=%d", m.URL, w, i), nil)
				req.Host = "localhost"
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				resp.Body.Close()
				mu.Lock()
				ids = append(ids, resp.Header.Get("X-Request-Id"))
				mu.Unlock()
			}
		}()
	}
	waitCount := func(n int) {
		for deadline := time.Now().Add(60 * time.Second); count() < n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitCount(200)
	r.stop() // under load
	waitCount(count() + 200)
	r.start(t)
	waitCount(count() + 200)
	close(stop)
	wg.Wait()

	got, _ := r.waitFor(t, "tcp.log", ids, 60*time.Second)
	var lost []string
	dups := 0
	for _, id := range ids {
		switch {
		case got[id] == 0:
			lost = append(lost, id)
		case got[id] > 1:
			dups++
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d access lines never reached the collector: %v", len(lost), len(ids), lost)
	}
	t.Logf("%d requests, %d lines delivered twice", len(ids), dups)
}
