package waf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"

	"github.com/mamori-waf/mamori/internal/detect"
	// One pass per long value for every @rx/@pm rule's required literals
	// (see internal/litgate); it wraps internal/rx's @rx.
	"github.com/mamori-waf/mamori/internal/litgate"
	// mamori's @pm, @pmFromFile: a DFA instead of Coraza's NFA (see internal/pm).
	_ "github.com/mamori-waf/mamori/internal/pm"
	// mamori's @rx: RE2 behind a literal prefilter (see internal/rx).
	_ "github.com/mamori-waf/mamori/internal/rx"
	// lowercase, removeWhitespace, compressWhitespace: Coraza's results,
	// ASCII a byte at a time (see internal/transform).
	_ "github.com/mamori-waf/mamori/internal/transform"
	// The operators mamori's virtual patches call (rules/patches).
	_ "github.com/mamori-waf/mamori/internal/vpatch"
)

// Engine is one compiled WAF: CRS plus the operator's rules. It is safe for
// concurrent use; every request gets its own transaction.
type Engine struct {
	waf        coraza.WAF
	config     Config
	rules      int
	print      string   // Compiled.Fingerprint
	disruptive sync.Map // rule ID → the rule denies, drops or redirects
}

// Compiled is a Config resolved against the file system: include globs
// expanded, the SecLang assembled, and a fingerprint of all of it (rule file
// contents included) that identifies the WAF it compiles to.
type Compiled struct {
	Config      Config
	Directives  string
	Fingerprint string
	// Detection is the SecLang of mamori's detection layers, served as
	// the rule file DetectionFile among CRS's (after its 944 detection
	// rules, before its 949 blocking evaluation).
	Detection string
}

// Compile applies defaults, validates c, expands its include globs and
// returns the SecLang it compiles to. Include patterns that match no file
// are an error unless they hold a wildcard (an empty patches directory is
// fine; a mistyped file name is not).
func Compile(c Config) (*Compiled, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	h := sha256.New()
	files, err := readIncludes(c.Includes, h)
	if err != nil {
		return nil, err
	}
	resolved := c
	resolved.Includes = files
	directives := resolved.SecLang()
	h.Write([]byte(directives))
	detection, err := detect.Rules(c.Detection, c.ParanoiaLevel)
	if err != nil {
		return nil, err
	}
	h.Write([]byte(detection))
	// The budget is read from the engine's Config, not from the SecLang:
	// engines are shared by fingerprint, so it must be part of it.
	fmt.Fprintf(h, "\x00budget %+v", c.Budget)
	return &Compiled{Config: resolved, Directives: directives, Detection: detection, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// readIncludes expands include patterns to absolute file names and writes
// each file's name, length and contents to h.
func readIncludes(patterns []string, h io.Writer) ([]string, error) {
	var files []string
	for _, pattern := range patterns {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("include %q: %w", pattern, err)
		}
		if len(matches) == 0 && !strings.ContainsAny(pattern, "*?[") {
			return nil, fmt.Errorf("include %q: no such file", pattern)
		}
		for _, m := range matches {
			abs, err := filepath.Abs(m)
			if err != nil {
				return nil, fmt.Errorf("include %q: %w", m, err)
			}
			content, err := os.ReadFile(abs)
			if err != nil {
				return nil, fmt.Errorf("include %q: %w", m, err)
			}
			fmt.Fprintf(h, "%s\x00%d\x00", abs, len(content))
			_, _ = h.Write(content)
			files = append(files, abs)
		}
	}
	return files, nil
}

// IncludeDigest is a digest of the files the include patterns match, their
// names and contents. A Caddyfile records it in the configuration, so that
// a changed rule file changes the configuration and `mamori reload`
// applies it: Caddy skips reloading a configuration equal to the running
// one. Files that cannot be read are left to Compile to report.
func IncludeDigest(patterns []string) string {
	if len(patterns) == 0 {
		return ""
	}
	h := sha256.New()
	files, err := readIncludes(patterns, h)
	if err != nil || len(files) == 0 {
		return "" // nothing to read (yet): Compile reports a missing file
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// New compiles the WAF. A rule that does not load is reported with its
// file (or "directives") and line.
func New(c *Compiled) (*Engine, error) {
	cfg := coraza.NewWAFConfig().
		WithRootFS(rulesFS{detection: c.Detection}).
		WithDirectives(c.Directives)
	w, err := coraza.NewWAF(cfg)
	if err != nil {
		return nil, fmt.Errorf("loading rules: %w", locateError(c, err))
	}
	// The shared literal automaton, with any literals this rule set added,
	// is built now rather than by the first request.
	litgate.Prepare()
	n := 0
	if wr, ok := w.(experimental.WAFWithRules); ok {
		n = wr.RulesCount()
	}
	return &Engine{waf: w, config: c.Config, rules: n, print: c.Fingerprint}, nil
}

// Fingerprint identifies the rule set the engine was compiled from
// (Compiled.Fingerprint).
func (e *Engine) Fingerprint() string { return e.print }

// Config returns the configuration the engine was compiled from, with
// defaults applied and include globs expanded.
func (e *Engine) Config() Config { return e.config }

// RulesCount is the number of rules loaded.
func (e *Engine) RulesCount() int { return e.rules }

// Close releases what the WAF holds (compiled rules, caches).
func (e *Engine) Close() error {
	if c, ok := e.waf.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// rulesFS serves CRS's embedded files for names that start with "@"
// (@owasp_crs/..., as mamori's own Include lines write them) and the
// operating system's files for every other name: an operator's include is
// an absolute path by then, and may contain "@" (/etc/mamori/@site/x.conf).
// Written by hand because Coraza reads includes through one fs.FS and
// mergefs would add a dependency for these few lines; absolute paths are
// allowed on purpose (rule files are named by absolute path).
// It also serves mamori's generated detection rules as DetectionFile, a
// file of CRS's directory whose name sorts between CRS's detection rules
// and its blocking evaluation.
type rulesFS struct{ detection string }

// DetectionFile is the name under which mamori's detection layers load.
const DetectionFile = "@owasp_crs/REQUEST-948-MAMORI-DETECTION.conf"

func (rulesFS) crs(name string) (string, bool) {
	if strings.HasPrefix(name, "@") {
		return name, true
	}
	return "", false
}

func (f rulesFS) Open(name string) (fs.File, error) {
	if n, ok := f.crs(name); ok {
		if n == DetectionFile && f.detection != "" {
			return fstest.MapFS{n: {Data: []byte(f.detection)}}.Open(n)
		}
		return coreruleset.FS.Open(n)
	}
	return os.Open(name)
}

func (f rulesFS) ReadFile(name string) ([]byte, error) {
	if n, ok := f.crs(name); ok {
		if n == DetectionFile && f.detection != "" {
			return []byte(f.detection), nil
		}
		return fs.ReadFile(coreruleset.FS, n)
	}
	return os.ReadFile(name)
}

func (f rulesFS) Glob(pattern string) ([]string, error) {
	if n, ok := f.crs(pattern); ok {
		names, err := fs.Glob(coreruleset.FS, n)
		if err != nil || f.detection == "" {
			return names, err
		}
		if ok, _ := path.Match(n, DetectionFile); ok {
			names = append(names, DetectionFile)
			sort.Strings(names)
		}
		return names, nil
	}
	return filepath.Glob(pattern)
}
