// Package waf runs Coraza with the OWASP Core Rule Set in front of a plain
// net/http handler. It knows nothing of Caddy: the caddymodule package feeds
// it requests and turns its verdicts into responses and events.
package waf

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mamori-waf/mamori/internal/detect"
	"github.com/mamori-waf/mamori/internal/request"
)

// Mode says whether the WAF enforces its verdicts.
type Mode string

const (
	// ModeBlock denies requests that the rules decide to block.
	ModeBlock Mode = "block"
	// ModeDetect lets every request through and only reports what would
	// have been blocked (Coraza's DetectionOnly).
	ModeDetect Mode = "detect"
)

// Config is everything that shapes one compiled WAF. Two equal Configs
// (with equal rule files on disk) share one compiled WAF.
type Config struct {
	// Mode is "block" (the default) or "detect".
	Mode Mode `json:"mode,omitempty"`
	// ParanoiaLevel is CRS's blocking paranoia level, 1 to 4 (default 1).
	// Rules above it never add to the blocking score.
	ParanoiaLevel int `json:"paranoia_level,omitempty"`
	// DetectionParanoiaLevel, 1 to 4 and at least ParanoiaLevel, runs the
	// rules up to this level for the events only: they never block.
	// Default: equal to ParanoiaLevel.
	DetectionParanoiaLevel int `json:"detection_paranoia_level,omitempty"`
	// InboundThreshold is the anomaly score at which a request is blocked
	// (CRS default 5: one critical match).
	InboundThreshold int `json:"inbound_threshold,omitempty"`
	// OutboundThreshold is the anomaly score at which a response is
	// blocked (CRS default 4).
	OutboundThreshold int `json:"outbound_threshold,omitempty"`
	// RequestBodyLimit is the largest request body, in bytes, that is
	// accepted; larger ones get 413. Default 13 MiB.
	RequestBodyLimit int64 `json:"request_body_limit,omitempty"`
	// RequestBodyInMemoryLimit is how much of a request body is held in
	// memory before Coraza spills it to a temporary file. Default 128 KiB.
	RequestBodyInMemoryLimit int64 `json:"request_body_in_memory_limit,omitempty"`
	// ResponseBodyLimit is how many bytes of a response body are
	// inspected; the rest passes uninspected. Default 512 KiB.
	ResponseBodyLimit int64 `json:"response_body_limit,omitempty"`
	// InspectResponseBody turns response body inspection on or off
	// (default on, for ResponseMIMETypes only).
	InspectResponseBody *bool `json:"inspect_response_body,omitempty"`
	// ResponseMIMETypes lists the response media types whose bodies are
	// inspected. Default: text/html, text/plain, text/xml.
	ResponseMIMETypes []string `json:"response_mime_types,omitempty"`
	// SetupDirectives are SecLang directives loaded before CRS, for CRS
	// setup variables (tx.arg_length, tx.allowed_methods, ...) and rules
	// that must run before CRS's.
	SetupDirectives string `json:"setup_directives,omitempty"`
	// Includes are extra rule files (virtual patches, site rules), loaded
	// after CRS. Glob patterns are expanded when the config is loaded, so
	// a reload picks up new and changed files.
	Includes []string `json:"include,omitempty"`
	// Directives are extra SecLang directives, loaded after Includes.
	Directives string `json:"directives,omitempty"`
	// Exclusions remove rules, or rules for one target, everywhere or only
	// under a path prefix.
	Exclusions []Exclusion `json:"exclusions,omitempty"`
	// IncludeDigest is a digest of the include files' contents, recorded
	// when the configuration is adapted from a Caddyfile, so that a changed
	// rule file changes the configuration and `mamori reload` applies it
	// (Caddy skips reloading an unchanged configuration). It changes
	// nothing else; with a JSON configuration use `mamori reload --force`.
	IncludeDigest string `json:"include_digest,omitempty"`
	// Packs are mamori's own rule files for the site (a CMS profile's
	// exclusions and virtual patches, rendered from the embedded rules/
	// package), loaded before CRS so that their ctl actions and patches
	// run before the CRS rules of the same phase. Set from the profile at
	// provisioning, never from JSON.
	Packs []RulePack `json:"-"`
	// Dialect is the parser family of the CMS behind mamori (request.CGI
	// for Movable Type, request.PHP for WordPress, request.Union without a
	// profile: both). Set from the profile at provisioning, never from
	// JSON. It picks how a body without a Content-Type is read
	// (untypedBodyRules, docs/detection.md).
	Dialect request.Dialect `json:"-"`
	// AllowedMethods are the methods CRS's 911100 allows
	// (tx.allowed_methods). Set at provisioning from the perimeter's
	// method allow-list (`limits { methods ... }`, every path's list
	// together), so that one option narrows both; empty means
	// DefaultAllowedMethods. CRS's own setvar in setup_directives, read
	// after it, still wins.
	AllowedMethods []string `json:"-"`
	// RegexPrefilter skips an @rx expression when a literal that every match
	// must contain is absent from the input (default on). mamori uses its
	// own copy of Coraza's prefilter with a fix: Coraza v3.8.1's misses CRS
	// regression tests 932311-7 and 942220-2.
	RegexPrefilter *bool `json:"regex_prefilter,omitempty"`
	// Detection switches mamori's detection layers beyond CRS (decoding,
	// every placement, own signatures, promoted PL2 rules, the free-text
	// scoring), loaded between CRS's detection rules and its blocking
	// evaluation. All on by default; see docs/detection.md.
	Detection detect.Options `json:"detection,omitempty"`
	// Budget bounds the inspection work per request (bytes inspected,
	// bytes and values decoded, nesting depth); a request over it is
	// refused with 413 before the body rules run. See docs/perimeter.md.
	Budget Budget `json:"budget,omitzero"`
}

// RulePack is one of mamori's rule files rendered for a site.
type RulePack struct {
	// Name is the file's name under rules/ ("profiles/movabletype.conf").
	Name string
	// SecLang is its rendered text.
	SecLang string
}

// Exclusion removes a rule (or a range or tag of rules) entirely, or for
// one target only, everywhere or only for requests under PathPrefix.
type Exclusion struct {
	// Rules is a rule ID ("941100"), an ID range ("941100-941199") or a
	// tag ("tag:attack-xss").
	Rules string `json:"rules"`
	// Target, when set, limits the exclusion to one variable, such as
	// "ARGS:text" or "REQUEST_COOKIES:/^wordpress_/".
	Target string `json:"target,omitempty"`
	// PathPrefix, when set, limits the exclusion to requests whose path
	// begins with it (compared with the URL-decoded path, REQUEST_FILENAME).
	PathPrefix string `json:"path_prefix,omitempty"`
}

// Defaults of CRS and of mamori's engine settings.
const (
	DefaultParanoiaLevel            = 1
	DefaultInboundThreshold         = 5
	DefaultOutboundThreshold        = 4
	DefaultRequestBodyLimit         = 13 << 20
	DefaultRequestBodyInMemoryLimit = 128 << 10
	DefaultResponseBodyLimit        = 512 << 10

	// firstExclusionRuleID is where the IDs of the ctl rules that path
	// exclusions compile to begin (a range no CRS rule uses).
	firstExclusionRuleID = 3500000
)

// DefaultResponseMIMETypes are the response media types inspected by
// default: the ones CRS's response rules are written for.
var DefaultResponseMIMETypes = []string{"text/html", "text/plain", "text/xml"}

// WithDefaults returns a copy of c with unset fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeBlock
	}
	if c.ParanoiaLevel == 0 {
		c.ParanoiaLevel = DefaultParanoiaLevel
	}
	if c.DetectionParanoiaLevel == 0 {
		c.DetectionParanoiaLevel = c.ParanoiaLevel
	}
	if c.InboundThreshold == 0 {
		c.InboundThreshold = DefaultInboundThreshold
	}
	if c.OutboundThreshold == 0 {
		c.OutboundThreshold = DefaultOutboundThreshold
	}
	if c.RequestBodyLimit == 0 {
		c.RequestBodyLimit = DefaultRequestBodyLimit
	}
	if c.RequestBodyInMemoryLimit == 0 {
		c.RequestBodyInMemoryLimit = min(DefaultRequestBodyInMemoryLimit, c.RequestBodyLimit)
	}
	if c.ResponseBodyLimit == 0 {
		c.ResponseBodyLimit = DefaultResponseBodyLimit
	}
	if c.InspectResponseBody == nil {
		c.InspectResponseBody = ptr(true)
	}
	if len(c.ResponseMIMETypes) == 0 {
		c.ResponseMIMETypes = DefaultResponseMIMETypes
	}
	if c.RegexPrefilter == nil {
		c.RegexPrefilter = ptr(true)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

var (
	ruleIDPattern = regexp.MustCompile(`^[0-9]{1,9}(-[0-9]{1,9})?$`)
	tagPattern    = regexp.MustCompile(`^tag:[A-Za-z0-9_./-]+$`)
	// No commas, quotes or semicolons: they would split the ctl action.
	targetPattern    = regexp.MustCompile(`^[A-Z_]+(:([A-Za-z0-9_.\-\[\]]+|/[^/\s"';,]+/))?$`)
	mimeTypePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)
	errEmptyExcluded = errors.New("exclusion needs a rule ID, an ID range or tag:NAME")
)

// Validate reports the first thing wrong with c, after defaults.
func (c Config) Validate() error {
	if c.Mode != ModeBlock && c.Mode != ModeDetect {
		return fmt.Errorf("mode must be %q or %q, not %q", ModeBlock, ModeDetect, c.Mode)
	}
	if c.ParanoiaLevel < 1 || c.ParanoiaLevel > 4 {
		return fmt.Errorf("paranoia level must be 1 to 4, not %d", c.ParanoiaLevel)
	}
	if c.DetectionParanoiaLevel < c.ParanoiaLevel || c.DetectionParanoiaLevel > 4 {
		return fmt.Errorf("detection paranoia level must be %d to 4 (at least the blocking level), not %d", c.ParanoiaLevel, c.DetectionParanoiaLevel)
	}
	if c.InboundThreshold < 1 {
		return fmt.Errorf("inbound anomaly threshold must be at least 1, not %d", c.InboundThreshold)
	}
	if c.OutboundThreshold < 1 {
		return fmt.Errorf("outbound anomaly threshold must be at least 1, not %d", c.OutboundThreshold)
	}
	if c.RequestBodyLimit < 1 {
		return fmt.Errorf("request body limit must be positive, not %d", c.RequestBodyLimit)
	}
	if c.RequestBodyInMemoryLimit < 1 || c.RequestBodyInMemoryLimit > c.RequestBodyLimit {
		return fmt.Errorf("request body in-memory limit must be between 1 and the request body limit (%d), not %d", c.RequestBodyLimit, c.RequestBodyInMemoryLimit)
	}
	if c.ResponseBodyLimit < 1 {
		return fmt.Errorf("response body limit must be positive, not %d", c.ResponseBodyLimit)
	}
	for _, m := range c.ResponseMIMETypes {
		if !mimeTypePattern.MatchString(m) {
			return fmt.Errorf("response MIME type %q is not a type/subtype in lower case", m)
		}
	}
	for _, m := range c.AllowedMethods {
		if !methodPattern.MatchString(m) {
			return fmt.Errorf("allowed method %q is not an HTTP method token", m)
		}
	}
	for i, e := range c.Exclusions {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("exclusion %d: %w", i+1, err)
		}
	}
	return nil
}

// Validate reports what is wrong with one exclusion.
func (e Exclusion) Validate() error {
	switch {
	case e.Rules == "":
		return errEmptyExcluded
	case tagPattern.MatchString(e.Rules):
	case ruleIDPattern.MatchString(e.Rules):
		if lo, hi, ok := strings.Cut(e.Rules, "-"); ok {
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			if l > h {
				return fmt.Errorf("rule range %q runs backwards", e.Rules)
			}
		}
	default:
		return fmt.Errorf("%q is not a rule ID, an ID range (941100-941199) or tag:NAME", e.Rules)
	}
	if e.Target != "" && !targetPattern.MatchString(e.Target) {
		return fmt.Errorf("target %q is not a variable such as ARGS:name, REQUEST_COOKIES:/regex/ or REQUEST_HEADERS:User-Agent", e.Target)
	}
	if e.PathPrefix != "" && (!strings.HasPrefix(e.PathPrefix, "/") || strings.ContainsAny(e.PathPrefix, "\" \t\r\n'%,")) {
		return fmt.Errorf("path %q must begin with / and hold no quotes, spaces, commas or %%-escapes (it is compared decoded)", e.PathPrefix)
	}
	return nil
}

func (e Exclusion) isTag() bool { return strings.HasPrefix(e.Rules, "tag:") }

// ruleSpecs is e's rule ID or range followed by the same for mamori's
// detection copies of the CRS rules it names (detect.CopyRanges) and
// mamori's signatures of their families (detect.SignatureRanges), so an
// exclusion written for a CRS rule, as an event names it, also covers its
// decoded, header, path and promoted copies and the signatures of the
// same attack class (9842901 for 942100).
func (e Exclusion) ruleSpecs() []string {
	specs := []string{e.Rules}
	lo, hi, isRange := strings.Cut(e.Rules, "-")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		return specs
	}
	for _, r := range append(detect.CopyRanges(l, h), detect.SignatureRanges(l, h)...) {
		if r[0] == r[1] {
			specs = append(specs, strconv.Itoa(r[0]))
		} else {
			specs = append(specs, fmt.Sprintf("%d-%d", r[0], r[1]))
		}
	}
	return specs
}

// startupDirective is the SecLang that applies e once, when the rules load
// (no path condition).
func (e Exclusion) startupDirective() string {
	switch {
	case e.isTag() && e.Target == "":
		return fmt.Sprintf("SecRuleRemoveByTag %q", strings.TrimPrefix(e.Rules, "tag:"))
	case e.isTag():
		return fmt.Sprintf("SecRuleUpdateTargetByTag %q \"!%s\"", strings.TrimPrefix(e.Rules, "tag:"), e.Target)
	case e.Target == "":
		return "SecRuleRemoveById " + strings.Join(e.ruleSpecs(), " ")
	default:
		return fmt.Sprintf("SecRuleUpdateTargetById %s \"!%s\"", strings.Join(e.ruleSpecs(), " "), e.Target)
	}
}

// ctlActions are the ctl actions that apply e to one transaction: one
// for e's rules and one for each range of mamori's copies (ruleSpecs).
func (e Exclusion) ctlActions() []string {
	switch {
	case e.isTag() && e.Target == "":
		return []string{"ctl:ruleRemoveByTag=" + strings.TrimPrefix(e.Rules, "tag:")}
	case e.isTag():
		return []string{"ctl:ruleRemoveTargetByTag=" + strings.TrimPrefix(e.Rules, "tag:") + ";" + e.Target}
	}
	var ctl []string
	for _, spec := range e.ruleSpecs() {
		if e.Target == "" {
			ctl = append(ctl, "ctl:ruleRemoveById="+spec)
		} else {
			ctl = append(ctl, "ctl:ruleRemoveTargetById="+spec+";"+e.Target)
		}
	}
	return ctl
}

// SecLang compiles c (after defaults) into the SecLang that loads
// mamori's engine settings, CRS and the operator's rules, in this order:
// engine settings, CRS setup, path-scoped exclusions (ctl rules that must
// run before the rules they change), rule packs (profile exclusions and
// virtual patches), CRS rules, includes, directives, and
// start-up exclusions (which must follow the rules they change).
func (c Config) SecLang() string {
	var b strings.Builder
	engine := "On"
	if c.Mode == ModeDetect {
		engine = "DetectionOnly"
	}
	fmt.Fprintf(&b, "SecRuleEngine %s\n", engine)
	b.WriteString("SecRequestBodyAccess On\n")
	// Coraza refuses a body once its buffer reaches the limit; the limit is
	// documented as the largest body accepted, hence the +1.
	fmt.Fprintf(&b, "SecRequestBodyLimit %d\n", c.RequestBodyLimit+1)
	fmt.Fprintf(&b, "SecRequestBodyInMemoryLimit %d\n", c.RequestBodyInMemoryLimit)
	b.WriteString("SecRequestBodyLimitAction Reject\n")
	b.WriteString("SecRequestBodyJsonDepthLimit 1024\n")
	if *c.InspectResponseBody {
		b.WriteString("SecResponseBodyAccess On\n")
	} else {
		b.WriteString("SecResponseBodyAccess Off\n")
	}
	fmt.Fprintf(&b, "SecResponseBodyMimeType %s\n", strings.Join(c.ResponseMIMETypes, " "))
	fmt.Fprintf(&b, "SecResponseBodyLimit %d\n", c.ResponseBodyLimit)
	b.WriteString("SecResponseBodyLimitAction ProcessPartial\n")
	if *c.RegexPrefilter {
		b.WriteString("SecRxPreFilter On\n")
	}
	// mamori reports matches itself, as structured events: no audit log.
	b.WriteString("SecAuditEngine Off\n")
	b.WriteString(bodyProcessorRules)
	b.WriteString(untypedBodyRules(c.Dialect))

	b.WriteString("SecDefaultAction \"phase:1,log,auditlog,pass\"\n")
	b.WriteString("SecDefaultAction \"phase:2,log,auditlog,pass\"\n")
	b.WriteString("SecDefaultAction \"phase:3,log,auditlog,pass\"\n")
	b.WriteString("SecDefaultAction \"phase:4,log,auditlog,pass\"\n")
	b.WriteString("SecDefaultAction \"phase:5,log,auditlog,pass\"\n")
	fmt.Fprintf(&b, `SecAction "id:900990,phase:1,pass,t:none,nolog,tag:'OWASP_CRS',ver:'OWASP_CRS/4.25.0',setvar:tx.crs_setup_version=4250"`+"\n")
	fmt.Fprintf(&b, `SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d"`+"\n", c.ParanoiaLevel)
	fmt.Fprintf(&b, `SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=%d"`+"\n", c.DetectionParanoiaLevel)
	fmt.Fprintf(&b, `SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=%d"`+"\n", c.InboundThreshold, c.OutboundThreshold)

	// The request body types CRS's 920420 accepts: CRS's list plus the
	// types browsers send outside forms (sendBeacon text and blobs, the
	// Reporting API, streaming JSON, protobuf APIs). Operators restrict it
	// with their own setvar in setup_directives (read after this).
	b.WriteString(`SecAction "id:900220,phase:1,pass,t:none,nolog,setvar:'tx.allowed_request_content_type=` + AllowedRequestContentTypes + `'"` + "\n")
	// The methods the CMSs' APIs use (911100, policy.go): the perimeter's
	// list. CRS's own setvar in setup_directives is read after this.
	fmt.Fprintf(&b, `SecAction "id:200020,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=%s'"`+"\n", c.allowedMethods())

	if c.SetupDirectives != "" {
		b.WriteString(c.SetupDirectives)
		b.WriteString("\n")
	}
	// After the operator's list: the structured-suffix entry and the
	// rule for requests without a body (policy.go).
	b.WriteString(contentTypePolicyRules)

	id := firstExclusionRuleID
	for _, e := range c.Exclusions {
		if e.PathPrefix == "" {
			continue
		}
		fmt.Fprintf(&b, "SecRule REQUEST_FILENAME \"@beginsWith %s\" \"id:%d,phase:1,pass,nolog,t:none,%s\"\n", e.PathPrefix, id, strings.Join(e.ctlActions(), ","))
		id++
	}

	b.WriteString(jsonNameRules(c.Detection.Enabled()))

	for _, p := range c.Packs {
		b.WriteString(packHeader(p))
		b.WriteString(p.SecLang)
		if !strings.HasSuffix(p.SecLang, "\n") {
			b.WriteString("\n")
		}
	}

	if c.Detection.Enabled() {
		// After the rule packs (virtual patches read arguments as the CMS
		// gets them), before CRS: JSON-valued arguments judged by their
		// strings, as CRS judges JSON bodies (internal/detect, issue 11).
		b.WriteString(detect.ArgumentRules)
	}
	b.WriteString("Include @owasp_crs/*.conf\n")
	b.WriteString(jsonLeafDirectives())
	for _, inc := range c.Includes {
		fmt.Fprintf(&b, "Include %s\n", inc)
	}
	if c.Directives != "" {
		b.WriteString(c.Directives)
		b.WriteString("\n")
	}
	for _, e := range c.Exclusions {
		if e.PathPrefix == "" {
			b.WriteString(e.startupDirective())
			b.WriteString("\n")
		}
	}
	return b.String()
}

// AllowedRequestContentTypes is mamori's default tx.allowed_request_content_type:
// CRS's default list, the types of CRS's recommended setup (multipart/related,
// CloudEvents), and those real browser traffic carries outside forms
// (measured on the tuning part of the real-traffic corpus, tests/eval).
// The entry |application/*+json| stands for every RFC 6839 JSON
// structured-suffix type (contentTypePolicyRules); the AWS JSON protocol
// types (x-amz-json-1.0, -1.1) are JSON without the suffix.
const AllowedRequestContentTypes = "|application/x-www-form-urlencoded| |multipart/form-data| |multipart/related| |text/xml| |application/xml| |application/soap+xml| " +
	"|application/json| |application/cloudevents+json| |application/cloudevents-batch+json| |application/csp-report| |application/reports+json| " +
	"|text/plain| |application/octet-stream| |application/x-protobuf| |application/protobuf| |application/x-ndjson| |application/x-json-stream| |application/graphql| " +
	"|application/*+json| |application/x-amz-json-1.0| |application/x-amz-json-1.1|"

// packHeader is the comment line that starts a rule pack in the SecLang.
func packHeader(p RulePack) string { return "# mamori rule pack " + p.Name + "\n" }

// bodyProcessorRules pick Coraza's body parser by content type and refuse
// bodies that fail to parse (as in coraza.conf-recommended), so an attack
// cannot hide in a body the rules never saw as arguments. Forms and
// multipart bodies are Coraza's own choice; XML and JSON types (CSP
// reports are JSON) go to their parsers; any other declared type
// (text/plain beacons, protobuf, NDJSON streams, octet streams) is read as
// raw bytes into REQUEST_BODY, never as a URL-encoded form: an application
// does not parse it as one, and its binary "argument names" would trip
// CRS's form rules (921150). CRS's REQUEST_BODY rules and mamori's
// signatures inspect the raw bytes. A body without a Content-Type is
// read as the CMS reads it (untypedBodyRules).
const bodyProcessorRules = `SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/(?:json|csp-report|x-amz-json-1\.[01])" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule &REQUEST_HEADERS:Content-Type "@eq 1" "id:200007,phase:1,t:none,pass,nolog,chain"
	SecRule REQUEST_HEADERS:Content-Type "!@rx ^(?:application/x-www-form-urlencoded|multipart/form-data|(?:application(?:/soap\+|/)|text/)xml|application/(?:json|csp-report|x-amz-json-1\.[01])|application/[a-z0-9.-]+[+]json)" "t:none,t:trim,t:lowercase,ctl:requestBodyProcessor=RAW"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
`
