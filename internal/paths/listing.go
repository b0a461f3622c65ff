package paths

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/mamori-waf/mamori/internal/pipeline"
)

// ListingPrefix is how much of an HTML body is held back to look for a
// directory index: Apache, nginx, lighttpd, IIS and Python's http.server
// all name the directory in the first few hundred bytes.
const ListingPrefix = 2048

// listingPattern matches the titles and headings of the directory indexes
// of Apache (mod_autoindex), nginx (autoindex), lighttpd (mod_dirlisting),
// Python's http.server ("Directory listing for /") and IIS's
// "[To Parent Directory]" link.
var listingPattern = regexp.MustCompile(`(?i)<(?:title|h1)>\s*(?:index of|directory listing for) /|\[to parent directory\]`)

// IsListing reports whether the start of an HTML body is a directory index.
func IsListing(prefix []byte) bool {
	return mayList(prefix) && listingPattern.Match(prefix)
}

// listingWords are parts every match of listingPattern contains (ASCII,
// no k or s, which (?i) also matches to U+212A and U+017F).
var listingWords = [...]string{"index of", "directory li", "[to parent directory]"}

// mayList reports whether one of listingWords occurs in b (ASCII case
// folded): false means listingPattern cannot match. The regular expression
// costs tens of microseconds on every HTML page; this one pass, about a
// microsecond.
func mayList(b []byte) bool {
	for i, c := range b {
		switch c | 0x20 {
		case 'i', 'd', '[' | 0x20:
			for _, w := range listingWords {
				if len(b)-i >= len(w) && equalFoldASCII(b[i:i+len(w)], w) {
					return true
				}
			}
		}
	}
	return false
}

// equalFoldASCII reports whether b equals w (lower case) with A-Z folded.
func equalFoldASCII(b []byte, w string) bool {
	for i := 0; i < len(w); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// ListingCheck is the directory-listing check on the upstream's
// response (V6), a pipeline.ResponseCheck: it keeps a 200 HTML (or
// untyped) response back until it has seen ListingPrefix bytes of the
// body, or the whole of a shorter one, and refuses a directory index.
// Other responses it releases at once; it never keeps more than the
// prefix. One per response.
type ListingCheck struct {
	// Detect lets a directory index go (detection-only mode) with Found
	// set, for the handler's "detected" event.
	Detect bool
	// Found is set when the response is a directory index.
	Found bool

	buf []byte
}

// Head keeps a 200 response whose type is HTML (or unknown) for its body.
func (c *ListingCheck) Head(status int, h http.Header) pipeline.Hold {
	ct := strings.ToLower(h.Get("Content-Type"))
	if status == http.StatusOK && (ct == "" || strings.HasPrefix(ct, "text/html")) {
		return pipeline.Keep
	}
	return pipeline.Release
}

// Body decides once ListingPrefix bytes are in.
func (c *ListingCheck) Body(p []byte) pipeline.Hold {
	c.buf = append(c.buf, p[:min(len(p), ListingPrefix-len(c.buf))]...)
	if len(c.buf) < ListingPrefix {
		return pipeline.Keep
	}
	return c.decide()
}

// End decides on a body shorter than the prefix.
func (c *ListingCheck) End() pipeline.Hold { return c.decide() }

func (c *ListingCheck) decide() pipeline.Hold {
	c.Found = IsListing(c.buf)
	c.buf = nil
	if c.Found && !c.Detect {
		return pipeline.Refuse
	}
	return pipeline.Release
}

var _ pipeline.ResponseCheck = (*ListingCheck)(nil)
