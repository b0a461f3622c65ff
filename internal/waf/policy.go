package waf

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mamori-waf/mamori/internal/request"
)

// DefaultAllowedMethods is mamori's tx.allowed_methods (CRS 911100) when
// the configuration names none: the perimeter's default method
// allow-list (limits.DefaultMethods). CRS's default (GET HEAD POST
// OPTIONS) refuses the CMSs' own APIs: WordPress's REST API (/wp-json/,
// ?rest_route=) edits with PUT and PATCH and deletes with DELETE
// (WP_REST_Server::EDITABLE, DELETABLE), and Movable Type's Data API
// (mt-data-api.cgi) updates with PUT and deletes with DELETE (logout is
// DELETE /vN/authentication). Other methods (TRACE, CONNECT, WebDAV's,
// made-up ones) stay refused.
const DefaultAllowedMethods = "GET HEAD POST PUT PATCH DELETE OPTIONS"

// methodPattern is an HTTP method (an RFC 9110 token without the quote
// characters, which would end the setvar).
var methodPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&*+.^_|~-]+$")

// allowedMethods is the value of tx.allowed_methods for c.
func (c Config) allowedMethods() string {
	if len(c.AllowedMethods) == 0 {
		return DefaultAllowedMethods
	}
	return strings.Join(c.AllowedMethods, " ")
}

// noBodyVar is the TX variable the transaction sets to 1 for a request
// that carries no body (no Content-Length or a zero one, no
// Transfer-Encoding, no HTTP/2 or HTTP/3 DATA): net/http knows, the rules
// cannot tell an HTTP/2 body without Content-Length from none.
const noBodyVar = "mamori_no_body"

// contentTypePolicyRules apply the body-type policy (CRS 920420) to what
// it is about, a body, and read its list's structured-suffix entry. They
// run after the operator's setup directives, before CRS:
//
//   - A request without a body (a GET whose script set a Content-Type) has
//     no body whose type could be refused: 920420 does not judge it. The
//     header's syntax is still checked (920470, 920480).
//   - "|application/*+json|" in tx.allowed_request_content_type allows
//     every RFC 6839 JSON structured-suffix type (application/ld+json,
//     application/problem+json, vnd.api+json): the request's own type is
//     added to the list for this request. Those bodies are parsed as JSON
//     (rule 200006, the same subtype characters). An operator's list without the entry refuses them,
//     as CRS does.
var contentTypePolicyRules = fmt.Sprintf(`SecRule TX:allowed_request_content_type "@contains |application/*+json|" "id:200021,phase:1,pass,nolog,t:none,chain"
	SecRule REQUEST_HEADERS:Content-Type "@rx ^(application/[a-z0-9.-]+\+json)(?:[\s;]|$)" "t:none,t:lowercase,capture,setvar:'tx.allowed_request_content_type=%%{tx.allowed_request_content_type} |%%{tx.1}|'"
SecRule TX:%s "@eq 1" "id:200022,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=920420"
`, noBodyVar)

// untypedFormMethods are the methods whose body without a Content-Type
// the dialect's CMS may read as a form (for PHP, a POST only when it names
// another method: rule 200011).
func untypedFormMethods(d request.Dialect) []string {
	if d == request.CGI {
		return []string{"POST", "PUT", "PATCH"}
	}
	return []string{"POST", "PUT", "PATCH", "DELETE"}
}

// untypedBodyRules choose how a body without a Content-Type is read: as
// the CMS reads it. RFC 9110 (8.3) lets a recipient treat it as
// application/octet-stream, but both CMSs read it as a URL-encoded form
// in some requests:
//
//   - CGI.pm (Movable Type; CGI.pm 4.55's init) reads the body of a POST,
//     PUT or PATCH without CONTENT_TYPE as a form (or a keyword list); it
//     ignores the body of any other method.
//   - PHP fills $_POST only for a form or multipart type, but WordPress's
//     REST API parses a body without Content-Type as a form ("for maximum
//     compatibility", WP_REST_Request::parse_body_params) for PUT, PATCH
//     and DELETE, and for a POST that names another method (?_method= or
//     X-HTTP-Method-Override).
//
// Where the CMS reads it, the body is inspected as a form (CRS's forced
// URL-encoded reading) and CRS's rules for a body without a type (920340,
// 920640) apply. Where it does not, the body is bytes nobody parses: it is
// inspected raw, like application/octet-stream, and those two rules do not
// refuse it (a binary beacon is not an evasion of a parser that never
// reads it). Without a profile, a body either CMS would read is a form:
// POST, PUT, PATCH and DELETE.
func untypedBodyRules(d request.Dialect) string {
	const raw = "ctl:requestBodyProcessor=RAW,ctl:ruleRemoveById=920340,ctl:ruleRemoveById=920640"
	s := fmt.Sprintf(`SecRule &REQUEST_HEADERS:Content-Type "@eq 0" "id:200010,phase:1,pass,nolog,t:none,chain"
	SecRule REQUEST_METHOD "!@rx ^(?:%s)$" "t:none,%s"
`, strings.Join(untypedFormMethods(d), "|"), raw)
	if d == request.PHP {
		s += `SecRule &REQUEST_HEADERS:Content-Type "@eq 0" "id:200011,phase:1,pass,nolog,t:none,chain"
	SecRule REQUEST_METHOD "@streq POST" "t:none,chain"
		SecRule &REQUEST_HEADERS:X-HTTP-Method-Override "@eq 0" "t:none,chain"
			SecRule &ARGS_GET:_method "@eq 0" "t:none,` + raw + `"
`
	}
	return s
}
