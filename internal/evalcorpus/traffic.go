package evalcorpus

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Real traffic: raw HTTP/1.1 requests, one per file, as blazehttp's test
// cases (`*.white` recorded from real browsers, `*.black` labelled attacks).
// The corpus is not part of the repository (its licence is not the
// project's); LoadTraffic reads it from its tar.gz where it is kept.

// TrafficCase is one raw request of a traffic corpus.
type TrafficCase struct {
	// Name is the file's base name (its hex hash in blazehttp's layout).
	Name string
	// Attack is true for `*.black` files, false for `*.white`.
	Attack bool
	// Tune is true when the case is in the tuning part (see TuningPart).
	Tune bool
	// Raw is the file as recorded.
	Raw []byte
}

// TuningPart decides, from the file name alone and before any tuning, which
// part of a corpus a case is in: the first byte of sha256(name) below 0x80
// puts it in the tuning part (the part looked at when choosing rules,
// thresholds or exclusions); the rest is held out, only ever measured.
// This rule was fixed before any tuning on the corpus; changing it would
// void the held-out figures.
func TuningPart(name string) bool {
	sum := sha256.Sum256([]byte(name))
	return sum[0] < 0x80
}

// Part names a case's part in reports.
func (c TrafficCase) Part() string {
	if c.Tune {
		return "tune"
	}
	return "held-out"
}

// LoadTraffic reads every `*.white` and `*.black` file of a tar.gz corpus,
// in name order.
func LoadTraffic(file string) ([]TrafficCase, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var cases []TrafficCase
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Base(h.Name)
		var attack bool
		switch path.Ext(name) {
		case ".white":
		case ".black":
			attack = true
		default:
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			return nil, err
		}
		cases = append(cases, TrafficCase{Name: name, Attack: attack, Tune: TuningPart(name), Raw: raw})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// hopHeaders are the headers PrepareRaw replaces.
var hopHeaders = map[string]bool{"connection": true, "content-length": true, "keep-alive": true, "proxy-connection": true}

// PrepareRaw makes a recorded request sendable as blazehttp sends it: the
// request line and headers as recorded (Host kept), `Connection: close`,
// and `Content-Length` recomputed from the recorded body (sent when the
// request has a body or recorded one).
func PrepareRaw(raw []byte) []byte {
	head, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, body = raw[:i], raw[i+4:]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head, body = raw[:i], raw[i+2:]
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	var b bytes.Buffer
	hadLength := false
	for i, l := range lines {
		if i > 0 {
			name, _, _ := strings.Cut(l, ":")
			if hopHeaders[strings.ToLower(strings.TrimSpace(name))] {
				hadLength = hadLength || strings.EqualFold(strings.TrimSpace(name), "content-length")
				continue
			}
			if l == "" {
				continue
			}
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("Connection: close\r\n")
	if len(body) > 0 || hadLength {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// TrafficResult is one replayed case's outcome.
type TrafficResult struct {
	TrafficCase
	// Status is the response status (0 when no answer was read).
	Status int
	// Blocked is true when the answer is not 2xx or 3xx (blazehttp's rule).
	Blocked bool
	// RequestID is the answer's X-Request-Id (mamori's transaction.id).
	RequestID string
	// Guard, Rule and Rules are what mamori's access log says decided:
	// the guard, the deciding rule and every matched rule; filled by the
	// caller from the log (see AccessEntry).
	Guard, Rule string
	Rules       []int
	// Error is why no answer was read, if none was.
	Error string
}

// ReplayTraffic sends every case over its own connection to addr
// (host:port), concurrency at a time, and returns the results in case
// order.
func ReplayTraffic(ctx context.Context, addr string, cases []TrafficCase, concurrency int) []TrafficResult {
	if concurrency <= 0 {
		concurrency = 4
	}
	results := make([]TrafficResult, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = replayOne(ctx, addr, cases[i])
			}
		}()
	}
	for i := range cases {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return results
}

func replayOne(ctx context.Context, addr string, c TrafficCase) TrafficResult {
	res := TrafficResult{TrafficCase: c}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	// The answer is read while the request is written: a server may answer
	// (and refuse) before it has read a large body.
	go func() { _, _ = conn.Write(PrepareRaw(c.Raw)) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.Blocked = resp.StatusCode < 200 || resp.StatusCode >= 400
	res.RequestID = resp.Header.Get("X-Request-Id")
	return res
}

// AccessEntry is the part of a mamori access-log line the traffic report
// reads.
type AccessEntry struct {
	ID      string `json:"transaction.id"`
	Verdict string `json:"mamori.verdict"`
	Guard   string `json:"mamori.guard"`
	Rule    string `json:"rule.id"`
	Rules   []int  `json:"mamori.rule_ids"`
}

// TrafficReport sums up a replay per part (tuning, held-out).
type TrafficReport struct {
	// Label names the configuration measured.
	Label string
	// Parts holds the figures of "tune", "held-out" and "all".
	Parts map[string]*TrafficPart
}

// TrafficPart is the figures of one part.
type TrafficPart struct {
	// Detection is the share of attacks refused; FalsePositives the share
	// of benign requests refused; Errors the requests with no answer.
	Detection, FalsePositives Rate
	Errors                    int
	// FPByGuard and FPByRule count refused benign requests per deciding
	// guard and per matched rule; DetByGuard and DetByRule the same for
	// refused attacks.
	FPByGuard, FPByRule, DetByGuard, DetByRule map[string]int
	// Misses and FalsePositiveCases list the cases.
	Misses, FalsePositiveCases []TrafficResult
}

// TrafficParts are the report's parts in order.
var TrafficParts = []string{"tune", "held-out", "all"}

// SummarizeTraffic builds the report of a replay.
func SummarizeTraffic(label string, results []TrafficResult) *TrafficReport {
	rep := &TrafficReport{Label: label, Parts: map[string]*TrafficPart{}}
	for _, p := range TrafficParts {
		rep.Parts[p] = &TrafficPart{FPByGuard: map[string]int{}, FPByRule: map[string]int{},
			DetByGuard: map[string]int{}, DetByRule: map[string]int{}}
	}
	for _, r := range results {
		for _, p := range []*TrafficPart{rep.Parts[r.Part()], rep.Parts["all"]} {
			if r.Error != "" {
				p.Errors++
			}
			rate, byGuard, byRule := &p.FalsePositives, p.FPByGuard, p.FPByRule
			if r.Attack {
				rate, byGuard, byRule = &p.Detection, p.DetByGuard, p.DetByRule
			}
			rate.Total++
			if r.Blocked {
				rate.Hits++
				guard := r.Guard
				if guard == "" {
					guard = fmt.Sprintf("(no log line, status %d)", r.Status)
				}
				byGuard[guard]++
				for _, id := range r.ruleSet() {
					byRule[id]++
				}
			}
			switch {
			case r.Attack && !r.Blocked:
				p.Misses = append(p.Misses, r)
			case !r.Attack && r.Blocked:
				p.FalsePositiveCases = append(p.FalsePositiveCases, r)
			}
		}
	}
	return rep
}

// ruleSet is the rules counted for a refused request: every matched rule,
// or the deciding rule of a guard that records no matches.
func (r TrafficResult) ruleSet() []string {
	seen := map[string]bool{}
	var ids []string
	for _, id := range r.Rules {
		s := strconv.Itoa(id)
		if !seen[s] {
			seen[s] = true
			ids = append(ids, s)
		}
	}
	if len(ids) == 0 && r.Rule != "" {
		ids = append(ids, r.Guard+":"+r.Rule)
	}
	return ids
}

// WriteText writes the report: the parts side by side, then per guard and
// per rule (top maxRules), then up to maxList cases of the given part.
func (r *TrafficReport) WriteText(w io.Writer, maxRules, maxList int, listPart string) {
	fmt.Fprintf(w, "== %s: real traffic ==\n", r.Label)
	fmt.Fprintf(w, "  %-10s %-26s %-26s %s\n", "part", "false positives", "detection", "errors")
	for _, name := range TrafficParts {
		p := r.Parts[name]
		fmt.Fprintf(w, "  %-10s %-26s %-26s %d\n", name, p.FalsePositives, p.Detection, p.Errors)
	}
	counts := func(title string, get func(*TrafficPart) map[string]int, max int) {
		keys := map[string]bool{}
		for _, p := range r.Parts {
			for k := range get(p) {
				keys[k] = true
			}
		}
		all := get(r.Parts["all"])
		var list []string
		for k := range keys {
			list = append(list, k)
		}
		sort.Slice(list, func(i, j int) bool {
			if all[list[i]] != all[list[j]] {
				return all[list[i]] > all[list[j]]
			}
			return list[i] < list[j]
		})
		fmt.Fprintf(w, "%s (tune / held-out):\n", title)
		for i, k := range list {
			if max >= 0 && i >= max {
				fmt.Fprintf(w, "  ... %d more\n", len(list)-i)
				break
			}
			fmt.Fprintf(w, "  %-40s %5d %5d\n", k, get(r.Parts["tune"])[k], get(r.Parts["held-out"])[k])
		}
	}
	counts("false positives by guard", func(p *TrafficPart) map[string]int { return p.FPByGuard }, -1)
	counts("false positives by matched rule", func(p *TrafficPart) map[string]int { return p.FPByRule }, maxRules)
	counts("detection by guard", func(p *TrafficPart) map[string]int { return p.DetByGuard }, -1)
	counts("detection by matched rule", func(p *TrafficPart) map[string]int { return p.DetByRule }, maxRules)
	if p := r.Parts[listPart]; p != nil {
		list := func(title string, rs []TrafficResult) {
			fmt.Fprintf(w, "%s, %s part (%d):\n", title, listPart, len(rs))
			for i, res := range rs {
				if maxList >= 0 && i >= maxList {
					fmt.Fprintf(w, "  ... %d more\n", len(rs)-i)
					break
				}
				line, _, _ := bytes.Cut(res.Raw, []byte("\n"))
				if len(line) > 120 {
					line = append(line[:120:120], "…"...)
				}
				fmt.Fprintf(w, "  %s %3d %-8s %-8s %v %q\n", res.Name, res.Status, res.Guard, res.Rule, res.Rules, bytes.TrimSpace(line))
			}
		}
		list("false positives", p.FalsePositiveCases)
		list("misses", p.Misses)
	}
	for _, name := range TrafficParts {
		p := r.Parts[name]
		fmt.Fprintf(w, "SUMMARY %s traffic %-8s false positives %s  detection %s  errors %d\n",
			r.Label, name, p.FalsePositives, p.Detection, p.Errors)
	}
}

// InSample reports whether a case is in a hash-chosen sample of perKiB
// cases in 1024: the second and third bytes of sha256(name), independent
// of the byte that splits the tuning and held-out parts.
func InSample(name string, perKiB int) bool {
	sum := sha256.Sum256([]byte(name))
	return int(sum[1])<<2|int(sum[2]>>6) < perKiB
}
