// Package crscorpus reads CRS's own material for the tests that check
// mamori's operators against it (internal/rx, internal/litgate): every @rx
// expression of the embedded rule files, and the requests of the embedded
// regression suite. Only tests import it.
package crscorpus

import (
	"io/fs"
	"regexp"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/coreruleset/go-ftw/test"
)

var rxInRule = regexp.MustCompile(`"@rx ((?:[^"\\]|\\.)*)"`)

// Patterns returns every @rx expression in CRS's rule files that Go's
// regexp compiles, without the ones holding macros (expanded per request).
func Patterns() ([]string, error) {
	var out []string
	err := fs.WalkDir(coreruleset.FS, "@owasp_crs", func(path string, _ fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".conf") {
			return err
		}
		b, err := fs.ReadFile(coreruleset.FS, path)
		if err != nil {
			return err
		}
		for _, m := range rxInRule.FindAllStringSubmatch(string(b), -1) {
			p := strings.ReplaceAll(m[1], `\"`, `"`)
			if strings.Contains(p, "%{") {
				continue
			}
			if _, err := regexp.Compile("(?sm)" + p); err == nil {
				out = append(out, p)
			}
		}
		return nil
	})
	return out, err
}

// Stage is one request of CRS's regression tests.
type Stage struct {
	// URI and Data are the request target and body as the test sends them.
	URI, Data string
	// Headers are the request's header values.
	Headers []string
}

// Stages returns every every-th request of CRS's regression tests (attacks
// and benign requests); files go-ftw cannot read are skipped.
func Stages(every int) ([]Stage, error) {
	var out []Stage
	n := 0
	err := fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, _ := fs.ReadFile(crstests.FS, path)
		ft, err := test.GetTestFromYaml(b, path)
		if err != nil {
			return nil
		}
		for _, tc := range ft.Tests {
			for _, st := range tc.Stages {
				n++
				if n%every != 0 {
					continue
				}
				in := (*test.Input)(&st.Input)
				s := Stage{URI: in.GetURI(), Data: string(in.GetData())}
				for _, h := range in.GetHeaders() {
					s.Headers = append(s.Headers, h)
				}
				out = append(out, s)
			}
		}
		return nil
	})
	return out, err
}
