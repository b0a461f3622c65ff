package caddymodule

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/logging"
)

// Retention describes where one log goes and how long it is kept (S6,
// S10), as `mamori logs retention` prints it.
type Retention struct {
	// Log names the log: "mamori access log" or Caddy's log name.
	Log string
	// Includes are the logger names the log takes (empty: all).
	Includes []string
	// Destination is the file, or the writer for other outputs.
	Destination string
	// Rolled is false when the file is never rotated or not a file.
	Rolled bool
	// RollSizeMB, RollInterval, KeepDays, KeepFiles and Compression are
	// the file writer's settings, Caddy's defaults filled in.
	RollSizeMB   int
	RollInterval time.Duration
	KeepDays     int
	KeepFiles    int
	Compression  string
	// Chained says whether lines carry the HMAC chain.
	Chained bool
	// Shipped lists the collectors that get a copy.
	Shipped []string
	// Warnings say what an auditor would object to.
	Warnings []string
}

// RetentionReport reads an adapted (JSON) configuration and describes the
// retention of every log: Caddy's logs and each mamori access log.
func RetentionReport(config []byte) ([]Retention, error) {
	var cfg struct {
		Logging struct {
			Logs map[string]struct {
				Writer  json.RawMessage `json:"writer"`
				Include []string        `json:"include"`
			} `json:"logs"`
		} `json:"logging"`
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	var out []Retention
	names := make([]string, 0, len(cfg.Logging.Logs))
	for n := range cfg.Logging.Logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := cfg.Logging.Logs[n]
		r := Retention{Log: "Caddy log " + n, Includes: l.Include}
		describeWriter(&r, l.Writer)
		out = append(out, r)
	}
	if _, ok := cfg.Logging.Logs["default"]; !ok {
		out = append(out, Retention{Log: "Caddy log default", Destination: "stderr",
			Warnings: []string{"not a file: kept only as long as the service manager's journal keeps it"}})
	}
	var handlers []json.RawMessage
	var walk func(json.RawMessage)
	walk = func(raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			if string(obj["handler"]) == `"mamori"` {
				handlers = append(handlers, raw)
			}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(obj[k])
			}
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			for _, v := range arr {
				walk(v)
			}
		}
	}
	walk(cfg.Apps["http"])
	seen := map[string]bool{}
	for _, raw := range handlers {
		var h Handler
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, err
		}
		al := h.Logs.AccessLog
		r := Retention{Log: "mamori access log", Includes: []string{AccessLoggerName}}
		if al != nil && al.Off {
			r.Destination = "off"
			r.Warnings = append(r.Warnings, "access_log off: requests through this handler are not logged by mamori (S5)")
		} else {
			writer := json.RawMessage(nil)
			if al != nil {
				writer = al.OutputRaw
			}
			writer = withDefaultFile(writer)
			describeWriter(&r, writer)
			keyChecked := false
			switch {
			case al != nil && al.ChainKey != "":
				r.Chained = r.Chained || keyResolves(&r, al.ChainKey)
				keyChecked = true
			default:
				r.Chained = r.Chained || envKeySet()
			}
			if !r.Chained && !keyChecked {
				r.Warnings = append(r.Warnings, "not tamper-evident: set chain_key or $"+LogKeyEnv)
			}
			if al != nil {
				for _, s := range al.ShipRaw {
					var sw SyslogWriter
					_ = json.Unmarshal(s, &sw)
					r.Shipped = append(r.Shipped, cmpOr(sw.Address, string(s)))
				}
			}
		}
		key := fmt.Sprint(r)
		if !seen[key] {
			seen[key] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// keyResolves reports whether a chain key source gives a usable key in
// this environment; if not, a warning says why (a placeholder of an unset
// variable chains nothing: mamori refuses to start with it).
func keyResolves(r *Retention, source string) bool {
	if _, err := resolveKey(source); err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("not chained in this environment: %v (mamori refuses to start until the chain key is set)", err))
		return false
	}
	return true
}

func envKeySet() bool { return strings.TrimSpace(osGetenv(LogKeyEnv)) != "" }

// describeWriter fills r from a writer's JSON.
func describeWriter(r *Retention, raw json.RawMessage) {
	if raw == nil {
		r.Destination = "stderr"
		r.Warnings = append(r.Warnings, "not a file: kept only as long as the service manager's journal keeps it")
		return
	}
	var w struct {
		Output string `json:"output"`
	}
	_ = json.Unmarshal(raw, &w)
	switch w.Output {
	case "mamori_chain":
		var cw ChainWriter
		_ = json.Unmarshal(raw, &cw)
		r.Chained = keyResolves(r, cw.Key)
		describeWriter(r, innerWriter(raw))
	case "file":
		var fw logging.FileWriter
		_ = json.Unmarshal(raw, &fw)
		r.Destination = fw.Filename
		r.Rolled = fw.Roll == nil || *fw.Roll
		r.RollSizeMB = fw.RollSizeMB
		if r.RollSizeMB == 0 {
			r.RollSizeMB = 100
		}
		r.RollInterval = time.Duration(fw.RollInterval)
		r.KeepDays, r.KeepFiles = fw.RollKeepDays, fw.RollKeep
		if r.KeepDays == 0 {
			r.KeepDays = 90
		}
		if r.KeepFiles == 0 {
			r.KeepFiles = 10
		}
		r.Compression = fw.RollCompression
		if r.Compression == "" {
			r.Compression = "gzip"
			if fw.RollCompress != nil && !*fw.RollCompress {
				r.Compression = "none"
			}
		}
		if !r.Rolled {
			r.Warnings = append(r.Warnings, "roll_disabled: the file grows without limit and nothing is removed")
		}
		if r.Rolled && r.KeepFiles < 1000 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("roll_keep %d: files beyond the %d newest are removed even if younger than roll_keep_for %dd; raise roll_keep", r.KeepFiles, r.KeepFiles, r.KeepDays))
		}
	case "":
		r.Destination = "stderr"
	default:
		r.Destination = w.Output
		var sw SyslogWriter
		if w.Output == "mamori_syslog" && json.Unmarshal(raw, &sw) == nil {
			r.Destination = "mamori_syslog " + sw.Address
		}
		if w.Output == "stderr" || w.Output == "stdout" || w.Output == "discard" {
			r.Warnings = append(r.Warnings, "not a file: no retention of its own")
		}
	}
}

// FormatRetention renders the report as text.
func FormatRetention(rs []Retention) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s\n", r.Log)
		if len(r.Includes) > 0 {
			fmt.Fprintf(&b, "  loggers:     %s\n", strings.Join(r.Includes, " "))
		}
		fmt.Fprintf(&b, "  destination: %s\n", r.Destination)
		if r.Rolled {
			interval := "no time-based roll"
			if r.RollInterval > 0 {
				interval = "every " + r.RollInterval.String()
			}
			if r.RollInterval%(24*time.Hour) == 0 && r.RollInterval > 0 {
				interval = fmt.Sprintf("every %dd", r.RollInterval/(24*time.Hour))
			}
			fmt.Fprintf(&b, "  rotation:    at %d MB, %s; compression %s\n", r.RollSizeMB, interval, r.Compression)
			fmt.Fprintf(&b, "  retention:   %d days (at most %d rolled files)\n", r.KeepDays, r.KeepFiles)
		}
		fmt.Fprintf(&b, "  chained:     %v\n", r.Chained)
		if len(r.Shipped) > 0 {
			fmt.Fprintf(&b, "  shipped to:  %s\n", strings.Join(r.Shipped, ", "))
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  WARNING:     %s\n", w)
		}
	}
	return b.String()
}

var osGetenv = os.Getenv

// innerWriter is the wrapped writer of a mamori_chain writer's JSON.
func innerWriter(raw json.RawMessage) json.RawMessage {
	var cw ChainWriter
	if json.Unmarshal(raw, &cw) != nil {
		return nil
	}
	return cw.OutputRaw
}
