package detect

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// File names matched as names (issue 11). CRS's lists of OS files,
// restricted files and shell paths (lfi-os-files.data, restricted-files.data,
// unix-shell.data) are matched by @pmFromFile, which finds a phrase
// anywhere: ".pass" (a password file) in "www.passport-files",
// "config.json" in "getAppConfig.json", ".credentials" in the JSON
// argument name "json.config.credentials", "bin/fc" (the shell's fc) in
// "/fcg-bin/fcg_get_strategy". mamoriFileNames matches the same phrases
// as names: a phrase that starts with a name character must not follow
// one (".pass" is not in "www.passport", "bin/fc" not in "fcg-bin/fcg";
// extensions such as ".sql.z", after "backup", are endings, not names).
// What follows a phrase is not checked: CRS's lists hold prefixes
// (".bash_", ".sql.z" for .sql.zip). Phrases that start with "/" or "$"
// ("/proc/", "$IFS") match as before.

// fileNameLists are the data files whose CRS rules and copies match
// names (fileNameOperator).
var fileNameLists = []string{"lfi-os-files.data", "restricted-files.data", "unix-shell.data"}

// fileNameOperator rewrites an "@pmFromFile <list>" operator of one of
// fileNameLists to mamori's name-boundary matcher; other operators are
// returned as they are.
func fileNameOperator(op string) (string, bool) {
	for _, f := range fileNameLists {
		if op == "@pmFromFile "+f {
			return "@mamoriFileNames " + f, true
		}
	}
	return op, false
}

// FileNameOperator is fileNameOperator for other packages: the operator
// that matches op's list as names (internal/waf's copy of 930120 on JSON
// keys), or op itself.
func FileNameOperator(op string) string {
	out, _ := fileNameOperator(op)
	return out
}

// isNameByte reports a byte of a file or command name.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// extension reports a phrase that is a file name's ending (".sql.zip",
// after "backup"), not a whole name: a dot first and another after it.
// A single-dot phrase (".pass", ".profile", ".git/") is a dot file, a
// whole name.
func extension(p string) bool {
	return p[0] == '.' && strings.IndexByte(p[1:], '.') >= 0
}

type fileNames struct {
	phrases []string
	matcher ahocorasick.AhoCorasick
}

var (
	fileNamesMu    sync.Mutex
	fileNamesCache = map[string]*fileNames{}
)

// loadFileNames reads a CRS data file (one phrase a line, # comments) and
// builds its matcher once per process.
func loadFileNames(file string) (*fileNames, error) {
	fileNamesMu.Lock()
	defer fileNamesMu.Unlock()
	if f, ok := fileNamesCache[file]; ok {
		return f, nil
	}
	b, err := fs.ReadFile(coreruleset.FS, path.Join("@owasp_crs", path.Base(file)))
	if err != nil {
		return nil, err
	}
	var phrases []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.ToLower(strings.TrimSpace(line))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		phrases = append(phrases, line)
	}
	if len(phrases) == 0 {
		return nil, fmt.Errorf("%s: no phrases", file)
	}
	builder := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{AsciiCaseInsensitive: true, MatchKind: ahocorasick.StandardMatch, DFA: true})
	f := &fileNames{phrases: phrases, matcher: builder.Build(phrases)}
	fileNamesCache[file] = f
	return f, nil
}

// Match returns the phrases of value that are whole names (at most max).
func (f *fileNames) Match(value string, max int) []string {
	var out []string
	iter := f.matcher.IterOverlapping(value)
	for m := iter.Next(); m != nil; m = iter.Next() {
		p := f.phrases[m.Pattern()]
		s, e := m.Start(), m.End()
		if isNameByte(p[0]) && !extension(p) && s > 0 && isNameByte(value[s-1]) {
			continue
		}
		out = append(out, value[s:e])
		if len(out) >= max {
			break
		}
	}
	return out
}

type fileNamesOperator struct{ f *fileNames }

func (o fileNamesOperator) Evaluate(tx plugintypes.TransactionState, value string) bool {
	capturing := tx != nil && tx.Capturing()
	max := 1
	if capturing {
		max = 10
	}
	found := o.f.Match(value, max)
	if capturing {
		for i, s := range found {
			tx.CaptureField(i, s)
		}
	}
	return len(found) > 0
}

func init() {
	plugins.RegisterOperator("mamoriFileNames", func(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		f, err := loadFileNames(strings.TrimSpace(o.Arguments))
		if err != nil {
			return nil, err
		}
		return fileNamesOperator{f}, nil
	})
}
