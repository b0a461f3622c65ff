package request

// Differential tests (issue 10): the request view against the real
// parsers of the CMSs behind mamori, Perl's CGI.pm and CGI::Cookie (run as
// a CGI under Go's net/http/cgi host) and PHP (php -S serving a script
// that echoes what it parsed). Generated cases (fixed seed) cover
// separators, encodings, PHP's name mangling and arrays, multipart shapes
// and cookie spellings.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/tests/harness"
)

// needTool skips without the tool outside CI and fails in CI (CI=true),
// where tests/setup.sh installs it.
func needTool(t *testing.T, what string, ok bool) {
	t.Helper()
	harness.Require(t, ok, what+" is missing: install it (tests/setup.sh) to run the differential test")
}

func startCGI(t *testing.T) string {
	perl, err := exec.LookPath("perl")
	needTool(t, "perl", err == nil)
	needTool(t, "CGI.pm (Debian libcgi-pm-perl)", exec.Command(perl, "-MCGI", "-MCGI::Cookie", "-e1").Run() == nil)
	script, _ := filepath.Abs("testdata/echo.pl")
	srv := httptest.NewServer(&cgi.Handler{Path: perl, Args: []string{script}, Root: "/"})
	t.Cleanup(srv.Close)
	return srv.URL
}

func startPHP(t *testing.T) string {
	php, err := exec.LookPath("php")
	needTool(t, "php (Debian php-cli)", err == nil)
	root := t.TempDir()
	src, err := os.ReadFile("testdata/echo.php")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", "a", "a/b"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "echo.php"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(php, "-n", "-d", "variables_order=EGPCS", "-S", addr, "-t", root)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(url + "/echo.php"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("php -S did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return url
}

// gen makes generated requests from a fixed seed.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) name() string {
	parts := []string{"a", "b", "user", "pass", "x.y", "x%20y", "x+y", "x%2Ey", "x%5Fy", "a[]", "a[k]", "a[k][]", "a[", "a[b", "a]b", "%5Bx", "q[x.y]", "+lead", "x%00y", "%u0041b", "__mode", "mt_user", "XDEBUG.SESSION_START", "XDEBUG[SESSION_START", "n%zz"}
	return g.pick(parts...)
}

func (g gen) value() string {
	return g.pick("", "1", "a+b", "a%20b", "%zz", "%4", "x%3Dy", "%E6%97%A5", "v.w", "%u65E5", "a%2Bb", "q")
}

func (g gen) query(seps string) string {
	var b strings.Builder
	n := 1 + g.r.IntN(5)
	for i := range n {
		if i > 0 {
			b.WriteByte(seps[g.r.IntN(len(seps))])
		}
		b.WriteString(g.name())
		if g.r.IntN(6) > 0 {
			b.WriteByte('=')
			b.WriteString(g.value())
		}
	}
	if g.r.IntN(8) == 0 {
		b.WriteString("&")
	}
	return b.String()
}

func (g gen) cookie() string {
	names := []string{"a", "mt_user", "mt%5Fuser", "wordpress.logged.in", "x%20y", "c[k]", "c", "%41", "s+t"}
	var b strings.Builder
	n := 1 + g.r.IntN(4)
	for i := range n {
		if i > 0 {
			b.WriteString(g.pick("; ", ";", ", ", ","))
		}
		b.WriteString(g.pick(names...))
		b.WriteString("=")
		b.WriteString(g.pick("1", "v%41", "a+b", "x&y", "q", ""))
	}
	return b.String()
}

func (g gen) multipart() (ct string, body string) {
	var b strings.Builder
	n := 1 + g.r.IntN(4)
	for range n {
		b.WriteString("--BOUNDARY\r\n")
		name := g.pick("text", "user", "a.b", "a[]", "f")
		switch g.r.IntN(11) {
		case 7:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; filename=a.txt\r\n", name)
		case 8:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; FILENAME=\"a.txt\"\r\n", name)
		case 9:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name='%s'\r\n", strings.ReplaceAll(name, "[]", ""))
		case 10:
			fmt.Fprintf(&b, "Content-Disposition: form-data; filename=\"a.txt\"; name=%q\r\n", name)
		case 0:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q;filename=\"a.txt\"\r\n", name)
		case 1:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; filename=\"a.txt\"\r\n", name)
		case 2:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; filename=\"\"\r\n", name)
		case 3:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%s\r\n", strings.ReplaceAll(name, "[]", ""))
		case 4:
			fmt.Fprintf(&b, "Content-Disposition: form-data;name=%q\r\n", name)
		default:
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q\r\n", name)
		}
		fmt.Fprintf(&b, "\r\n%s\r\n", g.pick("hello", "<script>x</script>", ""))
	}
	b.WriteString("--BOUNDARY--\r\n")
	return "multipart/form-data; boundary=BOUNDARY", b.String()
}

type genCase struct {
	method, path, query, cookie, ct, body string
}

func generate(n int) []genCase {
	g := gen{rand.New(rand.NewPCG(10, 2026))}
	var out []genCase
	for i := range n {
		c := genCase{method: "GET", path: "/echo.php"}
		switch i % 4 {
		case 0:
			c.query = g.query("&;")
		case 1:
			c.cookie = g.cookie()
			c.query = g.query("&")
		case 2:
			c.method, c.ct, c.body = "POST", "application/x-www-form-urlencoded", g.query("&;")
		case 3:
			c.method = "POST"
			c.ct, c.body = g.multipart()
		}
		out = append(out, c)
	}
	return out
}

func (c genCase) request(base string) *http.Request {
	r, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	r.URL.RawQuery = c.query
	if c.cookie != "" {
		r.Header.Set("Cookie", c.cookie)
	}
	if c.ct != "" {
		r.Header.Set("Content-Type", c.ct)
	}
	return r
}

func (c genCase) view(d Dialect) *View {
	r := httptest.NewRequest(c.method, "http://x"+c.path, nil)
	r.URL.RawQuery = c.query
	if c.cookie != "" {
		r.Header.Set("Cookie", c.cookie)
	}
	v := New(r, d)
	_ = v.ReadBody(c.method, c.ct, strings.NewReader(c.body), 1<<20)
	return v
}

func fetchJSON(t *testing.T, r *http.Request, into any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
}

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

// cgiParams groups fields as CGI.pm's param list does: names in order of
// first appearance, each with its values in order.
func cgiParams(fs []Field) [][3]any {
	var order []string
	by := map[string][]Field{}
	for _, f := range fs {
		if _, ok := by[f.Name]; !ok {
			order = append(order, f.Name)
		}
		by[f.Name] = append(by[f.Name], f)
	}
	out := [][3]any{}
	for _, n := range order {
		for _, f := range by[n] {
			v, file := f.Value, 0
			if f.File {
				v, file = f.FileName, 1
			}
			out = append(out, [3]any{hx(n), hx(v), float64(file)})
		}
	}
	return out
}

func TestDifferentialCGI(t *testing.T) {
	base := startCGI(t)
	for i, c := range generate(240) {
		var got struct {
			Params  [][3]any `json:"params"`
			Cookies [][]any  `json:"cookies"`
		}
		fetchJSON(t, c.request(base), &got)
		v := c.view(CGI)
		rd := v.Readings()[0]
		fs := rd.Query
		if c.method == "POST" {
			fs = rd.Body
		}
		want := cgiParams(fs)
		if got.Params == nil {
			got.Params = [][3]any{}
		}
		if !reflect.DeepEqual(got.Params, want) {
			t.Errorf("case %d %s ?%s ct=%s body=%q:\nCGI.pm %v\nview   %v", i, c.method, c.query, c.ct, c.body, decode(got.Params), decode(want))
		}
		wantCookies := [][]any{}
		by := map[string][]any{}
		var names []string
		for _, f := range rd.Cookies {
			if _, ok := by[f.Name]; !ok {
				names = append(names, f.Name)
				by[f.Name] = []any{}
			}
			by[f.Name] = append(by[f.Name], hx(f.Value))
		}
		sort.Strings(names)
		for _, n := range names {
			vals := by[n]
			if len(vals) == 1 && vals[0] == "" {
				vals = []any{}
			}
			wantCookies = append(wantCookies, []any{hx(n), vals})
		}
		if got.Cookies == nil {
			got.Cookies = [][]any{}
		}
		if !reflect.DeepEqual(got.Cookies, wantCookies) {
			t.Errorf("case %d Cookie %q:\nCGI::Cookie %v\nview        %v", i, c.cookie, got.Cookies, wantCookies)
		}
	}
}

func decode(xs [][3]any) []string {
	var out []string
	for _, x := range xs {
		n, _ := hex.DecodeString(x[0].(string))
		v, _ := hex.DecodeString(x[1].(string))
		out = append(out, fmt.Sprintf("%q=%q/%v", n, v, x[2]))
	}
	return out
}

// phpArray is a PHP array: ordered keys, scalar or nested values.
type phpArray struct {
	keys []string
	vals map[string]any
}

func newPHPArray() *phpArray { return &phpArray{vals: map[string]any{}} }

func phpNumeric(k string) (int, bool) {
	if k == "" || (k[0] == '0' && len(k) > 1) || k == "-0" || (k[0] == '-' && len(k) > 1 && k[1] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(k)
	return n, err == nil && strconv.Itoa(n) == k
}

func (a *phpArray) next() string {
	n := 0
	for _, k := range a.keys {
		if i, ok := phpNumeric(k); ok && i+1 > n {
			n = i + 1
		}
	}
	return strconv.Itoa(n)
}

func (a *phpArray) set(k string, v any) {
	if _, ok := a.vals[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.vals[k] = v
}

func (a *phpArray) sub(k string) *phpArray {
	if k == "" {
		k = a.next()
	}
	if s, ok := a.vals[k].(*phpArray); ok {
		return s
	}
	s := newPHPArray()
	a.set(k, s)
	return s
}

// phpFlat builds PHP's array from the fields as php_register_variable_ex
// does and flattens it as echo.php does.
func phpFlat(fs []Field, cookies bool) [][]string {
	top := newPHPArray()
	for _, f := range fs {
		if f.File {
			continue
		}
		if len(f.Keys) == 0 {
			if _, ok := top.vals[f.Name]; ok && cookies {
				continue
			}
			top.set(f.Name, f.Value)
			continue
		}
		cur := top.sub(f.Name)
		for _, k := range f.Keys[:len(f.Keys)-1] {
			cur = cur.sub(k)
		}
		last := f.Keys[len(f.Keys)-1]
		if last == "" {
			last = cur.next()
		}
		cur.set(last, f.Value)
	}
	out := [][]string{}
	var walk func(a *phpArray, prefix []string)
	walk = func(a *phpArray, prefix []string) {
		for _, k := range a.keys {
			p := append(append([]string{}, prefix...), hx(k))
			if s, ok := a.vals[k].(*phpArray); ok {
				walk(s, p)
				continue
			}
			out = append(out, append(p, hx(a.vals[k].(string))))
		}
	}
	walk(top, nil)
	return out
}

func TestDifferentialPHP(t *testing.T) {
	base := startPHP(t)
	for i, c := range generate(240) {
		var got struct {
			Get, Post, Cookie [][]string
			Files             []string
		}
		fetchJSON(t, c.request(base), &got)
		rd := c.view(PHP).Readings()[0]
		want := map[string][][]string{"get": phpFlat(rd.Query, false), "post": phpFlat(rd.Body, false), "cookie": phpFlat(rd.Cookies, true)}
		for k, g := range map[string][][]string{"get": got.Get, "post": got.Post, "cookie": got.Cookie} {
			if g == nil {
				g = [][]string{}
			}
			if !reflect.DeepEqual(g, want[k]) {
				t.Errorf("case %d %s ?%s Cookie %q body %q: $_%s\nPHP  %v\nview %v", i, c.method, c.query, c.cookie, c.body, strings.ToUpper(k), unhexAll(g), unhexAll(want[k]))
			}
		}
		files := []string{}
		seen := map[string]bool{}
		for _, f := range rd.Body {
			if f.File && !seen[f.Name] {
				seen[f.Name] = true
				files = append(files, hx(f.Name))
			}
		}
		if got.Files == nil {
			got.Files = []string{}
		}
		if !reflect.DeepEqual(got.Files, files) {
			t.Errorf("case %d body %q: $_FILES %v, view %v", i, c.body, got.Files, files)
		}
	}
}

func unhexAll(xs [][]string) []string {
	var out []string
	for _, x := range xs {
		var parts []string
		for _, p := range x {
			b, _ := hex.DecodeString(p)
			parts = append(parts, strconv.Quote(string(b)))
		}
		out = append(out, strings.Join(parts, "/"))
	}
	return out
}

// TestDifferentialPathInfo: PHP's built-in server picks the script and
// PATH_INFO as SplitScript does.
func TestDifferentialPathInfo(t *testing.T) {
	base := startPHP(t)
	g := gen{rand.New(rand.NewPCG(7, 10))}
	for i := range 60 {
		p := g.pick("", "/a", "/a/b") + "/echo.php"
		for range g.r.IntN(3) {
			p += "/" + g.pick("x", "y.jpg", "z.php", "", "echo.php")
		}
		var got struct{ Script, PathInfo string }
		var raw map[string]any
		fetchJSON(t, genCase{method: "GET", path: p}.request(base), &raw)
		got.Script, _ = raw["script"].(string)
		got.PathInfo, _ = raw["path_info"].(string)
		r := httptest.NewRequest("GET", "http://x"+p, nil)
		v := New(r, PHP)
		wantInfo := v.PathInfo
		// php -S folds a PATH_INFO of "/" alone and repeated slashes.
		if got.Script != v.Script || normalizeSlashes(got.PathInfo) != normalizeSlashes(wantInfo) {
			t.Errorf("case %d %s: PHP runs %q PATH_INFO %q; view %q %q", i, p, got.Script, got.PathInfo, v.Script, v.PathInfo)
		}
	}
}

func normalizeSlashes(s string) string {
	for strings.Contains(s, "//") {
		s = strings.ReplaceAll(s, "//", "/")
	}
	return strings.TrimSuffix(s, "/")
}
