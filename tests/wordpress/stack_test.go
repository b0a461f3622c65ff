package wordpress

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// The Debian packages the test runs (tests/wordpress/setup.sh installs them).
const (
	wpSource = "/usr/share/wordpress"
	wpTheme  = "twentytwentyone"
)

// requirePackages skips the test when the packages are missing outside CI
// and fails it in CI, where setup.sh must have installed them.
func requirePackages(t *testing.T) (chromium string) {
	t.Helper()
	var missing []string
	for _, f := range []string{wpSource + "/wp-settings.php", wpSource + "/wp-content/themes/" + wpTheme + "/style.css"} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	for _, bin := range []string{"php", "mariadbd", "mariadb-install-db", "mariadb", "chromium"} {
		if _, err := lookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if out, err := exec.Command("php", "-m").Output(); err == nil && !strings.Contains(strings.ToLower(string(out)), "\nmysqli\n") {
		missing = append(missing, "php-mysql")
	}
	if len(missing) > 0 {
		harness.Require(t, false, fmt.Sprintf("missing %v: run tests/wordpress/setup.sh (make e2e-wordpress does)", missing))
	}
	p, _ := lookPath("chromium")
	return p
}

// lookPath finds a binary on $PATH or in the sbin directories, where
// Debian puts mariadbd and which a non-root $PATH may lack.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// artifacts is the directory kept when the test fails: screenshots,
// mamori's logs, PHP's error log, MariaDB's log, the probe's log. It is
// $MAMORI_WP_ARTIFACTS when set (kept always), else a fresh temporary
// directory removed when the test passes.
func artifacts(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MAMORI_WP_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("artifacts in %s", d)
		return d
	}
	d, err := os.MkdirTemp("", "mamori-wordpress-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept the screenshots, mamori's logs, PHP's error log and MariaDB's log in %s", d)
			return
		}
		_ = os.RemoveAll(d)
	})
	return d
}

// startMariaDB runs the test's own MariaDB on a unix socket in dir (no
// TCP listener), with its own data directory, and creates the database.
func startMariaDB(t *testing.T, dir, logDir string) (socket string) {
	t.Helper()
	install, _ := lookPath("mariadb-install-db")
	server, _ := lookPath("mariadbd")
	client, _ := lookPath("mariadb")
	data := filepath.Join(dir, "data")
	socket = filepath.Join(dir, "mysql.sock")
	user := []string{}
	if os.Getuid() == 0 {
		user = []string{"--user=root"} // mariadbd refuses root without it
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}, user...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	args = append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + socket, "--skip-networking",
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"), "--log-error=" + filepath.Join(logDir, "mariadb.log"),
		"--innodb-buffer-pool-size=64M", "--skip-log-bin", "--character-set-server=utf8mb4"}, user...)
	p := harness.Start(t, dir, server, args...)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := exec.Command(client, "--no-defaults", "--socket="+socket, "-uroot", "-e", "CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4").Run()
		if err == nil {
			return socket
		}
		if time.Now().After(deadline) || p.Cmd.ProcessState != nil {
			log, _ := os.ReadFile(filepath.Join(logDir, "mariadb.log"))
			t.Fatalf("MariaDB did not start: %v\n%s\n%s", err, p.String(), log)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// wordpressRoot copies Debian's WordPress into a docroot of the test's
// own (Debian's wp-config.php reads /etc/wordpress; the theme editor and
// uploads write into wp-content) and writes a wp-config.php for the
// test's database, with a must-use plugin (the probe) that records what
// WordPress received: the request ID mamori sent, the user WordPress
// recognised and whether any cookie still carried a sealed value.
func wordpressRoot(t *testing.T, dir, socket, logDir string) string {
	t.Helper()
	root := filepath.Join(dir, "wordpress")
	if out, err := exec.Command("cp", "-rL", wpSource, root).CombinedOutput(); err != nil {
		t.Fatalf("copy WordPress: %v\n%s", err, out)
	}
	_ = os.Remove(filepath.Join(root, ".htaccess"))
	var keys strings.Builder
	for _, k := range []string{"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"} {
		fmt.Fprintf(&keys, "define('%s', '%s');\n", k, randomHex(32))
	}
	config := `<?php
// Written by mamori's WordPress end-to-end test.
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:` + socket + `');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
` + keys.String() + `$table_prefix = 'wp_';
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', '` + filepath.Join(logDir, "php-error.log") + `');
define('WP_DEBUG_DISPLAY', false);
// No Internet in CI: no update checks, no calls out (loopback stays open).
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');
define('MAMORI_PROBE_LOG', '` + filepath.Join(logDir, "probe.log") + `');
if (!defined('ABSPATH')) {
	define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
`
	probe := `<?php
// mamori's WordPress end-to-end test: one JSON line per request with what
// WordPress received (the request ID mamori added, the user it recognised,
// the cookies whose value is still sealed) and what it answered.
add_action('shutdown', function () {
	$sealed = array();
	foreach ($_COOKIE as $name => $value) {
		if (is_string($value) && strncmp($value, 'm1.', 3) === 0) {
			$sealed[] = $name;
		}
	}
	$user = '';
	if (function_exists('wp_get_current_user') && wp_get_current_user()->exists()) {
		$user = wp_get_current_user()->user_login;
	}
	$line = array(
		'id' => isset($_SERVER['HTTP_X_REQUEST_ID']) ? $_SERVER['HTTP_X_REQUEST_ID'] : '',
		'method' => $_SERVER['REQUEST_METHOD'],
		'uri' => $_SERVER['REQUEST_URI'],
		'user' => $user,
		'cookies' => array_keys($_COOKIE),
		'sealed' => $sealed,
		'status' => http_response_code(),
	);
	file_put_contents(MAMORI_PROBE_LOG, json_encode($line) . "\n", FILE_APPEND | LOCK_EX);
});
`
	if err := os.WriteFile(filepath.Join(root, "wp-config.php"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	mu := filepath.Join(root, "wp-content", "mu-plugins")
	if err := os.MkdirAll(mu, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mu, "mamori-probe.php"), []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startPHP serves the docroot with PHP's built-in server on a loopback
// port, several workers (the block editor loads in parallel), errors to
// logDir/php-error.log. php -S runs no rewrites: the site keeps plain
// permalinks and the editor reaches REST at ?rest_route=.
func startPHP(t *testing.T, root, logDir string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	aliases := filepath.Join(logDir, "hostaliases")
	if err := os.WriteFile(aliases, []byte(siteHost+" localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(logDir, "php-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("php",
		"-d", "log_errors=On", "-d", "error_log="+filepath.Join(logDir, "php-error.log"), "-d", "display_errors=Off",
		"-d", "memory_limit=256M", "-d", "upload_max_filesize=16M", "-d", "post_max_size=16M", "-d", "max_execution_time=120",
		"-q", "-S", addr, "-t", root) // -q: no line per request
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PHP_CLI_SERVER_WORKERS=4", "HOSTALIASES="+aliases)
	cmd.Stdout, cmd.Stderr = out, out
	// The workers are children of the first php: a process group of their
	// own, killed whole, so that none outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		out.Close()
	})
	harness.WaitHTTP(t, "http://"+addr+"/wp-includes/css/buttons.css", nil)
	return addr
}

// mamoriCaddyfile is the site: WordPress behind mamori with the profile
// and the defaults; admin screens from loopback only. INSTALLER is where
// the installer is let through while WordPress is installed.
const mamoriCaddyfile = `{
	admin 127.0.0.1:{ADMIN}
	log default {
		output stderr
		level ERROR
		exclude mamori.events
	}
	log events {
		output file {DIR}/events.log
		include mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		mode MODE
		profile wordpress
		admin_allow 127.0.0.1/32
		INSTALLER
	}
	reverse_proxy {UPSTREAM}
}
`

func startMamori(t *testing.T, mode, upstream, logDir string) *harness.Mamori {
	t.Helper()
	m := harness.StartMamori(t, strings.NewReplacer("MODE", mode, "INSTALLER", "").Replace(mamoriCaddyfile), upstream)
	// Registered after the process's cleanup: runs first, while the logs
	// are still there.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, f := range []string{filepath.Join(m.Dir, "events.log"), filepath.Join(m.LogDir, "access.log")} {
			if b, err := os.ReadFile(f); err == nil {
				_ = os.WriteFile(filepath.Join(logDir, "mamori-"+mode+"-"+filepath.Base(f)), b, 0o644)
			}
		}
		_ = os.WriteFile(filepath.Join(logDir, "mamori-"+mode+"-output.log"), []byte(m.Proc.String()), 0o644)
	})
	return m
}

// siteHost is the site's host name. A real site has a name: a numeric Host
// is an anomaly to CRS (920350), and "localhost" in a URL parameter or in
// WordPress's own User-Agent for its loopback calls looks like SSRF. The
// browser maps the name to 127.0.0.1 (--host-resolver-rules), the Go
// clients dial 127.0.0.1, and PHP resolves it through $HOSTALIASES.
const siteHost = "wpsite"

// site is the site's URL as its users know it: http://wpsite:PORT.
func site(m *harness.Mamori) string {
	return strings.Replace(m.URL, "//127.0.0.1:", "//"+siteHost+":", 1)
}

// installerAllowed lets the installer through mamori (from admin_allow
// networks): the path guard refuses it by default.
const installerAllowed = "paths {\n\t\t\tallow /wp-admin/install.php\n\t\t}"

// installWordPress runs WordPress's installer through mamori from an
// allowed network (loopback), as an administrator would: the installer is
// allowed for the install by a reload, and closed again by another.
func installWordPress(t *testing.T, m *harness.Mamori, user, password string) {
	t.Helper()
	reload(t, m, "\t\t\n\t}", "\t\t"+installerAllowed+"\n\t}")
	defer reload(t, m, "\t\t"+installerAllowed+"\n\t}", "\t\t\n\t}")
	base := site(m)
	c := client("127.0.0.1")
	resp, err := c.Get(base + "/wp-admin/install.php")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "weblog_title") {
		t.Fatalf("install.php through mamori: %d %.300s", resp.StatusCode, b)
	}
	form := url.Values{
		"weblog_title": {"mamori テスト"}, "user_name": {user}, "admin_password": {password}, "admin_password2": {password},
		"admin_email": {"editor@example.com"}, "blog_public": {"0"}, "Submit": {"Install WordPress"}, "language": {""},
	}
	req, _ := http.NewRequest("POST", base+"/wp-admin/install.php?step=2", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Referer", base+"/wp-admin/install.php")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Success!") {
		t.Fatalf("install through mamori: %d %.500s", resp.StatusCode, b)
	}
}

// reload rewrites the running mamori's Caddyfile and reloads it.
func reload(t *testing.T, m *harness.Mamori, old, new string) {
	t.Helper()
	bin, _ := harness.Binaries(t)
	b, err := os.ReadFile(m.Caddyfile)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("Caddyfile lacks %q (%v)", old, err)
	}
	if err := os.WriteFile(m.Caddyfile, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "reload", "--config", m.Caddyfile, "--adapter", "caddyfile", "--address", m.Admin).CombinedOutput(); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
}

// accessLine is the part of mamori's access-log line the test reads.
type accessLine struct {
	ID             string `json:"transaction.id"`
	Method         string `json:"http.request.method"`
	URL            string `json:"url.original"`
	Status         int    `json:"http.response.status_code"`
	Verdict        string `json:"mamori.verdict"`
	Guard          string `json:"mamori.guard"`
	Rule           string `json:"rule.id"`
	UpstreamStatus *int   `json:"mamori.upstream.status_code"`
}

// eventLine is the part of a security event the test reads.
type eventLine struct {
	ID      string `json:"transaction.id"`
	Action  string `json:"event.action"`
	Verdict string `json:"mamori.verdict"`
	Rule    string `json:"rule.id"`
	Name    string `json:"rule.name"`
	URL     string `json:"url.original"`
}

// probeLine is what the probe plugin recorded for a request.
type probeLine struct {
	ID      string   `json:"id"`
	Method  string   `json:"method"`
	URI     string   `json:"uri"`
	User    string   `json:"user"`
	Cookies []string `json:"cookies"`
	Sealed  []string `json:"sealed"`
	Status  int      `json:"status"`
}

func readJSONLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v: %.200s", path, err, sc.Text())
		}
		out = append(out, v)
	}
	return out
}
