package request

import "strings"

// phpMaxNesting is PHP's max_input_nesting_level default: a name with
// more array levels is dropped.
const phpMaxNesting = 64

// phpName reads a variable name as php_register_variable_ex does: leading
// spaces skipped, the name ends at a NUL, " " and "." in the base name
// become "_", "[" starts array keys ("a[b][]" is a, keys b and ""), a "["
// without a closing "]" becomes "_" with the spaces, dots and "[" after it
// (so "XDEBUG[SESSION_START" is "XDEBUG_SESSION_START"), and anything after the last "]" that is not
// another "[" is ignored. ok is false when PHP drops the variable (empty
// name, too deep).
func phpName(raw string) (name string, keys []string, ok bool) {
	if i := strings.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	raw = strings.TrimLeft(raw, " ")
	b := []byte(raw)
	open := -1
	for i, c := range b {
		if c == ' ' || c == '.' {
			b[i] = '_'
		} else if c == '[' {
			open = i
			break
		}
	}
	if open < 0 {
		if len(b) == 0 {
			return "", nil, false
		}
		return string(b), nil, true
	}
	if open == 0 {
		return "", nil, false
	}
	name = string(b[:open])
	rest := raw[open:] // from the first "[", unmangled
	for len(rest) > 0 && rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			if len(keys) == 0 {
				// Not an array: the "[" is a "_", and so are the
				// spaces, dots and "[" after it (PHP 8).
				tail := []byte(rest[1:])
				for i, c := range tail {
					if c == ' ' || c == '.' || c == '[' {
						tail[i] = '_'
					}
				}
				return name + "_" + string(tail), nil, true
			}
			break
		}
		keys = append(keys, rest[1:end])
		if len(keys) > phpMaxNesting {
			return "", nil, false
		}
		rest = rest[end+1:]
	}
	return name, keys, true
}

// parsePHP reads a query string or urlencoded body as PHP's
// php_default_treat_data does: pairs split on "&" only (empty ones
// skipped), names and values url-decoded ("+", %XX), then each name
// mangled and split into array keys (see phpName).
func parsePHP(raw string) []Field {
	var out []Field
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		n, v, _ := strings.Cut(pair, "=")
		name, keys, ok := phpName(unescape(n, true, false))
		if !ok {
			continue
		}
		out = append(out, Field{Name: name, Keys: keys, Value: unescape(v, true, false)})
	}
	return out
}
