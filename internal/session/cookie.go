package session

import "strings"

// Pair is one name=value pair of a request's Cookie header, kept as sent.
type Pair struct {
	Name  string
	Value string
	// NoEquals marks a pair sent without "=" (kept verbatim).
	NoEquals bool
}

// ParseCookieHeader splits Cookie header values into pairs, in order,
// keeping pairs net/http would reject (a name with odd bytes, a value with
// quotes) so that the header can be rebuilt with only the session guard's
// cookies changed. Written by hand because net/http's parser drops what it
// does not like, and the guard must not silently drop the site's cookies.
func ParseCookieHeader(values []string) []Pair {
	var pairs []Pair
	for _, line := range values {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, value, ok := strings.Cut(part, "=")
			pairs = append(pairs, Pair{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value), NoEquals: !ok})
		}
	}
	return pairs
}

// FormatCookieHeader joins pairs back into one Cookie header value.
func FormatCookieHeader(pairs []Pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Name)
		if !p.NoEquals {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}
