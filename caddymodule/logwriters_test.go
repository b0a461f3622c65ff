package caddymodule

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-waf/mamori/internal/logchain"
	"github.com/mamori-waf/mamori/internal/syslog"
)

// chainLinks parses every line of a chained file.
func chainLinks(t *testing.T, path string) []logchain.Link {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logchain.Link
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		link, err := logchain.Parse(l)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, link)
	}
	return out
}

// TestSharedFileOneChain (S6, issue 15): every user of one file writes
// through one writer and one chain, whatever their settings say; within
// one configuration the settings must agree; the newest configuration's
// settings are in force and the previous ones come back when it goes.
func TestSharedFileOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	output := &logging.FileWriter{Filename: path}
	keyA, keyB := []byte("key-A-0123456789abcdef"), []byte("key-B-0123456789abcdef")
	cfg1, cfg2 := new(int), new(int) // two configurations (reload)
	discard := caddy.DiscardWriter{}

	// Two sites of one configuration, same settings: one writer.
	a, err := openShared(output, keyA, nil, 0, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openShared(output, keyA, nil, 0, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	// A third site of that configuration with another key, or another
	// ship, is an error, not a second chain.
	for name, try := range map[string]func() (io.WriteCloser, error){
		"chain key": func() (io.WriteCloser, error) { return openShared(output, keyB, nil, 0, cfg1) },
		"no key":    func() (io.WriteCloser, error) { return openShared(output, nil, nil, 0, cfg1) },
		"ship": func() (io.WriteCloser, error) {
			return openShared(output, keyA, []caddy.WriterOpener{discard}, 0, cfg1)
		},
	} {
		w, err := try()
		var conflict *settingsConflict
		if !errors.As(err, &conflict) {
			t.Errorf("%s differs within one configuration: %v, want a settings conflict", name, err)
			if w != nil {
				w.Close()
			}
		}
	}
	var wg sync.WaitGroup
	for _, w := range []io.Writer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				fmt.Fprintf(w, "{\"n\":%d}\n", i)
			}
		}()
	}
	wg.Wait()

	// A reload with a new key: the same file, the chain goes on under it.
	c, err := openShared(output, keyB, []caddy.WriterOpener{discard}, 0, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(a, `{"old":"config, new settings"}`)
	fmt.Fprintln(c, `{"new":"config"}`)
	// The new configuration fails or goes: the old one's key is back.
	c.Close()
	fmt.Fprintln(b, `{"old":"again"}`)
	a.Close()
	b.Close()
	if n, ok := sharedFiles.References("file|" + output.WriterKey()); ok || n != 0 {
		t.Errorf("%d references left to the file", n)
	}

	// Every line, the chain's own checkpoints included (open, close at a
	// change of key, close at the end), continues one chain; the data
	// lines are sealed under the key in force when they were written.
	links := chainLinks(t, path)
	prev, data := "", 0
	for i, l := range links {
		if l.Seq != uint64(i+1) || l.Prev != prev || !(l.Valid(keyA) || l.Valid(keyB)) {
			t.Fatalf("line %d: seq %d prev %.8s: one chain expected", i, l.Seq, l.Prev)
		}
		prev = l.HMAC
		if bytes.Contains(l.Body, []byte(logchain.CheckpointLogger)) {
			continue
		}
		key := keyA
		if data == 100 || data == 101 {
			key = keyB
		}
		if !l.Valid(key) {
			t.Errorf("data line %d is not sealed under the key in force", data)
		}
		data++
	}
	if data != 103 {
		t.Fatalf("%d data lines, want 103", data)
	}
}

// TestSyslogFacility: facility 0 (kern) is kept, absent is 16 (local0);
// out of range is refused.
func TestSyslogFacility(t *testing.T) {
	for _, tc := range []struct {
		option string
		pri    string // PRI of an info line
		err    string
	}{
		{"", "<134>", ""},
		{"facility 0", "<6>", ""},
		{"facility 23", "<190>", ""},
		{"facility 24", "", "out of range"},
	} {
		t.Run(tc.option, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var sw SyslogWriter
			err = sw.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mamori_syslog tcp://" + ln.Addr().String() + " {\n" + tc.option + "\n}"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.Provision(caddy.Context{}); err != nil {
				t.Fatal(err)
			}
			w, err := sw.OpenWriter()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			fmt.Fprintln(w, `{"level":"info","logger":"mamori.access","msg":"x"}`)
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			msg, err := bufio.NewReader(conn).ReadString('>')
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(msg, tc.pri) {
				t.Errorf("message starts %q, want PRI %s", msg, tc.pri)
			}
		})
	}
}

// TestShipperSettingsAndMetrics: a changed setting is a new shipper (a
// reload applies it); two shippers to one collector add up in the metrics
// instead of overwriting each other, and a closed one's counts stay.
func TestShipperSettingsAndMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	addr := "tcp://" + ln.Addr().String()
	zero := 0
	one, two := SyslogWriter{Address: addr}, SyslogWriter{Address: addr, Facility: &zero, QueueSize: 50}
	if one.WriterKey() == two.WriterKey() {
		t.Fatalf("settings differ, writer keys do not: %s", one.WriterKey())
	}
	var ws []io.WriteCloser
	for _, sw := range []*SyslogWriter{&one, &two} {
		if err := sw.Provision(caddy.Context{}); err != nil {
			t.Fatal(err)
		}
		w, err := sw.OpenWriter()
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
		for range 3 {
			fmt.Fprintln(w, `{"level":"info","msg":"x"}`)
		}
	}
	sent := func() float64 {
		reg := prometheus.NewRegistry()
		if err := reg.Register(shipperCollector{}); err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "mamori_log_shipper_sent_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == addr {
					return m.GetCounter().GetValue()
				}
			}
		}
		return -1
	}
	// Delivered means confirmed: syslog.ConfirmAfter after the write.
	deadline := time.Now().Add(syslog.ConfirmAfter + 20*time.Second)
	for sent() < 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := sent(); got != 6 {
		t.Fatalf("sent_total %v, want 6 (3 from each shipper)", got)
	}
	ws[0].Close()
	if got := sent(); got != 6 {
		t.Errorf("sent_total %v after one shipper closed, want still 6", got)
	}
	ws[1].Close()
}

// TestServerTimeoutDefaults (V1, issue 15): a server mamori runs in gets
// mamori's timeouts where its configuration sets none, and keeps those it
// sets.
func TestServerTimeoutDefaults(t *testing.T) {
	unset := &caddyhttp.Server{}
	set := &caddyhttp.Server{ReadHeaderTimeout: caddy.Duration(time.Minute), ReadIdleTimeout: caddy.Duration(time.Hour), IdleTimeout: caddy.Duration(time.Hour)}
	for _, srv := range []*caddyhttp.Server{unset, set} {
		serverTimeouts(caddy.Context{Context: context.WithValue(context.Background(), caddyhttp.ServerCtxKey, srv)})
	}
	if unset.ReadHeaderTimeout != caddy.Duration(DefaultReadHeaderTimeout) || unset.ReadIdleTimeout != caddy.Duration(DefaultBodyTimeout) ||
		unset.ReadMinRate != DefaultBodyMinRate || unset.IdleTimeout != caddy.Duration(DefaultIdleTimeout) {
		t.Errorf("unset server got %+v", unset)
	}
	if set.ReadHeaderTimeout != caddy.Duration(time.Minute) || set.ReadIdleTimeout != caddy.Duration(time.Hour) ||
		set.ReadMinRate != 0 || set.IdleTimeout != caddy.Duration(time.Hour) {
		t.Errorf("configured server changed: %+v", set)
	}
}
