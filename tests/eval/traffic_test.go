package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-waf/mamori/internal/evalcorpus"
	"github.com/mamori-waf/mamori/tests/harness"
)

// The real-traffic evaluation (issue 11): blazehttp's recorded browser
// requests and labelled attacks (../shared/corpora/README.md), replayed as
// blazehttp replays them against the built binary with its defaults,
// blocking, in front of an upstream that answers 200 to everything. A
// request counts as refused when the answer is not 2xx/3xx; mamori's access
// log says which guard and rules refused it.
//
// The corpus is split by a hash of each file name into a tuning part and
// a held-out part (evalcorpus.TuningPart, fixed before any tuning); the
// report prints both side by side and lists cases of the tuning part only.
//
// The corpus is GPL-3.0 and stays outside the repository: it is read from
// ../shared/corpora/ next to the repository's root (CI always has it), or
// from $MAMORI_CORPORA. `make test` replays a hash-chosen sample of
// trafficSample requests in 1024; `make eval-traffic` replays all of them
// (MAMORI_TRAFFIC_FULL=1).

// trafficCorpus is the corpus's path.
func trafficCorpus() string {
	dir := os.Getenv("MAMORI_CORPORA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpora")
	}
	return filepath.Join(dir, "blazehttp-train.tar.gz")
}

// trafficSample is how many requests in 1024 `make test` replays; the
// choice is by the file name's hash (not by the split's byte), so both
// parts are sampled alike.
const trafficSample = 256

// Ratchets, per part: a margin around the figures reached (issue 11, second
// round: 2.0 % refused and 95 to 98 % detected on the whole corpus; before
// it 5 to 5.5 % and 82 to 90 %; with the CRS rules mamori tightens 1.12 to
// 1.21 %, 1.0 to 1.2 % on the sample), wide enough for the sample's spread, so
// that a change that makes them clearly worse fails. The issue's
// false-positive target (≤ 0.5 % refused) is not reached yet; the targets
// are printed next to the figures.
const (
	trafficMaxFalsePositives = 3.0
	trafficMinDetection      = 85.0
)

func TestRealTraffic(t *testing.T) {
	file := trafficCorpus()
	if _, err := os.Stat(file); err != nil {
		msg := fmt.Sprintf("REAL-TRAFFIC CORPUS ABSENT: %s (%v): the real-traffic evaluation did NOT run", file, err)
		fmt.Println(msg)
		t.Skip(msg)
	}
	start := time.Now()
	cases, err := evalcorpus.LoadTraffic(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 16000 {
		t.Fatalf("%s: %d cases, want the 16 847 of the corpus", file, len(cases))
	}
	cases = onlyTuning(t, cases)
	full := os.Getenv("MAMORI_TRAFFIC_FULL") != ""
	if !full {
		var sample []evalcorpus.TrafficCase
		for _, c := range cases {
			if evalcorpus.InSample(c.Name, trafficSample) {
				sample = append(sample, c)
			}
		}
		fmt.Printf("real traffic: a hash-chosen sample of %d of %d requests (MAMORI_TRAFFIC_FULL=1 or `make eval-traffic` for all)\n", len(sample), len(cases))
		cases = sample
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer upstream.Close()
	config := strings.Replace(caddyfile, "OPTIONS", "mode block", 1)
	if os.Getenv("MAMORI_TRAFFIC_DUMP") != "" {
		config = strings.Replace(config, "level ERROR", "level WARN", 1) // the security events, for the dump
	}
	m := harness.StartMamori(t, config, strings.TrimPrefix(upstream.URL, "http://"))
	results := evalcorpus.ReplayTraffic(context.Background(), strings.TrimPrefix(m.URL, "http://"), cases, 4)
	replayed := time.Since(start)
	attachLog(t, m, results)
	rep := evalcorpus.SummarizeTraffic("mamori", results)
	rep.WriteText(os.Stdout, 40, 60, "tune")
	if dump := os.Getenv("MAMORI_TRAFFIC_DUMP"); dump != "" {
		// For tuning: the tuning part's refused benign requests and missed
		// attacks, one per line (the held-out part is never listed).
		var b strings.Builder
		for _, r := range results {
			if r.Tune && r.Blocked != r.Attack {
				fmt.Fprintf(&b, "%s\t%d\t%s\t%s\t%v\t%s\n", r.Name, r.Status, r.Guard, r.Rule, r.Rules, r.RequestID)
			}
		}
		if err := os.WriteFile(dump, []byte(b.String()), 0o600); err != nil {
			t.Error(err)
		}
		// mamori's own output (its security events: rule, target, match)
		// beside it, to see what matched; it holds held-out requests' events
		// too, so only look up the tuning-part request IDs listed above.
		if err := os.WriteFile(dump+".events", []byte(m.Proc.String()), 0o600); err != nil {
			t.Error(err)
		}
	}
	fmt.Printf("real traffic: %d requests in %s (targets: ≤ 0.5%% refused, ≥ 92%% detected)\n", len(results), replayed.Round(time.Second))
	for _, name := range []string{"tune", "held-out"} {
		p := rep.Parts[name]
		if p.Detection.Total+p.FalsePositives.Total == 0 {
			continue // not replayed (MAMORI_TRAFFIC_PART/NAMES)
		}
		if p.Errors > len(results)/100 {
			t.Errorf("%s: %d requests got no answer", name, p.Errors)
		}
		if f := p.FalsePositives.Percent(); f > trafficMaxFalsePositives {
			t.Errorf("%s: false positives %.2f%% > %.2f%%", name, f, trafficMaxFalsePositives)
		}
		if d := p.Detection.Percent(); d < trafficMinDetection {
			t.Errorf("%s: detection %.2f%% < %.2f%%", name, d, trafficMinDetection)
		}
	}
}

// onlyTuning narrows the replay for tuning work: MAMORI_TRAFFIC_PART=tune
// keeps the tuning part, MAMORI_TRAFFIC_NAMES=file keeps the tuning-part
// cases named in file (one name per line, e.g. the first column of a
// MAMORI_TRAFFIC_DUMP). Held-out cases are never replayed alone.
func onlyTuning(t *testing.T, cases []evalcorpus.TrafficCase) []evalcorpus.TrafficCase {
	part, names := os.Getenv("MAMORI_TRAFFIC_PART"), os.Getenv("MAMORI_TRAFFIC_NAMES")
	if part == "" && names == "" {
		return cases
	}
	if part != "" && part != "tune" {
		t.Fatalf("MAMORI_TRAFFIC_PART=%q: only \"tune\" can be replayed alone", part)
	}
	var keep map[string]bool
	if names != "" {
		b, err := os.ReadFile(names)
		if err != nil {
			t.Fatal(err)
		}
		keep = map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			if name, _, _ := strings.Cut(line, "\t"); name != "" {
				keep[strings.TrimSpace(name)] = true
			}
		}
	}
	var out []evalcorpus.TrafficCase
	for _, c := range cases {
		if evalcorpus.TuningPart(c.Name) && (keep == nil || keep[c.Name]) {
			out = append(out, c)
		}
	}
	fmt.Printf("real traffic: %d tuning-part requests only (MAMORI_TRAFFIC_PART/NAMES)\n", len(out))
	return out
}

// attachLog fills each result's guard and rules from mamori's access log,
// joined on the request ID; it waits for the lines of the last answers.
func attachLog(t *testing.T, m *harness.Mamori, results []evalcorpus.TrafficResult) {
	t.Helper()
	want := 0
	for _, r := range results {
		if r.RequestID != "" {
			want++
		}
	}
	var entries map[string]evalcorpus.AccessEntry
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		entries = readAccessLog(t, filepath.Join(m.LogDir, "access.log"))
		if len(entries) >= want || time.Now().After(deadline) {
			break
		}
	}
	missing := 0
	for i := range results {
		r := &results[i]
		e, ok := entries[r.RequestID]
		if !ok {
			missing++
			continue
		}
		r.Guard, r.Rule, r.Rules = e.Guard, e.Rule, e.Rules
		if r.Blocked && r.Guard == "" {
			r.Guard = "(status " + strconv.Itoa(r.Status) + ")"
		}
	}
	if missing > 0 {
		fmt.Printf("real traffic: %d answers without an access-log line (refused by net/http before mamori)\n", missing)
	}
}

func readAccessLog(t *testing.T, file string) map[string]evalcorpus.AccessEntry {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries := map[string]evalcorpus.AccessEntry{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		var e evalcorpus.AccessEntry
		if json.Unmarshal(s.Bytes(), &e) == nil && e.ID != "" {
			entries[e.ID] = e
		}
	}
	return entries
}
