package caddymodule

import (
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/blockpage"
	"github.com/mamori-waf/mamori/internal/events"
)

// refuseNotice is refuse with a page that tells the user what to change.
func (o *outcome) refuseNotice(w http.ResponseWriter, guard, ruleID, reason string, status int, message func(lang string) (title, text string), with ...func(*events.Event)) {
	o.refused(guard, ruleID)
	lang := blockpage.Language(o.r.Header.Get("Accept-Language"))
	title, text := message(lang)
	o.h.page.WriteNotice(w, o.r, status, o.id, lang, title, text)
	o.event(guard, events.VerdictBlocked, ruleID, reason, status, with...)
}

type replayBody struct {
	io.Reader
	io.Closer
}

// parsePasswordPolicy reads `password_policy off` or
//
//	password_policy {
//		min_length <n>
//		min_classes <1-4>
//		words <word>...
//		words_file <path>
//		min_score <0-4>
//		off
//	}
func parsePasswordPolicy(d *caddyfile.Dispenser, h *Handler) error {
	p := &h.PasswordPolicy
	if d.NextArg() {
		if d.Val() != "off" || d.NextArg() {
			return d.Errf("usage: password_policy off, or password_policy { ... }")
		}
		p.Off = true
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		args := d.RemainingArgs()
		number := func() (int, error) {
			if len(args) != 1 {
				return 0, d.Errf("password_policy: %s takes one number", option)
			}
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return 0, d.Errf("password_policy: %s: %q is not a whole number", option, args[0])
			}
			return n, nil
		}
		switch option {
		case "min_length", "min_classes", "min_score":
			n, err := number()
			if err != nil {
				return err
			}
			switch option {
			case "min_length":
				p.MinLength = n
			case "min_classes":
				p.MinClasses = n
			default:
				p.MinScore = &n
			}
			if (option == "min_length" || option == "min_classes") && n == 0 {
				return d.Errf("password_policy: %s must be at least 1", option)
			}
		case "words":
			if len(args) == 0 {
				return d.ArgErr()
			}
			p.Words = append(p.Words, args...)
		case "words_file":
			if len(args) != 1 {
				return d.ArgErr()
			}
			if _, err := os.Stat(args[0]); err != nil {
				return d.Errf("password_policy: words_file: %v", err)
			}
			p.WordsFile = args[0]
		case "off":
			if len(args) != 0 {
				return d.ArgErr()
			}
			p.Off = true
		default:
			return d.Errf("unknown password_policy option %q", option)
		}
		// Validate as we go, so an error names the option's own line.
		if _, err := p.Compile(); err != nil {
			return d.Errf("password_policy: %v", err)
		}
	}
	return nil
}
