// Package checklist decides, for one adapted (JSON) Caddy configuration,
// what mamori does about each item of the security checklist (CHECKLIST.md,
// docs/checklist.md): enforced, logged only, off, misconfigured or not
// applicable, with the directive that decides it and the test that proves
// the behaviour. `mamori check` prints it; this package imports no Caddy.
package checklist

import (
	"fmt"
	"strings"
)

// Verdict is what a configuration does about one checklist item.
type Verdict string

// The verdicts, weakest first after Misconfigured.
const (
	// Enforced: the item is enforced (refused or applied) for every request.
	Enforced Verdict = "enforced"
	// LoggedOnly: what would be refused is reported as an event and let
	// through (mode detect).
	LoggedOnly Verdict = "logged_only"
	// Off: nothing in the configuration enforces the item.
	Off Verdict = "off"
	// Misconfigured: a directive is there but defeats the item.
	Misconfigured Verdict = "misconfigured"
	// NotApplicable: the item is another component's in this set-up (for
	// example TLS that ends at a load balancer).
	NotApplicable Verdict = "not_applicable"
)

// rank orders verdicts from weakest (0) to strongest.
func (v Verdict) rank() int {
	switch v {
	case Misconfigured:
		return 0
	case Off:
		return 1
	case NotApplicable:
		return 2
	case LoggedOnly:
		return 3
	}
	return 4
}

// Scope says how much of an item a proxy can do.
type Scope string

const (
	// Proxy: the proxy does the whole item.
	Proxy Scope = "proxy"
	// Partly: part of the item is outside a proxy's reach (Outside says
	// which part).
	Partly Scope = "partly"
)

// Item is a checklist item as `mamori check` reports it.
type Item struct {
	// ID is the stable checklist ID (V1 … V12, A1 … A4, B1 … B4, S1 … S13).
	ID string `json:"id"`
	// Title is the item in a few words.
	Title string `json:"title"`
	// Scope is "proxy" or "partly".
	Scope Scope `json:"scope"`
	// Outside says what a proxy cannot do for the item (Scope "partly").
	Outside string `json:"outside,omitempty"`
	// Tests name the tests in the repository that prove the behaviour.
	Tests []string `json:"tests"`
}

// Result is one item's verdict for a configuration.
type Result struct {
	Item
	// Verdict is what the configuration does about the item.
	Verdict Verdict `json:"verdict"`
	// Reason names the directive that decides the verdict, or the one
	// that is missing.
	Reason string `json:"reason"`
	// Site is the site whose verdict this is; in Report.Items, the site
	// with the weakest verdict.
	Site string `json:"site,omitempty"`
}

// SiteReport is every item's verdict for one site.
type SiteReport struct {
	// Site is the site's host names (or listener address).
	Site string `json:"site"`
	// Items are the verdicts, in checklist order.
	Items []Result `json:"items"`
}

// Report is the checklist report for one configuration.
type Report struct {
	// Config is the configuration file (set by the caller).
	Config string `json:"config,omitempty"`
	// Items are the verdicts in checklist order; with several sites each
	// is the weakest site's verdict, and Site names that site.
	Items []Result `json:"items"`
	// Sites are the verdicts of each site that serves content.
	Sites []SiteReport `json:"sites"`
}

// Items are the checklist items in order (CHECKLIST.md). S4, S7, S9, S10
// and S12 are not defined there: they are host and organisation measures
// (OS patches, backups, maintenance networks, accounts) that no proxy
// configuration can show.
var Items = []Item{
	{ID: "V1", Title: "Buffer overflow", Scope: Proxy, Tests: []string{"TestRequestLimits", "TestPerimeterInDetectMode"}},
	{ID: "V2", Title: "SQL injection", Scope: Proxy, Tests: []string{"TestCRSRegressionSuite", "TestAttacksAreBlocked", "TestEvaluation"}},
	{ID: "V3", Title: "OS command injection", Scope: Proxy, Tests: []string{"TestCRSRegressionSuite", "TestEvaluation"}},
	{ID: "V4", Title: "Directory traversal", Scope: Proxy, Tests: []string{"TestPathGuards", "TestEvaluation"}},
	{ID: "V5", Title: "Backdoors and debug options", Scope: Proxy, Tests: []string{"TestPathGuards"}},
	{ID: "V6", Title: "Forced browsing", Scope: Proxy, Tests: []string{"TestAdminAllowedFromItsNetwork", "TestPathGuards"}},
	{ID: "V7", Title: "CSRF", Scope: Proxy, Tests: []string{"TestCSRF", "TestCSRFDefaultsAndOff"}},
	{ID: "V8", Title: "Session hijack, replay, fixation", Scope: Proxy, Tests: []string{"TestSessionGuard", "TestSessionSharedRedis", "TestAbsoluteTimeoutOutlivesRefreshes"}},
	{ID: "V9", Title: "Cross-site scripting", Scope: Proxy, Tests: []string{"TestEvaluation", "TestResponseHeaders", "TestCSPReportEndpoint"}},
	{ID: "V10", Title: "HTTP header injection", Scope: Proxy, Tests: []string{"TestRequestHeaderInjectionAndSmuggling", "TestMalformedHeadersAreRefused", "TestOpenRedirectRefused"}},
	{ID: "V11", Title: "Regular vulnerability scanning", Scope: Partly, Outside: "running the scan regularly is an operation: schedule `mamori scan https://<site>/` (cron or CI)", Tests: []string{"TestScanCommand"}},
	{ID: "V12", Title: "Immediate response to new vulnerabilities", Scope: Partly, Outside: "someone must write or install the patch and run `mamori reload-rules`", Tests: []string{"TestVirtualPatches", "TestReloadRulesUnderLoadDropsNothing", "TestWatchUnderLoadPicksUpPatches", "TestBrokenReloadKeepsRulesInForce"}},
	{ID: "A1", Title: "Redundancy", Scope: Partly, Outside: "the upstreams' own redundancy (CMS, database) and running several mamori instances behind a load balancer", Tests: []string{"TestSessionSharedRedis"}},
	{ID: "A2", Title: "One ID/password per person", Scope: Partly, Outside: "issuing one account per person is the CMS's; the proxy attributes every login and logout to its user", Tests: []string{"TestSessionGuard", "TestLoginAuditWordPress", "TestLoginAuditDataAPIAndThrottleOff"}},
	{ID: "A3", Title: "Password changeable by the user", Scope: Partly, Outside: "changing a password is the CMS's feature; the proxy checks the new one", Tests: []string{"TestPasswordPolicy"}},
	{ID: "A4", Title: "Encrypted channel", Scope: Proxy, Tests: []string{"TestResponseHeaders", "TestOutboundHardensAndSeals"}},
	{ID: "B1", Title: "Password rules", Scope: Proxy, Tests: []string{"TestPasswordPolicy"}},
	{ID: "B2", Title: "Nothing left on user terminals", Scope: Proxy, Tests: []string{"TestSessionGuard", "TestLogoutResponse"}},
	{ID: "B3", Title: "Access control to personal data", Scope: Partly, Outside: "access control inside the CMS and on the servers themselves", Tests: []string{"TestAdminAllowedFromItsNetwork"}},
	{ID: "B4", Title: "No guessable passwords", Scope: Proxy, Tests: []string{"TestPasswordPolicy", "TestThrottleSeesThroughEncodings", "TestSessionSharedRedis"}},
	{ID: "S1", Title: "Only specific IPs and ports", Scope: Partly, Outside: "ports other than mamori's listeners are the host firewall's", Tests: []string{"TestAdminAllowedFromItsNetwork"}},
	{ID: "S2", Title: "DB not reachable from the internet", Scope: Partly, Outside: "the database's own network placement and firewall", Tests: []string{"TestEvaluation"}},
	{ID: "S3", Title: "Unneeded ports and services closed", Scope: Partly, Outside: "other services on the host are the operating system's", Tests: []string{"TestValidate"}},
	{ID: "S5", Title: "All web access logged", Scope: Proxy, Tests: []string{"TestAccessLogHasOneLinePerRequest", "TestAbortedRequestIsLogged"}},
	{ID: "S6", Title: "Logs kept for a set period", Scope: Partly, Outside: "backups of the log directory", Tests: []string{"TestRotationRetentionAndTamperEvidence", "TestRetentionReport"}},
	{ID: "S8", Title: "Personal data encrypted", Scope: Partly, Outside: "data the CMS stores on its own servers", Tests: []string{"TestSecretsNeverReachTheLogs", "TestSecretsScanFindsAPlantedSecret"}},
	{ID: "S11", Title: "Login/logout logs", Scope: Partly, Outside: "logs of logins to the servers themselves (ssh, su)", Tests: []string{"TestLoginAuditWordPress", "TestSessionGuard"}},
	{ID: "S13", Title: "Service-level monitoring", Scope: Partly, Outside: "a Prometheus server, alert rules and someone who acts on them", Tests: []string{"TestMetricsCountAKnownMix"}},
}

// Options are facts about the environment `mamori check` runs in.
type Options struct {
	// LogKeyInEnv says $MAMORI_LOG_KEY is set: access logs without
	// chain_key are chained with it.
	LogKeyInEnv bool
}

// Evaluate decides every item for an adapted configuration.
func Evaluate(adapted []byte, opts Options) (*Report, error) {
	c, err := parse(adapted)
	if err != nil {
		return nil, err
	}
	if len(c.Sites) == 0 {
		return nil, fmt.Errorf("the configuration serves no site (no route with mamori or reverse_proxy)")
	}
	rep := &Report{}
	for _, s := range c.Sites {
		sr := SiteReport{Site: s.Name}
		for _, it := range Items {
			v, reason := decide(it.ID, c, s, opts)
			sr.Items = append(sr.Items, Result{Item: it, Verdict: v, Reason: reason, Site: s.Name})
		}
		rep.Sites = append(rep.Sites, sr)
	}
	for i := range Items {
		weakest := rep.Sites[0].Items[i]
		for _, sr := range rep.Sites[1:] {
			if sr.Items[i].Verdict.rank() < weakest.Verdict.rank() {
				weakest = sr.Items[i]
			}
		}
		rep.Items = append(rep.Items, weakest)
	}
	return rep, nil
}

// Unmet lists the required IDs whose verdict is not enforced, and the IDs
// that name no checklist item.
func (r *Report) Unmet(required []string) (unmet, unknown []string) {
	for _, id := range required {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		found := false
		for _, it := range r.Items {
			if it.ID == id {
				found = true
				if it.Verdict != Enforced {
					unmet = append(unmet, id)
				}
			}
		}
		if !found {
			unknown = append(unknown, id)
		}
	}
	return unmet, unknown
}
