package detect

import (
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
)

// 920470 as mamori loads it accepts RFC 9110's empty parameters and
// refuses every Content-Type CRS's regression tests for 920470 refuse
// (920470-1, -2, -12, -17); the headers CRS's tests accept stay accepted.
func TestContentTypeRule(t *testing.T) {
	rule, err := contentTypeRule()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rule, "id:920470,") || !strings.Contains(rule, "msg:'Illegal Content-Type header'") {
		t.Fatalf("not CRS's 920470 with its actions: %s", rule)
	}
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives("SecRuleEngine On\n" +
		`SecAction "id:1,phase:1,pass,nolog,setvar:tx.critical_anomaly_score=5"` + "\n" +
		strings.Replace(rule, "block,", "deny,status:403,", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ct      string
		refused bool
	}{
		// RFC 9110 8.3.1: parameters = *( OWS ";" OWS [ parameter ] ).
		{"application/json;", false},
		{"text/plain;charset=utf-8;", false},
		{"text/plain; ; charset=utf-8", false},
		{"application/json ;", false},
		// CRS's accepted headers (920470-3 to -11, -13 to -16).
		{"text/plain", false},
		{"text/plain; charset=UTF-8", false},
		{`text/plain; charset="UTF-8"`, false},
		{"multipart/form-data; boundary=----WebKitFormBoundary12345", false},
		{"multipart/mixed; boundary= gc0p4Jq0M2Yt,08/jU534c0p?==:test", false},
		{`application/soap+xml; action="urn:hl7-org:v3:PRPA_IN201305UV02"; charset=UTF-8`, false},
		{"application/*+json", false},
		// CRS's refused headers (920470-1, -2, -12, -17) and others.
		{"%{(#nike='multipart/form-data').(#dm=@ognl", true},
		{`text/plain; charset="UTF-8"; garbage`, true},
		{"multipart/form-data; boundary=  test_data_123456", true},
		{"text/xml; blah", true},
		{"text/xml; blah;", true},
		{"application/json;;x", true},
		{"application/json; =x", true},
		{"application/json, application/json", true},
		{"text/plain;charset=utf-8;\r\nX-Injected: 1", true},
	}
	for _, tc := range tests {
		tx := w.NewTransaction()
		tx.ProcessURI("/", "POST", "HTTP/1.1")
		tx.AddRequestHeader("Content-Type", tc.ct)
		it := tx.ProcessRequestHeaders()
		if got := it != nil; got != tc.refused {
			t.Errorf("Content-Type %q: refused %v, want %v", tc.ct, got, tc.refused)
		}
		_ = tx.Close()
	}
}
