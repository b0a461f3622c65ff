package waf

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// The token gates of internal/detect (docs/detection.md, "What the
// layers cost") skip the copies that cannot match a token only: an
// attack in a header or query value is found whether or not every other
// value is a token, and a request of tokens matches nothing.
func TestDetectionTokenGates(t *testing.T) {
	up := newEchoUpstream()
	h := newHarness(t, defaultEngine(t), up)
	tests := []struct {
		name    string
		target  string
		header  string // X-Api-Version's value, "" for none
		want    int
		wantIDs []int // each must match
	}{
		{"tokens_only_pass_untouched", "/entry/spring-notes?id=12&sort=date-desc", "2.1", http.StatusOK, nil},
		// 944100's header copy can match a token: it runs ungated.
		{"token_attack_in_header", "/", "java.lang.Runtime", http.StatusForbidden, []int{9644100}},
		// Behind the gate: the header is more than a token.
		{"xss_in_header_opens_the_gate", "/", "<script>alert(1)</script>", http.StatusForbidden, []int{9641100}},
		// The LDAP signature cannot match a token: gated, found.
		{"gated_signature_in_query", "/?q=" + url.QueryEscape("*)(uid=*))(|(uid=*"), "", http.StatusForbidden, []int{9834902}},
		// The template signature can (__class__): ungated, found.
		{"ungated_signature_in_query", "/?q=__class__", "", http.StatusForbidden, []int{9834901}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, h.srv.URL+tt.target, nil)
			req.Header.Set("User-Agent", "mamori-test") // a token: the gates stay shut
			req.Header.Del("Accept")
			if tt.header != "" {
				req.Header.Set("X-Api-Version", tt.header)
			}
			resp, _ := h.do(t, req)
			v := h.verdict(t)
			ids := matchedIDs(v)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d (matched %v)", resp.StatusCode, tt.want, ids)
			}
			for _, id := range tt.wantIDs {
				if !slices.Contains(ids, id) {
					t.Errorf("rule %d did not match (matched %v)", id, ids)
				}
			}
			if tt.want == http.StatusOK {
				if len(ids) != 0 {
					t.Errorf("a request of tokens matched %v", ids)
				}
				up.body(t)
				<-up.te
			}
		})
	}
}
