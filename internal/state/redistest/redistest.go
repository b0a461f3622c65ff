// Package redistest starts a real redis-server for tests: on a free
// loopback port, in a temporary directory, persistence off, stopped when
// the test ends. Unit tests of internal/state and the end-to-end tests
// (several mamori instances sharing one Redis) use it.
package redistest

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	// Addr is host:port.
	Addr string
	// URL is redis://Addr/0.
	URL string

	cmd    *exec.Cmd
	out    *bytes.Buffer
	mu     sync.Mutex
	done   chan struct{}
	killed bool
}

// Start runs redis-server until the test ends. It fails the test when
// redis-server is not installed (tests/setup.sh installs it): a test that
// needs Redis must not pass without one.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (run tests/setup.sh): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), out: &bytes.Buffer{}, done: make(chan struct{})}
	s.URL = "redis://" + s.Addr + "/0"
	s.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	s.cmd.Stdout, s.cmd.Stderr = s, s
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("redis-server output:\n%s", s.output())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !s.ping() {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer:\n%s", s.Addr, s.output())
		}
		select {
		case <-s.done:
			t.Fatalf("redis-server exited:\n%s", s.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s
}

// Write collects redis-server's output.
func (s *Server) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(b)
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// ping sends a RESP PING and waits for +PONG.
func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 16)
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "+PONG")
}

// Stop kills redis-server (as a crash would: no shutdown handshake) and
// waits until it is gone and its port refuses connections.
func (s *Server) Stop() {
	s.mu.Lock()
	killed := s.killed
	s.killed = true
	s.mu.Unlock()
	if !killed {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}
