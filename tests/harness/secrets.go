package harness

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The secrets scan (S8): every test that sends a password, a session
// cookie or a token through mamori registers it with Secret; every
// mamori's log files and output are kept when its test ends; after the
// whole suite, RunAndScan looks for every registered secret in all of
// them and fails the run on a hit. To use it in a test package:
//
//	func TestMain(m *testing.M) { os.Exit(harness.RunAndScan(m)) }
//
// and in a test, before sending it:
//
//	harness.Secret("Nelson-1999!", sessionCookieValue)
//
// A secret is searched as is, URL-encoded (query and path forms) and in
// base64 (Basic authorization). Register values at least 8 characters long
// and unlikely to appear by chance.

var (
	secretsMu sync.Mutex
	secrets   = map[string]bool{
		// The fake CMS's accounts (tests/upstream/cms.go).
		"Nelson-1999!": true, "correct-Horse-42": true,
	}
	archiveDir string // "" unless RunAndScan runs the suite
	archiveN   int
)

// Secret registers values that must never appear in any log.
func Secret(values ...string) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, v := range values {
		if len(v) >= 6 {
			secrets[v] = true
		}
	}
}

// keepLogs copies a mamori's log files and output into the archive.
func keepLogs(t testing.TB, dir string, p *Process) {
	secretsMu.Lock()
	root := archiveDir
	archiveN++
	n := archiveN
	secretsMu.Unlock()
	if root == "" {
		return
	}
	dst := filepath.Join(root, fmt.Sprintf("%04d-%s", n, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())))
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Error(err)
		return
	}
	if p != nil {
		_ = os.WriteFile(filepath.Join(dst, "process-output.txt"), []byte(p.String()), 0o600)
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".log") && !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		if err == nil {
			_ = os.WriteFile(filepath.Join(dst, strings.ReplaceAll(rel, string(filepath.Separator), "_")), b, 0o600)
		}
		return nil
	})
}

// RunAndScan runs the test suite, then scans every kept log for every
// registered secret. It returns the exit code for os.Exit: the suite's,
// or 1 on a hit, listing each hit with its file and line.
func RunAndScan(m *testing.M) int {
	defer removeBinaries()
	cleanup, err := Sandbox()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	dir, err := os.MkdirTemp("", "mamori-e2e-logs")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	secretsMu.Lock()
	archiveDir = dir
	secretsMu.Unlock()
	code := m.Run()
	hits, files, err := ScanDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "secrets scan:", err)
		return 1
	}
	if len(hits) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: secrets scan (S8): %d secret(s) found in the logs kept in %s:\n", len(hits), dir)
		for _, h := range hits {
			fmt.Fprintln(os.Stderr, "  "+h)
		}
		return 1
	}
	fmt.Printf("secrets scan (S8): %d registered secrets, %d log files, no hit\n", len(Secrets()), files)
	os.RemoveAll(dir)
	return code
}

// Secrets lists the registered secrets.
func Secrets() []string {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	out := make([]string, 0, len(secrets))
	for s := range secrets {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// forms are the ways a secret can be written into a log.
func forms(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s))}
	sort.Strings(out)
	return compact(out)
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// ScanDir looks for the registered secrets in every file under dir
// (gzip-compressed ones decompressed) and returns the hits as
// "file:line: secret" and the number of files read.
func ScanDir(dir string) ([]string, int, error) {
	var needles []string
	for _, s := range Secrets() {
		needles = append(needles, forms(s)...)
	}
	var hits []string
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".gz") {
			z, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if b, err = io.ReadAll(z); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		files++
		for i, line := range strings.Split(string(b), "\n") {
			for _, n := range needles {
				if strings.Contains(line, n) {
					rel, _ := filepath.Rel(dir, path)
					hits = append(hits, fmt.Sprintf("%s:%d: %q", rel, i+1, n))
				}
			}
		}
		return nil
	})
	return hits, files, err
}
