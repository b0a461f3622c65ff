// Command gen extracts mamori's benign evaluation corpus from real text on a
// development machine: Markdown documentation in the Go module cache,
// Debian's /usr/share/doc, and Japanese text (the Movable Type security
// checklist seed, Vim's Japanese tutor, GnuPG's Japanese help). It writes
// internal/evalcorpus/benign.jsonl, one {"kind","src","text"} per line,
// with each text's source file recorded. Deterministic for a given set of
// input files: files are read in sorted order and sampled with a stride.
//
//	go run ./internal/evalcorpus/gen -out internal/evalcorpus/benign.jsonl
//
// Sources that discuss attacks (WAF rule sets, their tests, security
// advisories) are skipped, so the benign corpus holds no attack payloads.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

type entry struct {
	Kind string `json:"kind"`
	Src  string `json:"src"`
	Text string `json:"text"`
}

// skip drops files about attacks: the benign corpus must hold none.
var skip = regexp.MustCompile(`(?i)coraza|coreruleset|ftw|testdata|security|vuln|cve|exploit|inject|attack|xss|csrf|sqli|owasp`)

var (
	technical = regexp.MustCompile(`(?i)\b(select|insert|update|delete|table|sql|query|database|shell|bash|curl|sudo|script|html|exec|command|passwd|password|cookie|token)\b|<[a-z]+>|\$\(|&&|\|\|`)
	heading   = regexp.MustCompile(`^#{1,4} +(.{4,80})$`)
	urlRe     = regexp.MustCompile(`https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]{8,200}`)
	identRe   = regexp.MustCompile(`\b[a-z][A-Za-z0-9_]{3,30}\b`)
	nameRe    = regexp.MustCompile(`(?:Copyright|\(C\)|©)[^A-Za-z]*(?:[0-9]{4}[-, 0-9]*)?\s+([A-Z][a-zA-Z'.-]+(?: [A-Z][a-zA-Z'.-]+){1,3})\s*<`)
)

type collector struct {
	// perSource caps what one file gives per kind, so the corpus spreads
	// over many modules instead of filling up from the first few.
	perSource map[string]int
	out       []entry
	seen      map[string]bool
	kind      map[string]int
	max       map[string]int
}

func (c *collector) add(kind, src, text string) {
	text = strings.TrimSpace(text)
	if text == "" || !utf8.ValidString(text) || c.seen[text] || c.kind[kind] >= c.max[kind] {
		return
	}
	if strings.HasPrefix(src, "gomodcache:") {
		if c.perSource[kind+src] >= 4 {
			return
		}
		c.perSource[kind+src]++
	}
	c.seen[text] = true
	c.kind[kind]++
	c.out = append(c.out, entry{Kind: kind, Src: src, Text: text})
}

func main() {
	out := flag.String("out", "internal/evalcorpus/benign.jsonl", "output file")
	reverse := flag.Bool("reverse", false, "read the sources in reverse order: a held-out corpus of other texts, to check that rule choices made on the committed corpus carry over")
	flag.Parse()
	c := &collector{perSource: map[string]int{}, seen: map[string]bool{}, kind: map[string]int{}, max: map[string]int{
		"prose": 900, "technical": 500, "code": 300, "search": 400, "ja": 450,
		"name": 150, "changelog": 300, "url": 200, "key": 150, "upload": 80,
	}}
	modcache := goEnv("GOMODCACHE")
	var mdFiles []string
	_ = filepath.WalkDir(modcache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(modcache, p)
		if d.IsDir() {
			if strings.HasPrefix(rel, "cache") || skip.MatchString(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".md") && !skip.MatchString(rel) {
			mdFiles = append(mdFiles, p)
		}
		return nil
	})
	sort.Strings(mdFiles)
	if *reverse {
		slices.Reverse(mdFiles)
	}
	// Every third file, for variety across modules within the caps.
	for _, p := range mdFiles {
		rel, _ := filepath.Rel(modcache, p)
		markdown(c, "gomodcache:"+rel, read(p, 256<<10))
	}
	japanese(c)
	debianDocs(c)
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range c.out {
		_ = enc.Encode(e)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = f.Close()
	for _, k := range sortedKeys(c.kind) {
		fmt.Printf("%-10s %d\n", k, c.kind[k])
	}
}

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func goEnv(name string) string {
	b, err := exec.Command("go", "env", name).Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		os.Exit(1)
	}
	return strings.TrimSpace(string(b))
}

func read(p string, limit int64) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(p, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return ""
		}
		r = gz
	}
	b, _ := io.ReadAll(io.LimitReader(r, limit))
	return string(b)
}

// markdown takes paragraphs (prose, or technical when they mention SQL,
// shell or HTML), fenced code blocks, headings (as search queries), URLs
// and identifiers (as JSON keys) from one Markdown file.
func markdown(c *collector, src, text string) {
	lines := strings.Split(text, "\n")
	var para, code []string
	inCode := false
	flush := func() {
		p := strings.Join(para, " ")
		para = para[:0]
		if len(p) < 40 || len(p) > 700 || strings.HasPrefix(p, "|") || strings.HasPrefix(p, "<") || strings.HasPrefix(p, "[!") {
			return
		}
		if technical.MatchString(p) {
			c.add("technical", src, p)
		} else {
			c.add("prose", src, p)
		}
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			if inCode {
				block := strings.Join(code, "\n")
				if len(code) >= 2 && len(code) <= 20 && len(block) <= 800 {
					c.add("code", src, block)
				}
				for _, id := range identRe.FindAllString(block, 3) {
					c.add("key", src, id)
				}
				code = code[:0]
			} else {
				flush()
			}
			inCode = !inCode
			continue
		}
		if inCode {
			code = append(code, l)
			continue
		}
		for _, u := range urlRe.FindAllString(t, -1) {
			u = strings.TrimRight(u, ").,;'*")
			c.add("url", src, u)
		}
		if m := heading.FindStringSubmatch(t); m != nil {
			flush()
			c.add("search", src, strings.Trim(m[1], "#` "))
			continue
		}
		if t == "" {
			flush()
			continue
		}
		para = append(para, t)
	}
	flush()
}

// japanese splits Japanese documents into sentences.
func japanese(c *collector) {
	for _, src := range []string{
		"/work/shared/seed/movabletype-net-security-measures.ja.txt",
		"/usr/share/vim/vim90/tutor/tutor.ja.utf-8",
		"/usr/share/gnupg/help.ja.txt",
	} {
		text := read(src, 1<<20)
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(strings.TrimLeft(line, "#*-=~ \t"))
			for _, s := range strings.SplitAfter(line, "。") {
				s = strings.TrimSpace(s)
				if utf8.RuneCountInString(s) >= 8 && hasJapanese(s) {
					c.add("ja", src, s)
				}
			}
		}
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if (r >= 0x3040 && r <= 0x30ff) || (r >= 0x4e00 && r <= 0x9fff) {
			return true
		}
	}
	return false
}

// debianDocs takes changelog entries, author names from copyright files
// and small text files (as uploads) from /usr/share/doc.
func debianDocs(c *collector) {
	dirs, _ := os.ReadDir("/usr/share/doc")
	for _, d := range dirs {
		dir := filepath.Join("/usr/share/doc", d.Name())
		if skip.MatchString(d.Name()) {
			continue
		}
		cr := read(filepath.Join(dir, "copyright"), 64<<10)
		for _, m := range nameRe.FindAllStringSubmatch(cr, -1) {
			c.add("name", dir+"/copyright", m[1])
		}
		for _, name := range []string{"changelog.Debian.gz", "changelog.gz"} {
			p := filepath.Join(dir, name)
			text := read(p, 32<<10)
			n := 0
			for _, l := range strings.Split(text, "\n") {
				l = strings.TrimSpace(l)
				if strings.HasPrefix(l, "* ") && len(l) > 30 && n < 3 {
					c.add("changelog", p, strings.TrimPrefix(l, "* "))
					n++
				}
			}
		}
		for _, name := range []string{"README", "README.md", "README.Debian", "NEWS", "AUTHORS"} {
			p := filepath.Join(dir, name)
			if text := read(p, 2048); len(text) > 200 {
				c.add("upload", p, text)
			}
		}
	}
}
