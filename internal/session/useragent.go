package session

import (
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
)

// User-Agent binding modes (Binding.UserAgent).
const (
	// UAFamily binds to the browser family, operating system and device
	// class parsed from the User-Agent (Firefox on Linux, desktop): a
	// browser update keeps the session, another browser does not.
	UAFamily = "family"
	// UAFull binds to the exact User-Agent: a browser update logs out.
	UAFull = "full"
	// UAOff does not bind to the User-Agent.
	UAOff = "off"
)

// UABinding is how much of the User-Agent a sealed cookie is bound to:
// "family" (default), "full" or "off". In JSON, true means "full" and
// false "off", as the boolean this option used to be.
type UABinding string

// UnmarshalJSON accepts a mode or the former boolean.
func (u *UABinding) UnmarshalJSON(b []byte) error {
	switch s := strings.TrimSpace(string(b)); s {
	case "true":
		*u = UAFull
	case "false":
		*u = UAOff
	default:
		if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
			return errUABinding(s)
		}
		*u = UABinding(s[1 : len(s)-1])
	}
	return nil
}

type errUABinding string

func (e errUABinding) Error() string {
	return "bind user_agent must be family, full or off, not " + string(e)
}

// uaParser is the User-Agent parser, built once (its trie takes a moment
// and a few megabytes). medama-io/go-useragent: maintained, no regular
// expressions, ~1 µs per parse.
var uaParser = sync.OnceValue(useragent.NewParser)

// uaFamily is what family binding hashes: browser, operating system and
// device class, without versions. A User-Agent the parser does not know
// (scripts, rare browsers) is kept whole with its digits removed, so that
// version changes still do not matter and two unknown agents differ.
func uaFamily(ua string) string {
	a := uaParser().Parse(ua)
	browser := string(a.Browser())
	if browser == "" {
		return "raw:" + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, ua)
	}
	return browser + "/" + string(a.OS()) + "/" + string(a.Device())
}
