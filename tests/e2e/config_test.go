package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// TestValidate runs `mamori validate` on Caddyfile.example (log paths moved
// to a temporary directory, since validating opens the log files) and on
// broken configurations, which must fail with the file, line and reason.
func TestValidate(t *testing.T) {
	bin, _ := harness.Binaries(t)
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	badRule := filepath.Join(dir, "bad-patch.conf")
	if err := os.WriteFile(badRule, []byte("# patch\nSecRule ARGS:a \"@streq x\" \"id:1000010,phase:1,deny,log\"\n\nSecRule ARGS:b \"@streq y\" \\\n    \"id:1000011,phase:1,deny,nosuchaction\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("caddyfile_example_is_formatted", func(t *testing.T) {
		out, err := exec.Command(bin, "fmt", filepath.Join("..", "..", "Caddyfile.example")).Output()
		if err != nil || string(out) != string(example) {
			t.Errorf("mamori fmt would change Caddyfile.example (%v)", err)
		}
	})
	// Issue 15: the example validates exactly as its first lines say — the
	// export they give, then the command — and cleanly: no warning of
	// mamori's about the example itself.
	t.Run("caddyfile_example_as_its_first_lines_say", func(t *testing.T) {
		var export string
		for _, l := range strings.Split(string(example), "\n") {
			if !strings.HasPrefix(l, "#") {
				break
			}
			if e, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(l, "#")), "export MAMORI_LOG_KEY="); ok {
				export = "export MAMORI_LOG_KEY=" + e
			}
		}
		if export == "" {
			t.Fatal("the example's first lines do not say how to export MAMORI_LOG_KEY, which it needs")
		}
		path := filepath.Join(dir, "Caddyfile.example")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(example), "/var/log/mamori", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "MAMORI_LOG_KEY=") {
				env = append(env, kv)
			}
		}
		without := exec.Command(bin, "validate", "--config", path)
		without.Env = env
		if out, err := without.CombinedOutput(); err == nil || !strings.Contains(string(out), "MAMORI_LOG_KEY") {
			t.Errorf("without the export, validate should fail naming MAMORI_LOG_KEY (%v):\n%s", err, out)
		}
		cmd := exec.Command("bash", "-c", export+` && exec "$0" validate --config "$1"`, bin, path)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid configuration") {
			t.Fatalf("%s; mamori validate --config Caddyfile.example: %v\n%s", export, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, `"level":"warn"`) && strings.Contains(l, "mamori") {
				t.Errorf("the example warns about itself: %s", l)
			}
		}
		// Validating opens no log file (issue 15): neither mamori's access
		// log nor the chained events log is created.
		for _, name := range []string{"access.log", "events.log"} {
			if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
				t.Errorf("validate created %s (%v)", name, err)
			}
		}
	})
	// Issue 15: the README's one-line detection setting parses as written.
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var detectionLine string
	for _, l := range strings.Split(string(readme), "\n") {
		if _, after, ok := strings.Cut(l, "# or: detection "); ok {
			detectionLine = "detection " + after
		}
	}
	if detectionLine == "" {
		t.Fatal("README.md lost its one-line detection example")
	}
	tests := []struct {
		name, caddyfile string
		want            []string // empty: must be valid
	}{
		{"readme_detection_one_line", ":8080 {\n\tmamori {\n\t\t" + detectionLine + "\n\t}\n}\n", nil},
		{"unknown_option", ":8080 {\n\tmamori {\n\t\tparanoya 2\n\t}\n}\n", []string{"Caddyfile:3", "unknown mamori option", "paranoya"}},
		{"bad_paranoia", ":8080 {\n\tmamori {\n\t\tparanoia 7\n\t}\n}\n", []string{"Caddyfile:3", "paranoia level must be 1 to 4"}},
		{"bad_mode", ":8080 {\n\tmamori {\n\t\tmode enforce\n\t}\n}\n", []string{"Caddyfile:3", "mode must be block or detect"}},
		{"bad_exclusion_target", ":8080 {\n\tmamori {\n\t\texclude 941100 on 'ARGS:x'\n\t}\n}\n", []string{"Caddyfile:3", "target"}},
		{"bad_rule_file", ":8080 {\n\tmamori {\n\t\tinclude " + badRule + "\n\t}\n}\n", []string{badRule + ":4", "nosuchaction"}},
		{"missing_rule_file", ":8080 {\n\tmamori {\n\t\tinclude /nonexistent/patch.conf\n\t}\n}\n", []string{"/nonexistent/patch.conf", "no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "Caddyfile")
			if err := os.WriteFile(path, []byte(tc.caddyfile), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "validate", "--config", path, "--adapter", "caddyfile")
			// mamori's default access log and the example's chain key.
			cmd.Env = append(os.Environ(), "MAMORI_LOG_DIR="+dir, "MAMORI_LOG_KEY=validate-test-key-0123456789")
			out, err := cmd.CombinedOutput()
			if tc.want == nil {
				if err != nil || !strings.Contains(string(out), "Valid configuration") {
					t.Fatalf("validate failed: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("validate accepted a broken configuration:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
