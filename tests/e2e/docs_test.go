package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// snippet is a fenced code block of a Markdown file.
type snippet struct {
	file string
	line int
	lang string
	text string
}

// fencedBlocks returns the fenced code blocks of a Markdown file.
func fencedBlocks(t *testing.T, path string) []snippet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []snippet
	var cur *snippet
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &snippet{file: path, line: n, lang: strings.TrimPrefix(trimmed, "```")}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unclosed code block", path, cur.line)
	}
	return out
}

// docFiles are README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, files...)
}

// TestDocSnippets: every ```caddyfile block of README.md and docs/*.md is a
// complete configuration that `mamori validate` accepts as pasted and that
// `mamori fmt` leaves unchanged. Log files under /var/log/mamori (which the
// package creates) are moved to a temporary directory, since validating
// opens them.
func TestDocSnippets(t *testing.T) {
	bin, _ := harness.Binaries(t)
	dir := t.TempDir()
	count := 0
	for _, file := range docFiles(t) {
		for _, s := range fencedBlocks(t, file) {
			if s.lang != "caddyfile" {
				continue
			}
			count++
			name := filepath.Base(file) + ":" + strconv.Itoa(s.line)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(dir, "Caddyfile")
				if err := os.WriteFile(path, []byte(s.text), 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(bin, "fmt", path).Output()
				if err != nil || string(out) != s.text {
					t.Errorf("%s: not as `mamori fmt` writes it (%v):\n%s", name, err, out)
				}
				moved := strings.ReplaceAll(s.text, "/var/log/mamori", dir)
				if err := os.WriteFile(path, []byte(moved), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bin, "validate", "--config", path, "--adapter", "caddyfile")
				cmd.Env = append(os.Environ(), "MAMORI_LOG_DIR="+dir, "MAMORI_LOG_KEY=doc-snippet-test-key-0123456789",
					"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
				if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
					t.Errorf("%s: mamori validate: %v\n%s\n--- snippet:\n%s", name, err, lastLines(string(out), 5), s.text)
				}
			})
		}
	}
	if count < 5 {
		t.Errorf("only %d caddyfile snippets found", count)
	}
}

// TestReadmeCommands runs the README's offline `mamori` commands (validate,
// fmt, adapt, check, version, logs retention) as written, each in a
// directory whose Caddyfile is the README's caddyfile snippet just before
// the command (the one the text has just put in /etc/mamori/Caddyfile).
func TestReadmeCommands(t *testing.T) {
	bin, _ := harness.Binaries(t)
	readme := filepath.Join("..", "..", "README.md")
	type command struct{ line, caddyfile string }
	var caddyfile string
	var commands []command
	for _, s := range fencedBlocks(t, readme) {
		switch s.lang {
		case "caddyfile":
			caddyfile = s.text
		case "sh", "console":
			for _, line := range strings.Split(s.text, "\n") {
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "$ "))
				if i := strings.Index(line, " #"); i >= 0 {
					line = strings.TrimSpace(line[:i])
				}
				line = strings.TrimPrefix(line, "sudo -u mamori ")
				line = strings.TrimPrefix(line, "sudo ")
				f := strings.Fields(line)
				if len(f) < 2 || f[0] != "mamori" || caddyfile == "" {
					continue
				}
				switch f[1] {
				case "validate", "fmt", "adapt", "check", "version", "list-modules":
					commands = append(commands, command{line, caddyfile})
				case "logs":
					if len(f) > 2 && f[2] == "retention" {
						commands = append(commands, command{line, caddyfile})
					}
				}
			}
		}
	}
	if len(commands) < 3 {
		t.Fatalf("README: only %d offline mamori commands after a caddyfile snippet", len(commands))
	}
	for _, c := range commands {
		t.Run(c.line, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(strings.ReplaceAll(c.caddyfile, "/var/log/mamori", dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			args := strings.Fields(strings.ReplaceAll(c.line, "/etc/mamori/Caddyfile", "Caddyfile"))[1:]
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "MAMORI_LOG_DIR="+dir, "MAMORI_LOG_KEY=doc-snippet-test-key-0123456789",
				"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: %v\n%s", c.line, err, lastLines(string(out), 10))
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
