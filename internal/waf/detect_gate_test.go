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
		// Attacks CRS does not see there (it reads no X-Api-Version for
		// these rules), so that the layers' rules decide: where CRS alone
		// refuses, the layers are skipped (TestLayersSkipDecidedRequests).
		// 930120's header copy can match a token: it runs ungated.
		{"token_attack_in_header", "/", ".htaccess", http.StatusForbidden, []int{9630120}},
		// Behind the gate: the header is more than a token.
		{"sqli_in_header_opens_the_gate", "/", "1' OR '1'='1", http.StatusForbidden, []int{9642100}},
		// The LDAP signature cannot match a token: gated, found.
		{"gated_signature_in_query", "/?q=" + url.QueryEscape("(|(uid=*))"), "", http.StatusForbidden, []int{9834902}},
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

// TestLayersSkipDecidedRequests: the detection layers only add to the
// score, so once CRS's rules have scored a request to the blocking
// threshold the layers are skipped (internal/detect, scoreGate): the
// request is refused by CRS's rules alone, and a request CRS does not
// refuse still meets every layer.
func TestLayersSkipDecidedRequests(t *testing.T) {
	up := newEchoUpstream()
	h := newHarness(t, defaultEngine(t), up)
	tests := []struct {
		name    string
		target  string
		wantIDs []int // each must match; no other rule of the layers may
	}{
		// Encoded twice: CRS's t:urlDecodeUni reads the second layer.
		{"crs_decides", "/?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E", []int{941100, 941110}},
		// Encoded three times, or in Base64: only the decoded copies see it.
		{"layers_decide", "/?q=%25253Cscript%25253Ealert(1)%25253C%25252Fscript%25253E", []int{9541100, 9541110}},
		{"layers_decide_base64", "/?q=" + url.QueryEscape("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), []int{9541100, 9541110}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, h.srv.URL+tt.target, nil)
			resp, _ := h.do(t, req)
			ids := matchedIDs(h.verdict(t))
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403 (matched %v)", resp.StatusCode, ids)
			}
			for _, id := range tt.wantIDs {
				if !slices.Contains(ids, id) {
					t.Errorf("rule %d did not match (matched %v)", id, ids)
				}
			}
			layers := tt.wantIDs[0] >= 9400000
			for _, id := range ids {
				if id >= 9400000 && !layers {
					t.Errorf("layer rule %d ran on a request CRS had refused (matched %v)", id, ids)
				}
			}
		})
	}
}
