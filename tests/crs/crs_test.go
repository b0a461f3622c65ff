// Package crs runs the OWASP CRS v4.25.0 regression suite (the tests
// embedded in github.com/corazawaf/coraza-coreruleset/v4/tests) with go-ftw
// as a library against the real mamori binary and a real upstream, the way
// CRS's own CI does: detection only, blocking paranoia level 4, each test
// judged from the WAF's log between go-ftw's marker requests (log mode).
// mamori's log here is its own security-event log: every matched rule is
// written as {"id":N,...}, which go-ftw reads.
package crs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/coreruleset/go-ftw/config"
	"github.com/coreruleset/go-ftw/output"
	"github.com/coreruleset/go-ftw/runner"
	"github.com/coreruleset/go-ftw/test"
	"github.com/rs/zerolog"

	"github.com/mamori-waf/mamori/tests/harness"
)

// caddyfile runs mamori as CRS's test setup expects (see CRS's
// tests/docker-compose and Coraza's testing/coreruleset): detection only,
// paranoia level 4, the CRS test variables, and the marker rule 999999
// that writes the X-CRS-Test header's value to the log.
const caddyfile = `{
	admin off
	log default {
		output stderr
		level ERROR
		exclude mamori.events
	}
	log crs {
		output file {DIR}/events.log
		include mamori.events
	}
}
http://:{PORT} {
	bind 127.0.0.1
	mamori {
		mode detect
		paranoia 4
		DETECTION
		response_mime_types text/plain text/html
		setup_directives <<SECLANG
			SecAction "id:900005,phase:1,nolog,pass,ctl:ruleRemoveById=910000,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
			# CRS's own list of request body types, which 920420's tests assume;
			# mamori's default list is wider (browser beacons, protobuf).
			SecAction "id:900006,phase:1,nolog,pass,setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |text/xml| |application/xml| |application/soap+xml| |application/json|'"
			# CRS's own list of methods, which 911100's tests assume (911100-6
			# refuses DELETE); mamori's default adds the CMSs' API methods.
			SecAction "id:900007,phase:1,nolog,pass,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS'"
			SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" "id:999999,phase:1,log,msg:'X-CRS-Test %{MATCHED_VAR}',pass,t:none"
			SECLANG
	}
	reverse_proxy {UPSTREAM}
}
`

// The suite runs twice: on CRS as shipped (`detection off`) and on
// mamori's default configuration, whose detection layers may add
// detection but never remove what CRS detects (issue 11): the same tests
// must pass with the same exclusions.
func TestCRSRegressionSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the CRS regression suite takes minutes; run without -short")
	}
	for _, c := range []struct{ name, detection string }{
		{"crs", "detection off"},
		{"defaults", "# mamori's default detection layers"},
	} {
		if only := os.Getenv("FTW_CONFIG"); only != "" && only != c.name {
			continue // e.g. FTW_CONFIG=defaults to run one configuration
		}
		t.Run(c.name, func(t *testing.T) { runSuite(t, strings.Replace(caddyfile, "DETECTION", c.detection, 1), c.name) })
	}
}

func runSuite(t *testing.T, caddyfile, label string) {
	upstream := harness.Upstream(t)
	m := harness.StartMamori(t, caddyfile, upstream)

	tests, total := loadTests(t)
	t.Logf("loaded %d test files holding %d tests", len(tests), total)

	cfg, err := config.NewConfigFromFile("exclusions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.WithLogfile(filepath.Join(m.Dir, "events.log"))
	host, port := "127.0.0.1", portOf(t, m.URL)
	cfg.TestOverride.Overrides.DestAddr = &host
	cfg.TestOverride.Overrides.Port = &port

	zerolog.SetGlobalLevel(zerolog.WarnLevel)
	// Generous timeouts: on a loaded 2-core CI machine a large test body can
	// take over go-ftw's default second, and a timeout aborts the whole run.
	rc := &runner.RunnerConfig{ShowOnlyFailed: outputMode() == "quiet", ConnectTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	if inc := os.Getenv("FTW_INCLUDE"); inc != "" {
		rc.Include = regexp.MustCompile(inc) // e.g. FTW_INCLUDE='^9421' to run one rule's tests
	}
	res, err := runner.Run(cfg, tests, rc, output.NewOutput(outputMode(), os.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	if keep := os.Getenv("FTW_KEEP_LOG"); keep != "" {
		// For investigating failures: keep mamori's event log.
		if b, err := os.ReadFile(filepath.Join(m.Dir, "events.log")); err == nil {
			_ = os.WriteFile(keep, b, 0o600)
		}
	}
	s := res.Stats
	run := len(s.Success) + len(s.Failed)
	fmt.Printf("CRS v4.25.0 regression suite (%s): %d tests, %d run, %d passed, %d failed, %d ignored (exclusions.yaml), %d forced; pass rate %.2f%%\n",
		label, total, run, len(s.Success), len(s.Failed), len(s.Ignored), len(s.ForcedPass)+len(s.ForcedFail),
		100*float64(len(s.Success))/float64(max(run, 1)))
	if len(s.Failed) > 0 {
		failed := append([]string(nil), s.Failed...)
		sort.Strings(failed)
		t.Errorf("%d CRS tests failed: %s", len(failed), strings.Join(failed, " "))
	}
	if len(s.Success) == 0 {
		t.Error("no CRS test passed: the suite did not really run")
	}
}

func loadTests(t *testing.T) ([]*test.FTWTest, int) {
	var tests []*test.FTWTest
	total := 0
	err := fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := fs.ReadFile(crstests.FS, path)
		if err != nil {
			return err
		}
		ft, err := test.GetTestFromYaml(b, filepath.Base(path))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		total += len(ft.Tests)
		tests = append(tests, ft)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tests, total
}

func portOf(t *testing.T, url string) int {
	var p int
	if _, err := fmt.Sscanf(url[strings.LastIndex(url, ":")+1:], "%d", &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// outputMode is go-ftw's output: "quiet" unless $FTW_OUTPUT says otherwise
// ("normal" lists every test).
func outputMode() string {
	if m := os.Getenv("FTW_OUTPUT"); m != "" {
		return m
	}
	return "quiet"
}

// TestCaddyHeaderExclusionsAreThat checks every exclusion blamed on Caddy's
// dropping of header names with "_" or "." really sends such a header.
func TestCaddyHeaderExclusionsAreThat(t *testing.T) {
	cfg, err := config.NewConfigFromFile("exclusions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests, _ := loadTests(t)
	byID := map[string]map[string]string{}
	for _, ft := range tests {
		for _, tc := range ft.Tests {
			for _, st := range tc.Stages {
				byID[tc.IdString()] = st.Input.Headers
			}
		}
	}
	n := 0
	for re, reason := range cfg.TestOverride.Ignore {
		header, ok := strings.CutPrefix(reason, "caddy-drops-header: ")
		if !ok {
			continue
		}
		n++
		matched := false
		for id, headers := range byID {
			if !re.MatchString(id) {
				continue
			}
			matched = true
			if _, ok := headers[header]; !ok || !strings.ContainsAny(header, "_.") {
				t.Errorf("%s: blamed on Caddy dropping %q, but its input headers are %v", id, header, headers)
			}
		}
		if !matched {
			t.Errorf("exclusion %q matches no test", reason)
		}
	}
	if n == 0 {
		t.Error("no caddy-drops-header exclusions found: the check ran on nothing")
	}
}
