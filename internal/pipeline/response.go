package pipeline

import "net/http"

// ResponseCheck judges the upstream's response before the client gets
// any of it: the WAF's response phases (waf.ResponseCheck) and the
// directory-listing check (paths.ListingCheck). mamori's one response
// writer (caddymodule/response.go) calls Head once with the final status
// and headers (the Content-Type sniffed from the first bytes when the
// upstream sent none), then Body with the body's bytes, in order, for
// as long as the check answers Keep, then End when the body is complete.
// The writer holds the status, headers and body until no check keeps
// them, and sends nothing of a response a check refuses: the handler
// answers instead. A check never writes.
type ResponseCheck interface {
	// Head judges the final status and headers.
	Head(status int, h http.Header) Hold
	// Body judges the next bytes of the body the check kept.
	Body(p []byte) Hold
	// End judges the body the check kept once it is complete.
	End() Hold
}

// Hold is a response check's answer.
type Hold uint8

const (
	// Release: the check has decided and lets the response go on; it is
	// not asked again.
	Release Hold = iota
	// Keep: the check must see more of the body before it decides; the
	// response is held back until then.
	Keep
	// Refuse: the check refuses the response; nothing of it is sent.
	Refuse
)
