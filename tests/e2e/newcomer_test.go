package e2e

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/tests/harness"
)

// Issue 15, found by a newcomer: each test follows the README or docs as
// written, against the built binary.

// TestReadmeTuningStep: the README's exclusion step lets the field through
// at its path, although mamori's detection layers (decoded and placement
// copies, signatures such as 9842901) see the same value; other fields and
// other paths stay blocked. The step is read from the README itself; the
// issue's `exclude 942100 on ARGS:q at /search` is checked too.
func TestReadmeTuningStep(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, tuning, _ := strings.Cut(string(readme), "## Tuning false positives")
	step := regexp.MustCompile("`(exclude [^`]+ on ARGS:(\\w+) at (/\\S*))`").FindStringSubmatch(tuning)
	if step == nil {
		t.Fatal("README's tuning section has no `exclude <rules> on ARGS:<field> at <path>` step")
	}
	const xss, sqli = "<script>alert(1)</script>", "1' OR '1'='1"
	payload := map[string]string{"941": xss, "942": sqli}[strings.Fields(step[1])[1][:3]]
	if payload == "" {
		t.Fatalf("no payload for the README's step %q", step[1])
	}
	cases := []struct {
		exclusion, field, path, payload string
	}{
		{step[1], step[2], step[3], payload},
		{"exclude 942100 on ARGS:q at /search", "q", "/search", sqli},
	}
	upstream := harness.Upstream(t)
	for _, c := range cases {
		t.Run(c.exclusion, func(t *testing.T) {
			m := harness.StartMamori(t, caddyfile("", "mode block\n\t\t"+c.exclusion, ""), upstream)
			tests := []struct {
				name, path, field string
				want              int
			}{
				{"excluded_field_at_its_path", c.path, c.field, http.StatusOK},
				{"other_field", c.path, c.field + "_other", http.StatusForbidden},
				{"other_path", "/elsewhere", c.field, http.StatusForbidden},
			}
			for _, tc := range tests {
				for _, method := range []string{"GET", "POST"} {
					var r *http.Request
					form := url.Values{tc.field: {c.payload}}.Encode()
					if method == "GET" {
						r = get(m.URL + tc.path + "?" + form)
					} else {
						r = post(m.URL+tc.path, "application/x-www-form-urlencoded", form)
					}
					resp, err := http.DefaultClient.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tc.want {
						t.Errorf("%s %s %s=%q: status %d, want %d\n%s", method, tc.path, tc.field, c.payload, resp.StatusCode, tc.want,
							strings.Join(m.ReadLines(t, "events.log"), "\n"))
					}
				}
			}
		})
	}
}
