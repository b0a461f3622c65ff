package waf

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/corazawaf/coraza/v3"
)

// crsIncludeLine is the line of the generated SecLang that loads CRS; what
// follows it is the operator's (includes, directives, exclusions).
const crsIncludeLine = "Include @owasp_crs/*.conf\n"

// locateError finds where a rule set that failed to compile went wrong,
// because Coraza's parser errors name neither the file nor the line. It
// recompiles growing prefixes of the operator's rules: first whole files,
// then, inside the first failing file, directives by binary search. Only
// run when loading has already failed, so its cost (a few compilations)
// is paid by broken configurations alone.
func locateError(c *Compiled, loadErr error) error {
	head, _, ok := strings.Cut(c.Directives, crsIncludeLine)
	if !ok {
		return loadErr
	}
	head += crsIncludeLine
	if compiles(head) != nil {
		return locatePack(c, head, loadErr)
	}
	prefix := head
	sources := append([]string(nil), c.Config.Includes...)
	for _, file := range sources {
		if compiles(prefix+"Include "+file+"\n") != nil {
			return locateInText(prefix, file, readFile(file), loadErr)
		}
		prefix += "Include " + file + "\n"
	}
	if c.Config.Directives != "" && compiles(prefix+c.Config.Directives+"\n") != nil {
		return locateInText(prefix, "directives", c.Config.Directives, loadErr)
	}
	return loadErr
}

// locatePack finds the rule pack that breaks head (the SecLang up to CRS),
// or blames mamori's generated settings and setup_directives.
func locatePack(c *Compiled, head string, loadErr error) error {
	base := head
	for _, p := range c.Config.Packs {
		base = strings.Replace(base, packHeader(p)+p.SecLang, "", 1)
	}
	generic := fmt.Errorf("in mamori's generated settings or setup_directives: %w", loadErr)
	if len(c.Config.Packs) == 0 || compiles(base) != nil {
		return generic
	}
	prefix := strings.TrimSuffix(base, crsIncludeLine)
	for _, p := range c.Config.Packs {
		if compiles(prefix+p.SecLang+"\n"+crsIncludeLine) != nil {
			return locateInText(prefix, "rule pack "+p.Name, p.SecLang, loadErr)
		}
		prefix += p.SecLang + "\n"
	}
	return generic
}

func readFile(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

// locateInText finds the first directive of text that fails after prefix.
func locateInText(prefix, name, text string, loadErr error) error {
	units := directiveUnits(text)
	// Invariant: the first lo units compile, the first hi do not.
	lo, hi := 0, len(units)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if compiles(prefix+joinUnits(units[:mid])) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	if hi == 0 || hi > len(units) {
		return fmt.Errorf("%s: %w", name, loadErr)
	}
	reason := compiles(prefix + joinUnits(units[:hi]))
	if reason == nil {
		reason = loadErr
	}
	return fmt.Errorf("%s:%d: %w", name, units[hi-1].line, unwrapParser(reason))
}

// unwrapParser drops Coraza's generic wrapping ("invalid WAF config from
// string: failed to parse string: ...") and keeps the reason.
func unwrapParser(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, "failed to parse string: "); i >= 0 {
		return fmt.Errorf("%s", msg[i+len("failed to parse string: "):])
	}
	return err
}

type unit struct {
	line int
	text string
}

// directiveUnits splits SecLang into directives (continuation lines and
// backtick blocks joined), each with the line it starts on.
func directiveUnits(text string) []unit {
	var units []unit
	var cur strings.Builder
	start, n, inBackticks := 0, 0, false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			start = n
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		switch {
		case !inBackticks && strings.HasSuffix(trimmed, "`"):
			inBackticks = true
			continue
		case inBackticks && strings.HasPrefix(trimmed, "`"):
			inBackticks = false
		case inBackticks, strings.HasSuffix(trimmed, "\\"):
			continue
		}
		units = append(units, unit{line: start, text: cur.String()})
		cur.Reset()
	}
	if cur.Len() > 0 {
		units = append(units, unit{line: start, text: cur.String()})
	}
	return units
}

func joinUnits(us []unit) string {
	var b strings.Builder
	for _, u := range us {
		b.WriteString(u.text)
	}
	return b.String()
}

func compiles(directives string) error {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(rulesFS{}).WithDirectives(directives))
	if err == nil {
		if c, ok := w.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
	return err
}
