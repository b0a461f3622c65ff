package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestWorkBudget (issue 10 item 3, V1): a request whose inspection would
// cost too much CPU (600 Base64 values to decode, or a value encoded
// deeper than the decoder goes) is refused with 413 before the body rules
// run, with one event (guard and rule "budget"), and never reaches the
// upstream; an ordinary form passes.
func TestWorkBudget(t *testing.T) {
	s := startPerimeterSite(t, "mode block")
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	many := url.Values{}
	for i := range 600 {
		many.Set("v"+strconv.Itoa(i), b64("a harmless sentence number "+strconv.Itoa(i)))
	}
	deep := "harmless words here"
	for range 6 {
		deep = b64(deep)
	}
	for _, tc := range []struct {
		name, marker, body string
		status             int
	}{
		{"ordinary form", "budget-ok", url.Values{"comment": {"Thanks for the article!"}}.Encode(), http.StatusOK},
		{"600 decoded values", "budget-values", many.Encode(), http.StatusRequestEntityTooLarge},
		{"nested 6 deep", "budget-depth", "q=" + url.QueryEscape(deep), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", s.URL+"/echo?m="+tc.marker, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusOK {
				if upstreamSaw(t, s, tc.marker) != 1 {
					t.Error("the ordinary form did not reach the upstream")
				}
				return
			}
			expectRefusal(t, s, resp.StatusCode, resp.Header, "budget", "budget", tc.marker)
		})
	}
}
