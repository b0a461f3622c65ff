// Package harness starts the real processes of mamori's end-to-end tests:
// the built mamori binary with a Caddyfile, and the upstream test server.
//
// Secrets scan (S8): a test that sends a password, cookie or token through
// mamori registers it with Secret; RunAndScan (the e2e package's TestMain)
// scans every mamori's logs and output for all of them after the suite
// and fails the run on a hit. See secrets.go.
package harness

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// repoRoot is the module root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binaries returns the paths of the mamori and upstream binaries: those
// named by $MAMORI_BIN and $UPSTREAM_BIN (the Makefile builds them once),
// else built here, once per test binary.
func Binaries(t testing.TB) (mamori, upstream string) {
	t.Helper()
	mamori, upstream = os.Getenv("MAMORI_BIN"), os.Getenv("UPSTREAM_BIN")
	if mamori != "" && upstream != "" {
		return mamori, upstream
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "mamori-e2e-bin")
		if buildErr != nil {
			return
		}
		for name, pkg := range map[string]string{"mamori": "./cmd/mamori", "upstream": "./tests/upstream"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg)
			cmd.Dir = repoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "mamori"), filepath.Join(binDir, "upstream")
}

// Run runs a package's tests, then removes the binaries Binaries built
// for them (when $MAMORI_BIN and $UPSTREAM_BIN were not set): a package
// whose tests start mamori calls it from TestMain (or RunAndScan), so that
// no build of 120 MB stays in the temporary directory.
func Run(m *testing.M) int {
	defer removeBinaries()
	return m.Run()
}

func removeBinaries() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a started child process.
type Process struct {
	Cmd    *exec.Cmd
	Output *bytes.Buffer
	mu     sync.Mutex
}

// Start runs a binary until the test ends, capturing its output.
func Start(t testing.TB, dir, bin string, args ...string) *Process {
	t.Helper()
	return StartEnv(t, dir, nil, bin, args...)
}

// StartEnv is Start with more environment variables ("NAME=value").
func StartEnv(t testing.TB, dir string, env []string, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Output: &bytes.Buffer{}}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Dir = dir
	p.Cmd.Env = append(os.Environ(), SandboxEnv(dir)...)
	if dir != "" {
		// A killed process's temporary files (Coraza's multipart parts,
		// crzmp*) go with the test's directory instead of staying in /tmp.
		p.Cmd.Env = append(p.Cmd.Env, "TMPDIR="+dir)
	}
	p.Cmd.Env = append(p.Cmd.Env, env...)
	w := &lockedWriter{p: p}
	p.Cmd.Stdout, p.Cmd.Stderr = w, w
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		_, _ = p.Cmd.Process.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.String())
		}
	})
	return p
}

// SandboxEnv keeps a process's files in dir: Caddy's data directory (the
// seal key) and configuration directory (autosave.json), and mamori's
// default log directory. A test never writes in the machine's own
// directories (issue 15); later entries of an environment win, so a test
// may still name its own MAMORI_LOG_DIR.
func SandboxEnv(dir string) []string {
	return []string{
		"XDG_DATA_HOME=" + filepath.Join(dir, ".local", "share"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"),
		"MAMORI_LOG_DIR=" + filepath.Join(dir, "logs"),
	}
}

// Sandbox points this test process's environment, and so every command
// it runs, at SandboxEnv of a fresh temporary directory, and returns the
// function that removes it. TestMain calls it before m.Run.
func Sandbox() (func(), error) {
	dir, err := os.MkdirTemp("", "mamori-test-home")
	if err != nil {
		return nil, err
	}
	for _, kv := range SandboxEnv(dir) {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
	}
	return func() { os.RemoveAll(dir) }, nil
}

// String is the process's output so far.
func (p *Process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Output.String()
}

type lockedWriter struct{ p *Process }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.Output.Write(b)
}

// WaitHTTP waits until url answers (any status, a redirect included) or
// fails the test.
func WaitHTTP(t testing.TB, url string, p *Process) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if p != nil && p.Cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := ""
	if p != nil {
		out = p.String()
	}
	t.Fatalf("%s did not answer in time\n%s", url, out)
}

// Upstream starts the upstream test server and returns its address.
func Upstream(t testing.TB) string {
	t.Helper()
	_, bin := Binaries(t)
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	p := Start(t, t.TempDir(), bin, "-listen", addr)
	WaitHTTP(t, "http://"+addr+"/status/200", p)
	return addr
}

// Mamori is a running mamori.
type Mamori struct {
	// URL is the site's base URL, http://127.0.0.1:PORT.
	URL string
	// Dir holds the Caddyfile and the log files.
	Dir string
	// Proc is the process.
	Proc *Process
	// Caddyfile is the configuration file's path.
	Caddyfile string
	// Admin is the admin API's address, if the Caddyfile enables it with
	// {ADMIN}.
	Admin string
	// LogDir is $MAMORI_LOG_DIR of the process, {DIR}/logs: mamori's
	// default access log is LogDir/access.log.
	LogDir string
}

// StartMamori writes caddyfile (with {PORT}, {ADMIN} (a free port for the
// admin API), {UPSTREAM} and {DIR} replaced) and runs `mamori run` on it,
// with $MAMORI_LOG_DIR set to {DIR}/logs. When the test ends, its log
// files and output are kept for the secrets scan (see RunAndScan).
func StartMamori(t testing.TB, caddyfile, upstream string) *Mamori {
	t.Helper()
	return StartMamoriEnv(t, caddyfile, upstream, nil)
}

// StartMamoriEnv is StartMamori with more environment variables.
func StartMamoriEnv(t testing.TB, caddyfile, upstream string, env []string) *Mamori {
	t.Helper()
	bin, _ := Binaries(t)
	dir := t.TempDir()
	var p *Process
	t.Cleanup(func() { keepLogs(t, dir, p) }) // runs after the process is stopped
	port, admin := FreePort(t), FreePort(t)
	r := strings.NewReplacer("{PORT}", fmt.Sprint(port), "{ADMIN}", fmt.Sprint(admin), "{UPSTREAM}", upstream, "{DIR}", dir)
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(r.Replace(caddyfile)), 0o600); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "logs")
	p = StartEnv(t, dir, append([]string{"MAMORI_LOG_DIR=" + logDir}, env...), bin, "run", "--config", path, "--adapter", "caddyfile")
	m := &Mamori{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Admin: fmt.Sprintf("127.0.0.1:%d", admin), Dir: dir, Proc: p, Caddyfile: path, LogDir: logDir}
	WaitHTTP(t, m.URL+"/status/200", p)
	return m
}

// ReadLines returns the non-empty lines of a file in the mamori's dir.
func (m *Mamori) ReadLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.Dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// Require skips the test when ok is false, with why, except in CI
// (CI=true), where tests/setup.sh provides what the test needs and a
// missing part is a failure, not a silent skip.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
