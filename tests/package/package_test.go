// Package pkgtest installs mamori's Debian package (make package) on this
// machine and runs what it installed: the unit is checked with
// systemd-analyze, and the packaged binary runs with the unit's command,
// environment and user and the packaged Caddyfile in front of the test
// upstream. `dpkg --purge` leaves the machine as found, also on failure.
// It needs root (CI runs as root); elsewhere it is skipped, unless $CI is
// set, where not being root fails.
package pkgtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

const unitPath = "/lib/systemd/system/mamori.service"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// debFile is $MAMORI_DEB (make test builds it), else `make package`'s.
func debFile(t *testing.T) string {
	if p := os.Getenv("MAMORI_DEB"); p != "" {
		return p
	}
	cmd := exec.Command("make", "package")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make package: %v\n%s", err, out)
	}
	return filepath.Join(repoRoot(), "bin", "mamori_amd64.deb")
}

func installed() bool {
	return exec.Command("dpkg-query", "-W", "-f=${Status}", "mamori").Run() == nil
}

// TestDebianPackage: dpkg -i, the files and owners, systemd-analyze verify
// and security, the packaged service answering and blocking, dpkg --purge.
func TestDebianPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the package test installs a .deb: it must run as root in CI")
		}
		t.Skip("installs a Debian package: run as root")
	}
	deb := debFile(t)
	if installed() {
		t.Fatal("a mamori package is already installed here: not touching it")
	}
	if _, err := user.Lookup("mamori"); err == nil {
		t.Fatal("a user mamori exists already: not touching it")
	}
	// A mamori run as root elsewhere (e.g. `mamori validate` of a config
	// logging to /var/log/mamori) may have left these: moved aside while
	// the package is installed, put back after the purge.
	for _, p := range []string{"/etc/mamori", "/var/log/mamori", "/var/lib/mamori"} {
		moveAside(t, p)
	}
	t.Cleanup(func() {
		if installed() {
			if out, err := exec.Command("dpkg", "--purge", "mamori").CombinedOutput(); err != nil {
				t.Errorf("dpkg --purge mamori: %v\n%s", err, out)
			}
		}
	})
	run(t, "dpkg", "-i", deb)

	t.Run("files", func(t *testing.T) { checkFiles(t) })
	t.Run("systemd-analyze", func(t *testing.T) { checkUnit(t) })
	t.Run("service", func(t *testing.T) { runService(t) })

	run(t, "dpkg", "--purge", "mamori")
	if _, err := user.Lookup("mamori"); err == nil {
		t.Error("user mamori left after purge")
	}
	for _, p := range []string{"/etc/mamori", "/var/log/mamori", "/var/lib/mamori", "/usr/bin/mamori", unitPath} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after purge", p)
		}
	}
}

// moveAside renames path, if it exists, to a fresh name beside it until
// the test ends.
func moveAside(t *testing.T, path string) {
	if _, err := os.Lstat(path); err != nil {
		return
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), filepath.Base(path)+".pkgtest-")
	if err != nil {
		t.Fatal(err)
	}
	aside := filepath.Join(tmp, filepath.Base(path))
	if err := os.Rename(path, aside); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s existed: moved aside to %s during the test", path, aside)
	t.Cleanup(func() {
		if _, err := os.Lstat(path); err == nil {
			// Made again meanwhile (another test's mamori running as root):
			// put back what was there before beside what is there now.
			entries, _ := os.ReadDir(aside)
			for _, e := range entries {
				if _, err := os.Lstat(filepath.Join(path, e.Name())); err == nil {
					continue
				}
				if err := os.Rename(filepath.Join(aside, e.Name()), filepath.Join(path, e.Name())); err != nil {
					t.Errorf("putting %s back: %v", e.Name(), err)
				}
			}
			os.RemoveAll(tmp)
			return
		}
		if err := os.Rename(aside, path); err != nil {
			t.Errorf("putting %s back: %v", path, err)
			return
		}
		os.Remove(tmp)
	})
}

func checkFiles(t *testing.T) {
	u, err := user.Lookup("mamori")
	if err != nil {
		t.Fatalf("no user mamori: %v", err)
	}
	if shell := strings.TrimSpace(run(t, "getent", "passwd", "mamori")); !strings.HasSuffix(shell, ":/usr/sbin/nologin") {
		t.Errorf("mamori's passwd entry %q: want the nologin shell", shell)
	}
	uid, _ := strconv.Atoi(u.Uid)
	for _, tc := range []struct {
		path string
		uid  int
		mode os.FileMode
	}{
		{"/usr/bin/mamori", 0, 0o755},
		{unitPath, 0, 0o644},
		{"/etc/mamori/Caddyfile", 0, 0o644},
		{"/etc/mamori/mamori.env", 0, 0o640},
		{"/var/log/mamori", uid, 0o750 | os.ModeDir},
		{"/var/lib/mamori", uid, 0o750 | os.ModeDir},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if got := int(fi.Sys().(*syscall.Stat_t).Uid); got != tc.uid || fi.Mode() != tc.mode {
			t.Errorf("%s: owner %d mode %v, want %d %v", tc.path, got, fi.Mode(), tc.uid, tc.mode)
		}
	}
	if conf := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "mamori"); !strings.Contains(conf, "/etc/mamori/Caddyfile") {
		t.Errorf("/etc/mamori/Caddyfile is not a conffile: %q", conf)
	}
	if files := run(t, "dpkg", "-L", "mamori"); strings.Contains(files, "logrotate") {
		t.Errorf("the package ships a logrotate file (mamori rolls its own logs):\n%s", files)
	}
	// The packaged binary is static.
	if out, _ := exec.Command("ldd", "/usr/bin/mamori").CombinedOutput(); !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("/usr/bin/mamori is not static: ldd says %s", out)
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for mamori\.service: ([0-9.]+) (\S+)`)

func checkUnit(t *testing.T) {
	if out, err := exec.Command("systemd-analyze", "verify", unitPath).CombinedOutput(); err != nil || strings.Contains(string(out), "mamori.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, _ := exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", unitPath).CombinedOutput()
	m := exposure.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no exposure level in systemd-analyze security's output:\n%s", out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("systemd-analyze security --offline=yes: exposure %s %s", m[1], m[2])
	// 2.0 is well inside systemd's "OK" band; a weakened unit fails here.
	if score > 2.0 {
		t.Errorf("exposure level %s %s, want 2.0 or less:\n%s", m[1], m[2], out)
	}
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=mamori", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
		"ProtectSystem=strict", "ReadWritePaths=/var/log/mamori /var/lib/mamori", "NoNewPrivileges=yes", "Restart=on-failure",
		"ExecReload=/usr/bin/mamori reload "} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit has no %q", want)
		}
	}
}

// unitService reads the [Service] section's single-valued settings and
// its Environment= assignments.
func unitService(t *testing.T) (settings map[string]string, env []string) {
	f, err := os.Open(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings = map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Service]" {
			continue
		}
		if k == "Environment" {
			env = append(env, strings.Fields(v)...)
		}
		settings[k] = v
	}
	return settings, env
}

// runService runs ExecStart as the unit's user with the unit's
// environment and a copy of the packaged Caddyfile whose listen port,
// admin port and upstream are this test's.
func runService(t *testing.T) {
	settings, env := unitService(t)
	u, err := user.Lookup(settings["User"])
	if err != nil {
		t.Fatalf("the unit's user %q: %v", settings["User"], err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	upstream := harness.Upstream(t)
	port, admin := harness.FreePort(t), harness.FreePort(t)
	packaged, err := os.ReadFile("/etc/mamori/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(packaged)
	for old, new := range map[string]string{
		"admin localhost:2019":         fmt.Sprintf("admin localhost:%d", admin),
		"\n:80 {":                      fmt.Sprintf("\nhttp://127.0.0.1:%d {", port),
		"reverse_proxy 127.0.0.1:8080": "reverse_proxy " + upstream,
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the packaged Caddyfile has no %q", old)
		}
		cfg = strings.Replace(cfg, old, new, 1)
	}
	// Not t.TempDir: its parent is private to root, and mamori reads the copy.
	dir, err := os.MkdirTemp("", "mamori-pkgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	command := func(setting string) *exec.Cmd {
		args := strings.Fields(strings.ReplaceAll(settings[setting], "/etc/mamori/Caddyfile", conf))
		if len(args) == 0 {
			t.Fatalf("the unit has no %s", setting)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		return cmd
	}

	if out, err := command("ExecStartPre").CombinedOutput(); err != nil {
		t.Fatalf("ExecStartPre: %v\n%s", err, out)
	}
	svc := command("ExecStart")
	out := &lockedBuffer{}
	svc.Stdout, svc.Stderr = out, out
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = svc.Process.Kill()
		_, _ = svc.Process.Wait()
		if t.Failed() {
			t.Logf("mamori output:\n%s", out.String())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUp(t, base+"/.well-known/mamori/health", out)

	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, body := get("/.well-known/mamori/health"); resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("health: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/status/200"); resp.StatusCode != 200 {
		t.Errorf("a plain request through the packaged service: %d %s", resp.StatusCode, body)
	}
	resp, body := get("/?q=" + url.QueryEscape("<script>alert(1)</script>"))
	incident := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 403 || incident == "" || !strings.Contains(body, incident) {
		t.Errorf("an attack through the packaged service: %d, X-Request-Id %q, body:\n%s", resp.StatusCode, incident, body)
	}

	// mamori, as its own user, writes its logs in the packaged directory.
	for _, name := range []string{"access.log", "events.log"} {
		path := filepath.Join("/var/log/mamori", name)
		var b []byte
		for i := 0; i < 100; i++ { // the log may be written just after the answer
			if b, _ = os.ReadFile(path); strings.Contains(string(b), incident) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(string(b), incident) {
			t.Errorf("%s has no line with incident %s:\n%s", path, incident, b)
		}
		if fi, err := os.Stat(path); err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
			t.Errorf("%s is not owned by mamori", path)
		}
	}

	// ExecReload (mamori reload through the admin API) applies the file.
	if out, err := command("ExecReload").CombinedOutput(); err != nil {
		t.Errorf("ExecReload: %v\n%s", err, out)
	}
	if resp, _ := get("/status/200"); resp.StatusCode != 200 {
		t.Errorf("after reload: %d", resp.StatusCode)
	}
	// `mamori health` (the container's HEALTHCHECK): 0 while the WAF is
	// loaded, non-zero where nothing healthy answers.
	if out, err := exec.Command("/usr/bin/mamori", "health", "--url", base+"/.well-known/mamori/health").CombinedOutput(); err != nil {
		t.Errorf("mamori health against the running service: %v\n%s", err, out)
	}
	if err := exec.Command("/usr/bin/mamori", "health", "--url", base+"/status/503").Run(); err == nil {
		t.Error("mamori health succeeded on a 503")
	}
}

func waitUp(t *testing.T, u string, out *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the packaged mamori did not answer on %s\n%s", u, out.String())
}
