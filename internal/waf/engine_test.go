package waf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Compiling CRS takes around a second, so each distinct engine is compiled
// once per test binary and shared.
var (
	defaultEngineOnce sync.Once
	defaultEngineVal  *Engine
	defaultEngineErr  error

	enginesMu sync.Mutex
	engines   = map[string]*Engine{}
)

// defaultEngine is the engine of the zero Config (block mode, PL1).
func defaultEngine(t testing.TB) *Engine {
	t.Helper()
	defaultEngineOnce.Do(func() {
		c, err := Compile(Config{})
		if err != nil {
			defaultEngineErr = err
			return
		}
		defaultEngineVal, defaultEngineErr = New(c)
	})
	if defaultEngineErr != nil {
		t.Fatalf("default engine: %v", defaultEngineErr)
	}
	return defaultEngineVal
}

// engineFor compiles cfg once per test binary (keyed by its fingerprint).
func engineFor(t testing.TB, cfg Config) *Engine {
	t.Helper()
	c, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if e, ok := engines[c.Fingerprint]; ok {
		return e
	}
	e, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	engines[c.Fingerprint] = e
	return e
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompile(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present.conf")
	writeFile(t, present, "# nothing\n")

	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero_config_compiles", Config{}, ""},
		{"existing_include_compiles", Config{Includes: []string{present}}, ""},
		{"glob_matching_nothing_is_fine", Config{Includes: []string{filepath.Join(dir, "patches", "*.conf")}}, ""},
		{"missing_include_file_is_an_error", Config{Includes: []string{filepath.Join(dir, "missing.conf")}}, "no such file"},
		{"missing_include_error_names_the_file", Config{Includes: []string{filepath.Join(dir, "typo.conf")}}, "typo.conf"},
		{"malformed_glob_is_an_error", Config{Includes: []string{filepath.Join(dir, "[.conf")}}, "include"},
		{"paranoia_5_is_an_error", Config{ParanoiaLevel: 5}, "paranoia level"},
		{"negative_paranoia_is_an_error", Config{ParanoiaLevel: -1}, "paranoia level"},
		{"bad_mode_is_an_error", Config{Mode: "off"}, "mode"},
		{"bad_exclusion_is_an_error", Config{Exclusions: []Exclusion{{Rules: "941100", Target: "args"}}}, "exclusion 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				if c.Fingerprint == "" || c.Directives == "" {
					t.Fatalf("empty Compiled: %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("Compile succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Compile error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompileIncludes(t *testing.T) {
	t.Run("glob_expands_to_sorted_absolute_files", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "b.conf"), "# b\n")
		writeFile(t, filepath.Join(dir, "a.conf"), "# a\n")
		writeFile(t, filepath.Join(dir, "notes.txt"), "not a rule file\n")
		c, err := Compile(Config{Includes: []string{filepath.Join(dir, "*.conf")}})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")}
		if !slices.Equal(c.Config.Includes, want) {
			t.Fatalf("Includes = %v, want %v", c.Config.Includes, want)
		}
		for _, f := range want {
			if lineIndex(c.Directives, "Include "+f) < lineIndex(c.Directives, crsInclude) {
				t.Errorf("Include %s missing or before CRS", f)
			}
		}
		if strings.Contains(c.Directives, "notes.txt") || strings.Contains(c.Directives, filepath.Join(dir, "*.conf")) {
			t.Errorf("glob not expanded:\n%s", c.Directives)
		}
	})

	t.Run("relative_include_becomes_absolute", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "site.conf"), "# site\n")
		t.Chdir(dir)
		c, err := Compile(Config{Includes: []string{"site.conf"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Config.Includes) != 1 || !filepath.IsAbs(c.Config.Includes[0]) {
			t.Fatalf("Includes = %v, want one absolute path", c.Config.Includes)
		}
	})

	t.Run("compile_applies_defaults", func(t *testing.T) {
		c, err := Compile(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Config.Mode != ModeBlock || c.Config.ParanoiaLevel != 1 || c.Config.InspectResponseBody == nil {
			t.Fatalf("defaults not applied: %+v", c.Config)
		}
	})
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	rule := filepath.Join(dir, "patch.conf")
	writeFile(t, rule, `SecRule ARGS:a "@streq 1" "id:10001,phase:2,deny"`+"\n")
	cfg := Config{Includes: []string{filepath.Join(dir, "*.conf")}}

	fp := func(t *testing.T, c Config) string {
		t.Helper()
		compiled, err := Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		return compiled.Fingerprint
	}
	orig := fp(t, cfg)

	t.Run("same_config_and_files_give_same_fingerprint", func(t *testing.T) {
		if got := fp(t, cfg); got != orig {
			t.Errorf("fingerprint changed without any change: %s != %s", got, orig)
		}
	})
	t.Run("changed_included_file_content_changes_fingerprint", func(t *testing.T) {
		writeFile(t, rule, `SecRule ARGS:a "@streq 2" "id:10001,phase:2,deny"`+"\n")
		defer writeFile(t, rule, `SecRule ARGS:a "@streq 1" "id:10001,phase:2,deny"`+"\n")
		if got := fp(t, cfg); got == orig {
			t.Errorf("fingerprint unchanged after the included file changed")
		}
	})
	t.Run("restored_content_restores_fingerprint", func(t *testing.T) {
		if got := fp(t, cfg); got != orig {
			t.Errorf("fingerprint differs after restoring the file")
		}
	})
	t.Run("new_file_matching_glob_changes_fingerprint", func(t *testing.T) {
		extra := filepath.Join(dir, "zz.conf")
		writeFile(t, extra, "# extra\n")
		defer os.Remove(extra)
		if got := fp(t, cfg); got == orig {
			t.Errorf("fingerprint unchanged after a new file matched the glob")
		}
	})
	t.Run("different_config_changes_fingerprint", func(t *testing.T) {
		c := cfg
		c.ParanoiaLevel = 2
		if got := fp(t, c); got == orig {
			t.Errorf("fingerprint unchanged after paranoia changed")
		}
	})
	t.Run("explicit_defaults_share_fingerprint_with_zero_config", func(t *testing.T) {
		if a, b := fp(t, Config{}), fp(t, Config{}.WithDefaults()); a != b {
			t.Errorf("defaulted config has another fingerprint")
		}
	})
}

func TestNew(t *testing.T) {
	t.Run("default_config_loads_crs", func(t *testing.T) {
		e := defaultEngine(t)
		if n := e.RulesCount(); n <= 100 {
			t.Errorf("RulesCount() = %d, want > 100 (CRS loaded)", n)
		}
		if c := e.Config(); c.Mode != ModeBlock || c.ParanoiaLevel != 1 {
			t.Errorf("Config() = %+v, want defaults", c)
		}
	})

	t.Run("included_rule_file_adds_rules", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "site.conf"),
			`SecRule ARGS:mamori_probe "@streq hit" "id:10100,phase:2,deny,status:403,log,msg:'probe'"`+"\n"+
				`SecRule ARGS:mamori_probe2 "@streq hit" "id:10101,phase:2,deny,status:403,log,msg:'probe2'"`+"\n")
		e := engineFor(t, Config{Includes: []string{filepath.Join(dir, "*.conf")}})
		if got, base := e.RulesCount(), defaultEngine(t).RulesCount(); got != base+2 {
			t.Errorf("RulesCount() = %d, want %d", got, base+2)
		}
	})

	tests := []struct {
		name    string
		content string
	}{
		{"unknown_directive_fails", "SecNoSuchDirective On\n"},
		{"bad_operator_fails", `SecRule ARGS "@nosuchop x" "id:10200,phase:2,deny"` + "\n"},
		{"bad_regex_fails", `SecRule ARGS "@rx (" "id:10201,phase:2,deny"` + "\n"},
		{"duplicate_crs_rule_id_fails", `SecRule ARGS "@streq x" "id:942100,phase:2,deny"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "bad.conf")
			writeFile(t, f, "# a comment\n"+tt.content)
			c, err := Compile(Config{Includes: []string{f}})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			e, err := New(c)
			if err == nil {
				e.Close()
				t.Fatalf("New succeeded with a bad rule file")
			}
			if !strings.Contains(err.Error(), "loading rules") {
				t.Errorf("error %q does not say the rules failed to load", err)
			}
		})
	}

	t.Run("bad_rule_error_names_file", func(t *testing.T) {
		dir := t.TempDir()
		f := filepath.Join(dir, "broken-patch.conf")
		writeFile(t, f, "# a comment\nSecNoSuchDirective On\n")
		c, err := Compile(Config{Includes: []string{f}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), "broken-patch.conf") {
			t.Errorf("New error = %v, want it to name broken-patch.conf", err)
		}
	})

	t.Run("bad_directives_fail", func(t *testing.T) {
		c, err := Compile(Config{Directives: "SecRuleEngine Sometimes"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(c); err == nil {
			t.Fatal("New succeeded with bad directives")
		}
	})

	t.Run("exclusion_accepted_by_validate_loads", func(t *testing.T) {
		// Whatever Validate (and so the Caddyfile) accepts must load: a
		// regex target holding a comma is valid, and must survive being
		// placed in a path-scoped rule's ctl action.
		ex := Exclusion{Rules: "942100", Target: "ARGS:/^a{1,3}$/", PathPrefix: "/x"}
		if ex.Validate() != nil {
			return // rejected up front: fine
		}
		c, err := Compile(Config{Exclusions: []Exclusion{ex}})
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		e, err := New(c)
		if err != nil {
			t.Fatalf("Validate accepted %+v but New fails: %v", ex, err)
		}
		e.Close()
	})

	t.Run("global_exclusion_of_unknown_rule_target_fails", func(t *testing.T) {
		// SecRuleUpdateTargetById needs the rule to exist: a typo is caught
		// at load, not silently ignored.
		c, err := Compile(Config{Exclusions: []Exclusion{{Rules: "999999", Target: "ARGS:x"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(c); err == nil {
			t.Fatal("New succeeded with an exclusion of a rule that does not exist")
		}
	})
}

// Issue 15: an include whose path contains "@" is read from the disk, not
// looked up in the embedded CRS.
func TestIncludePathWithAt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "@site")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	patch := filepath.Join(dir, "patch.conf")
	writeFile(t, patch, `SecRule ARGS:at_test "@streq attack" "id:1000077,phase:1,deny,status:403,log"`+"\n")
	for _, cfg := range []Config{{Includes: []string{patch}}, {Includes: []string{filepath.Join(dir, "*.conf")}}} {
		c, err := Compile(cfg)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		e, err := New(c)
		if err != nil {
			t.Fatalf("include %v: %v", cfg.Includes, err)
		}
		if e.RulesCount() != defaultEngine(t).RulesCount()+1 {
			t.Errorf("include %v: %d rules, want the default's %d + 1", cfg.Includes, e.RulesCount(), defaultEngine(t).RulesCount())
		}
		e.Close()
	}
}
