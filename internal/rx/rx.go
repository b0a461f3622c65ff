// Package rx is mamori's @rx operator for Coraza: RE2 (a DFA, compiled to pure
// Go) instead of Go's backtracking-free but DFA-less regexp, behind a literal
// prefilter. Importing it registers the operator for every WAF in the process.
package rx

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	re2 "github.com/wasilibs/go-re2"
	"rsc.io/binaryregexp"
)

// mamori replaces Coraza's @rx operator with one that runs RE2 (go-re2,
// compiled to pure Go: no cgo). Go's regexp has no DFA: on CRS's large
// expressions it costs 300-600 ns per input byte, RE2's DFA a few. The
// semantics are Coraza's: the expression gets the (?sm) prefix, up to nine
// captures are recorded when the rule captures, expressions that match
// arbitrary bytes use binaryregexp, and input that is not valid UTF-8 goes
// to RE2 with each invalid byte written as U+FFFD, the rune Go's regexp
// reads it as (RE2 would stop at the first invalid byte, an evasion).
// With SecRxPreFilter On, expressions whose required literals are absent
// are skipped first (rxprefilter.go, Coraza's prefilter with a fix), and
// any expression when the input holds none of the bytes every match needs
// (bytefilter.go; binaryregexp's expressions too).
// The registration is process-wide: every Coraza WAF in the binary uses it.
func init() {
	plugins.RegisterOperator("rx", newRX)
}

type rx struct {
	fast      *re2.Regexp // nil if RE2 refused the expression
	std       *regexp.Regexp
	minLen    int
	prefilter func(string) bool
}

type binaryRX struct {
	re        *binaryregexp.Regexp
	prefilter func(string) bool // the bytes any match needs (bytefilter.go), nil if none
}

func memoize(m plugintypes.Memoizer, key string, fn func() (any, error)) (any, error) {
	if m == nil {
		return fn()
	}
	return m.Do(key, fn)
}

func newRX(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	expr := "(?sm)" + options.Arguments
	if matchesArbitraryBytes(expr) {
		key := fmt.Sprintf("mamori-binrx:%v:%s", options.RxPreFilterEnabled, options.Arguments)
		op, err := memoize(options.Memoizer, key, func() (any, error) {
			re, err := binaryregexp.Compile(options.Arguments)
			if err != nil {
				return nil, err
			}
			o := &binaryRX{re: re}
			if options.RxPreFilterEnabled {
				o.prefilter = binaryByteFilterFunc(options.Arguments)
			}
			return o, nil
		})
		if err != nil {
			return nil, err
		}
		return op.(*binaryRX), nil
	}
	key := fmt.Sprintf("mamori-rx:%v:%s", options.RxPreFilterEnabled, expr)
	op, err := memoize(options.Memoizer, key, func() (any, error) {
		std, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		o := &rx{std: std}
		if fast, err := re2.Compile(expr); err == nil {
			o.fast = fast
		}
		if options.RxPreFilterEnabled {
			o.minLen = minMatchLength(expr)
			// The required literals and the bytes any match needs
			// (bytefilter.go): both are necessary; the cheaper runs
			// first, the other only on what it lets through.
			lit, bytes := prefilterFunc(expr), byteFilterFunc(expr)
			switch {
			case lit == nil:
				o.prefilter = bytes.check
			case bytes.check == nil:
				o.prefilter = lit
			case bytes.cheap:
				o.prefilter = func(s string) bool { return bytes.check(s) && lit(s) }
			default:
				o.prefilter = func(s string) bool { return lit(s) && bytes.check(s) }
			}
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	return op.(*rx), nil
}

type matcher interface {
	MatchString(string) bool
	FindStringSubmatchIndex(string) []int
}

func (o *rx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if len(value) < o.minLen || (o.prefilter != nil && !o.prefilter(value)) {
		return false
	}
	if o.fast == nil {
		return evaluate(o.std, tx, value)
	}
	if utf8.ValidString(value) {
		return evaluate(o.fast, tx, value)
	}
	// Go's regexp reads each byte of an invalid sequence as one U+FFFD;
	// RE2 would stop at it. RE2 runs on the same runes, valid: each such
	// byte written as U+FFFD (Go's regexp on invalid input costs hundreds
	// of ns a byte: 2.5 s of a 1.2 MB form of random ASCII, whose %xx
	// decode to invalid bytes). Captures are taken back from the value.
	valid := toValidRunes(value)
	if !o.fast.MatchString(valid) {
		return false
	}
	if !tx.Capturing() {
		return true
	}
	m := o.fast.FindStringSubmatchIndex(valid)
	if m == nil {
		return false
	}
	at := originalOffsets(value, valid)
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[at[m[2*i]]:at[m[2*i+1]]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// toValidRunes writes each byte of s that does not start a valid UTF-8
// sequence as U+FFFD, as Go's regexp reads it (utf8.DecodeRuneInString:
// RuneError, width 1); strings.ToValidUTF8 would join a run of them into
// one. The last result is kept: the rules of a request run on the same
// few values.
func toValidRunes(s string) string {
	if c := lastValid.Load(); c != nil && c.in == s {
		return c.out
	}
	b := make([]byte, 0, len(s)+len(s)/8+8)
	start := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			start = i + 1
		}
		i += n
	}
	b = append(b, s[start:]...)
	out := string(b)
	lastValid.Store(&validRunes{s, out})
	return out
}

// validRunes is a value and its toValidRunes.
type validRunes struct{ in, out string }

var lastValid atomic.Pointer[validRunes]

// originalOffsets maps each rune boundary of valid (toValidRunes(s)) to
// the offset of the same rune in s; len(valid) maps to len(s).
func originalOffsets(s, valid string) []int {
	at := make([]int, len(valid)+1)
	j := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		w := n
		if r == utf8.RuneError && n == 1 {
			w = len("\uFFFD")
		}
		for k := range w {
			at[j+k] = i
		}
		i += n
		j += w
	}
	at[j] = len(s)
	return at
}

func (o *binaryRX) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.prefilter != nil && !o.prefilter(value) {
		return false
	}
	return evaluate(o.re, tx, value)
}

func evaluate(re matcher, tx plugintypes.TransactionState, value string) bool {
	if !tx.Capturing() {
		return re.MatchString(value)
	}
	// A rule that captures gets the submatch search alone: RE2 runs the
	// same DFA first and stops there when nothing matches, so a plain match
	// before it only scanned the text up to the match twice (on a 540 KiB
	// value, a tenth of the CPU of such a request).
	m := re.FindStringSubmatchIndex(value)
	if m == nil {
		return false
	}
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// matchesArbitraryBytes reports an expression with \xNN escapes that are
// not valid UTF-8 (Coraza's test, internal/operators/rx.go).
func matchesArbitraryBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if c != '\\' {
			decoded = append(decoded, c)
			continue
		}
		if i+3 >= len(expr) {
			decoded = append(decoded, expr[i:]...)
			break
		}
		if expr[i+1] != 'x' {
			decoded = append(decoded, expr[i])
			continue
		}
		sub := expr[i:]
		advance := 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub = `\x` + sub[3:end]
				advance = end
			}
		}
		v, mb, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || mb {
			decoded = append(decoded, expr[i])
			continue
		}
		decoded = append(decoded, byte(v))
		i += advance
	}
	return !utf8.Valid(decoded)
}
