package harness

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestScriptsLeaveTheMachineAlone (issue 15): `make test` and the
// benchmark never stop, start or reconfigure the machine's services (the
// tests run their own redis-server and rsyslogd on loopback ports) and
// write under fixed names in /tmp (mktemp only).
func TestScriptsLeaveTheMachineAlone(t *testing.T) {
	forbidden := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"stops or restarts a service", regexp.MustCompile(`(?m)^[^#\n]*\b(systemctl|service)\b[^\n]*\b(stop|start|restart|disable|mask)\b`)},
		{"uses a fixed name under /tmp", regexp.MustCompile(`(?m)^[^#\n]*/tmp/[A-Za-z0-9_.-]`)},
	}
	for _, file := range []string{"../setup.sh", "../../Makefile", "../bench/run.sh"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range forbidden {
			if m := f.re.Find(b); m != nil {
				t.Errorf("%s %s: %q", filepath.Clean(file), f.what, m)
			}
		}
	}
}

// TestNoReferenceOutsideTheRepository (issue 15): code and docs explain
// the design in the repository's own files (docs/design.md), not in a
// SPEC.md that a maintainer does not have.
func TestNoReferenceOutsideTheRepository(t *testing.T) {
	spec := regexp.MustCompile(`\bSPEC\b`)
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || (filepath.Ext(path) != ".go" && filepath.Ext(path) != ".md") || filepath.Base(path) == "hygiene_test.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if loc := spec.FindIndex(b); loc != nil {
			t.Errorf("%s cites SPEC (%q): say it in docs/design.md instead", path, b[max(0, loc[0]-30):loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
