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
