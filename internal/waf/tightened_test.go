package waf

import "testing"

// CRS rules mamori tightens (internal/detect, tighten.go), in the default
// engine: a no-op javascript: URI is not scored by 941170/941210 (their
// chained replacements score in the chained rule, so a head match alone
// adds nothing), a script URI is; a longer $-name is not a MongoDB
// operator (942290), an operator is; a command name's prefix is no
// command (932260), the command is; "url" alone is no Windows command
// (932370), url.dll is; a CDN's combo URL (/??/a.js,b.js) is no
// traversal (930100), one carrying ".." is.
func TestTightenedRulesInEngine(t *testing.T) {
	runPolicyCases(t, defaultEngine(t), []policyCase{
		{name: "js_noop_semicolon", method: "GET", target: "/x?url=javascript:;", notWant: []int{941210}, pass: true},
		{name: "js_noop_void", method: "GET", target: "/x?url=javascript:void(0)%3B", notWant: []int{941170, 941210}, pass: true},
		{name: "js_noop_json", method: "POST", target: "/x", ct: "application/json", body: `{"events":[{"at":"javascript: void(0);"}]}`, notWant: []int{941170, 941210}, pass: true},
		{name: "js_call", method: "GET", target: "/x?url=javascript:alert(1)", want: []int{941210}},
		{name: "js_noop_then_call", method: "GET", target: "/x?url=javascript:void(0)%3Balert(1)", want: []int{941170, 941210}},
		{name: "js_noop_beside_call", method: "GET", target: "/x?a=javascript:void(0)&b=javascript:alert(1)", want: []int{941210}},
		{name: "mongo_longer_name", method: "GET", target: "/x?e=%24setOnce&p=%24login_aid", notWant: []int{942290}, pass: true},
		{name: "mongo_operator", method: "GET", target: "/x?u_id[%24ne]=2", want: []int{942290}},
		{name: "url_dll_name_alone", method: "GET", target: "/mp/jsreport?content=type:resperr%3Burl:%2Fmp%2Fx%3Faction%3Dget", notWant: []int{932370}, pass: true},
		{name: "url_dll", method: "GET", target: "/x?c=x%3Burl.dll,OpenURL%20x", want: []int{932370}},
		{name: "combo_url", method: "GET", target: "/??/a/x.js,/b/2.0.1/y.js", notWant: []int{930100}, pass: true},
		{name: "combo_url_traversal", method: "GET", target: "/??/a/x.js,/../../etc/passwd", want: []int{930100}},
		{name: "combo_url_encoded", method: "GET", target: "/??/%2e%2e/%2e%2e/etc/passwd", want: []int{930100}},
		{name: "command_prefix", method: "GET", target: "/x?lastLoginType=1", notWant: []int{932260}, pass: true},
		{name: "command", method: "GET", target: "/x?q=x%3Blastlog%20-u%20root", want: []int{932260}},
	})
}
