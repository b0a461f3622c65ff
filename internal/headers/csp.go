package headers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// CSPReportLimit is the largest report body accepted: browsers send one
// report of a few hundred bytes, or a small batch.
const CSPReportLimit = 64 << 10

// CSPReport is one Content-Security-Policy violation a browser reported.
type CSPReport struct {
	// DocumentURI is the page that violated the policy.
	DocumentURI string
	// Directive is the directive it violated ("script-src-elem").
	Directive string
	// BlockedURI is what was blocked ("inline", "https://evil.example/x.js").
	BlockedURI string
	// Disposition is "enforce" or "report".
	Disposition string
	// Source is the file and line of the violation, when sent.
	Source string
}

// ErrReport is a report the endpoint does not accept; Status says how to
// answer.
type ErrReport struct {
	Status int
	Err    error
}

func (e *ErrReport) Error() string { return e.Err.Error() }

// ReadCSPReports reads the reports a browser POSTs to the report
// endpoint: "application/csp-report" (the report-uri format) or
// "application/reports+json" (the Reporting API's report-to format, a
// batch whose csp-violation entries are taken).
func ReadCSPReports(r *http.Request) ([]CSPReport, error) {
	if r.Method != http.MethodPost {
		return nil, &ErrReport{http.StatusMethodNotAllowed, errors.New("reports are POSTed")}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/csp-report" && mt != "application/reports+json" && mt != "application/json" {
		return nil, &ErrReport{http.StatusUnsupportedMediaType, fmt.Errorf("content type %.64q is not a CSP report", mt)}
	}
	if r.ContentLength > CSPReportLimit {
		return nil, &ErrReport{http.StatusRequestEntityTooLarge, errors.New("report too large")}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, CSPReportLimit+1))
	if err != nil {
		return nil, &ErrReport{http.StatusBadRequest, err}
	}
	if len(body) > CSPReportLimit {
		return nil, &ErrReport{http.StatusRequestEntityTooLarge, errors.New("report too large")}
	}
	body = []byte(strings.TrimSpace(string(body)))
	if len(body) > 0 && body[0] == '[' {
		var batch []struct {
			Type string `json:"type"`
			Body struct {
				DocumentURL        string `json:"documentURL"`
				EffectiveDirective string `json:"effectiveDirective"`
				BlockedURL         string `json:"blockedURL"`
				Disposition        string `json:"disposition"`
				SourceFile         string `json:"sourceFile"`
				LineNumber         int    `json:"lineNumber"`
			} `json:"body"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, &ErrReport{http.StatusBadRequest, fmt.Errorf("not a Reporting API batch: %v", err)}
		}
		var out []CSPReport
		for _, b := range batch {
			if b.Type != "csp-violation" {
				continue
			}
			out = append(out, CSPReport{DocumentURI: b.Body.DocumentURL, Directive: b.Body.EffectiveDirective,
				BlockedURI: b.Body.BlockedURL, Disposition: b.Body.Disposition, Source: source(b.Body.SourceFile, b.Body.LineNumber)})
		}
		if len(out) == 0 {
			return nil, &ErrReport{http.StatusBadRequest, errors.New("no csp-violation in the batch")}
		}
		return out, nil
	}
	var one struct {
		Report *struct {
			DocumentURI        string `json:"document-uri"`
			ViolatedDirective  string `json:"violated-directive"`
			EffectiveDirective string `json:"effective-directive"`
			BlockedURI         string `json:"blocked-uri"`
			Disposition        string `json:"disposition"`
			SourceFile         string `json:"source-file"`
			LineNumber         int    `json:"line-number"`
		} `json:"csp-report"`
	}
	if err := json.Unmarshal(body, &one); err != nil || one.Report == nil {
		return nil, &ErrReport{http.StatusBadRequest, errors.New("not a csp-report object")}
	}
	d := one.Report.EffectiveDirective
	if d == "" {
		d = one.Report.ViolatedDirective
	}
	return []CSPReport{{DocumentURI: one.Report.DocumentURI, Directive: d, BlockedURI: one.Report.BlockedURI,
		Disposition: one.Report.Disposition, Source: source(one.Report.SourceFile, one.Report.LineNumber)}}, nil
}

func source(file string, line int) string {
	if file == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", file, line)
}

// Summary is the report in one line, for an event's reason.
func (c CSPReport) Summary() string {
	s := fmt.Sprintf("%s blocked %s on %s", clip(c.Directive), clip(c.BlockedURI), clip(c.DocumentURI))
	if c.Disposition != "" {
		s += " (" + clip(c.Disposition) + ")"
	}
	if c.Source != "" {
		s += " at " + clip(c.Source)
	}
	return s
}

// clip keeps a browser-sent value short and on one line in the log.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
